import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock("@tauri-apps/api/event", () => ({
  listen: (name: string, handler: (event: { payload: unknown }) => void) => bus.listen(name, handler),
}));

import { Shell } from "./Shell";
import { eventBus, person, workspaceAs } from "../test-support";

const bus = eventBus();

function routes(table: Record<string, () => Promise<unknown>>) {
  invoke.mockImplementation((command: string) => {
    const handler = table[command];
    return handler ? handler() : Promise.reject({ code: "test", message: `unexpected command ${command}` });
  });
}

function renderShell(me: ReturnType<typeof person>, onSessionLost = vi.fn()) {
  render(<Shell me={me} onSignedOut={vi.fn()} onSessionLost={onSessionLost} onReload={vi.fn(async () => undefined)} />);
  return { onSessionLost };
}

describe("Shell", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("shows an Operator no administrative navigation", async () => {
    routes({ maintain_keys: async () => ({ pass: 1, reports: [] }) });
    renderShell(person("oscar", "operator", [workspaceAs("operator")]));
    expect(screen.getByTestId("nav-home")).toBeTruthy();
    expect(screen.getByTestId("nav-members")).toBeTruthy();
    for (const hidden of ["nav-users", "nav-keys", "nav-workspaces", "nav-tools", "nav-credentials"]) {
      expect(screen.queryByTestId(hidden)).toBeNull();
    }
    await waitFor(() => expect(screen.getByTestId("key-maintenance").dataset.state).toBe("done"));
  });

  it("shows an Admin every screen and opens the one clicked", async () => {
    routes({
      maintain_keys: async () => ({ pass: 1, reports: [] }),
      list_users: async () => [{ id: "u1", username: "alice", org_role: "Admin", disabled: false, locked: false }],
    });
    renderShell(person("alice", "admin", [workspaceAs("admin")]));
    for (const shown of ["nav-home", "nav-runs", "nav-approvals", "nav-tools", "nav-policy", "nav-credentials", "nav-audit", "nav-workspaces", "nav-members", "nav-users", "nav-keys"]) {
      expect(screen.getByTestId(shown)).toBeTruthy();
    }
    fireEvent.click(screen.getByTestId("nav-users"));
    expect(await screen.findByTestId("user-row")).toHaveProperty("dataset.username", "alice");
    expect(invoke).toHaveBeenCalledWith("list_users");
  });

  it("runs key maintenance once and shows its error verbatim", async () => {
    routes({ maintain_keys: async () => Promise.reject({ code: "decrypt_failed", message: "a key could not be opened" }) });
    renderShell(person("alice", "admin", [workspaceAs("admin")]));
    const banner = await screen.findByTestId("key-maintenance-error");
    expect(banner.textContent).toContain("Key maintenance failed: a key could not be opened");
    expect(screen.getByTestId("key-maintenance").dataset.state).toBe("failed");
    expect(invoke.mock.calls.filter(([c]) => c === "maintain_keys")).toHaveLength(1);
  });

  it("reports what maintenance rotated, by scope name", async () => {
    routes({
      maintain_keys: async () => ({
        pass: 1,
        reports: [
          { scope: "instance", data_version: 2, rows_reencrypted: 5, retired: [1], awaiting_retirement: [] },
          { scope: "ws-1", data_version: 3, rows_reencrypted: 0, retired: [], awaiting_retirement: [2] },
        ],
      }),
    });
    renderShell(person("alice", "admin", [workspaceAs("admin")]));
    const items = (await screen.findByTestId("key-maintenance-report")).querySelectorAll("li");
    expect([...items].map((li) => li.textContent)).toEqual([
      "Keys of the organisation rotated to v2: 5 rows re-encrypted, destroyed v1.",
      "Keys of Acme Corp rotated to v3: 0 rows re-encrypted, destroyed none.",
    ]);
  });

  it("badges Approvals with the pending requests the signed-in person may decide", async () => {
    const request = (id: string, can_decide: boolean) => ({ id, can_decide, status: "pending" });
    routes({
      maintain_keys: async () => ({ pass: 1, reports: [] }),
      list_approvals: async () => ({ items: [request("a", true), request("b", false), request("c", true)], total: 3, next_cursor: null }),
    });
    renderShell(person("ann", "approver", [workspaceAs("approver")]));
    expect((await screen.findByTestId("approvals-badge")).textContent).toBe("2");
    expect(invoke).toHaveBeenCalledWith("list_approvals", { workspaceId: "ws-1", status: "pending", page: { limit: 200 } });
  });

  it("opens the inbox when an approval notification is clicked", async () => {
    routes({ maintain_keys: async () => ({ pass: 1, reports: [] }), list_approvals: async () => ({ items: [], total: 0, next_cursor: null }) });
    renderShell(person("ann", "approver", [workspaceAs("approver")]));
    expect(screen.getByTestId("home")).toBeTruthy();
    await waitFor(() => expect(bus.listeners("open-approvals")).toBe(1));
    bus.emit("open-approvals", null);
    expect(await screen.findByTestId("approvals-screen")).toBeTruthy();
    expect(screen.getByTestId("nav-approvals").getAttribute("aria-current")).toBe("page");
  });

  it("goes back to sign-in when the core says the session is over", async () => {
    routes({ maintain_keys: async () => Promise.reject({ code: "session_expired", message: "your session has expired" }) });
    const { onSessionLost } = renderShell(person("alice", "admin", [workspaceAs("admin")]));
    await waitFor(() => expect(onSessionLost).toHaveBeenCalled());
  });
});
