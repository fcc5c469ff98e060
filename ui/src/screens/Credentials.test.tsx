import { fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { person, renderInShell, workspaceAs } from "../test-support";
import { Credentials } from "./Credentials";

const SECRET = "s3cret-typed-by-the-admin";
/** What a broken or malicious backend might send back; the screen must not show it. */
const LEAK = "value-from-the-backend-LEAK";

describe("Credentials", () => {
  let stored: { name: string; created_at: string; updated_at: string; last_used_at: string | null; value?: string }[];

  beforeEach(() => {
    stored = [];
    invoke.mockReset();
    invoke.mockImplementation(async (command: string, args: { name: string; value: string }) => {
      switch (command) {
        case "list_credentials":
          return stored;
        case "set_credential":
          if (args.name === "bad name") throw { code: "invalid_input", message: "a credential name uses letters, digits, . _ -" };
          stored = [
            {
              name: args.name,
              created_at: "2026-11-27T10:00:00.000Z",
              updated_at: "2026-11-27T10:00:00.000Z",
              last_used_at: null,
              value: LEAK,
            },
          ];
          return null;
        case "delete_credential":
          stored = stored.filter((c) => c.name !== args.name);
          return null;
        default:
          throw { code: "test", message: `unexpected command ${command}` };
      }
    });
  });

  it("sends the value once, clears it, lists the name and never renders a value", async () => {
    const { container } = renderInShell(<Credentials />, person("alice", "admin", [workspaceAs("admin")]));
    await waitFor(() => expect(invoke).toHaveBeenCalledWith("list_credentials", { workspaceId: "ws-1" }));
    const value = screen.getByTestId("credential-value") as HTMLInputElement;
    expect(value.type).toBe("password");

    fireEvent.change(screen.getByTestId("credential-name"), { target: { value: "smtp" } });
    fireEvent.change(value, { target: { value: SECRET } });
    fireEvent.submit(screen.getByTestId("credential-form"));

    await screen.findByTestId("credential-row");
    expect(invoke).toHaveBeenCalledWith("set_credential", { workspaceId: "ws-1", name: "smtp", value: SECRET });
    expect(value.value).toBe("");
    expect(screen.getByTestId("credential-saved").textContent).toContain("Saved smtp");
    expect(container.innerHTML).not.toContain(SECRET);
    expect(container.innerHTML).not.toContain(LEAK);
    // Only the three credential commands exist for this screen; none of them returns a value.
    const commands = new Set(invoke.mock.calls.map(([command]) => command as string));
    expect([...commands].sort()).toEqual(["list_credentials", "set_credential"]);
  });

  it("clears the value after a refused save too and shows the refusal", async () => {
    renderInShell(<Credentials />, person("alice", "admin", [workspaceAs("admin")]));
    await waitFor(() => expect(invoke).toHaveBeenCalledTimes(1));
    fireEvent.change(screen.getByTestId("credential-name"), { target: { value: "bad name" } });
    fireEvent.change(screen.getByTestId("credential-value"), { target: { value: SECRET } });
    fireEvent.submit(screen.getByTestId("credential-form"));
    expect((await screen.findByTestId("credentials-error")).textContent).toContain("letters, digits");
    expect((screen.getByTestId("credential-value") as HTMLInputElement).value).toBe("");
    expect((screen.getByTestId("credential-name") as HTMLInputElement).value).toBe("bad name");
  });

  it("deletes a credential after confirmation", async () => {
    stored = [{ name: "api-token", created_at: "2026-11-27T10:00:00.000Z", updated_at: "2026-11-27T10:00:00.000Z", last_used_at: null }];
    renderInShell(<Credentials />, person("alice", "admin", [workspaceAs("admin")]));
    fireEvent.click(await screen.findByTestId("credential-delete"));
    fireEvent.click(screen.getByTestId("credential-delete-confirm"));
    await waitFor(() => expect(screen.queryByTestId("credential-row")).toBeNull());
    expect(invoke).toHaveBeenCalledWith("delete_credential", { workspaceId: "ws-1", name: "api-token" });
  });
});
