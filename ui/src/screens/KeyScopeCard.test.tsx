import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
const handlers: ((event: { payload: unknown }) => void)[] = [];
const listen = vi.fn(async (_event: string, handler: (event: { payload: unknown }) => void, _options?: unknown) => {
  handlers.push(handler);
  return () => {
    handlers.splice(handlers.indexOf(handler), 1);
  };
});
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock("@tauri-apps/api/event", () => ({
  listen: (event: string, handler: (event: { payload: unknown }) => void, options?: unknown) =>
    listen(event, handler, options),
}));

import type { RotationReport, ScopeStatus } from "../api";
import { KeyScopeCard } from "./KeyScopeCard";
import { person, renderInShell, workspaceAs } from "../test-support";

const SCOPE: ScopeStatus = {
  scope: "instance",
  name: "Organisation",
  versions: [
    { purpose: "data", version: 1, state: "active", rows: 4, encryptions: 9, created_at: "2026-01-01T00:00:00Z", retired_at: null },
    { purpose: "audit", version: 1, state: "active", rows: null, encryptions: 30, created_at: "2026-01-01T00:00:00Z", retired_at: null },
  ],
  last_rotation: null,
  rotation_pending: false,
  rotation_due: true,
};

function emit(scope: string, done: number, total: number) {
  act(() => {
    for (const handler of [...handlers]) handler({ payload: { scope, done, total } });
  });
}

describe("KeyScopeCard", () => {
  beforeEach(() => {
    invoke.mockReset();
    listen.mockClear();
    handlers.length = 0;
  });

  it("draws live rotation progress for its own scope, then the rotation's result", async () => {
    let finish: (report: RotationReport) => void = () => undefined;
    invoke.mockImplementation((command: string) =>
      command === "rotate_keys" ? new Promise<RotationReport>((resolve) => (finish = resolve)) : Promise.reject(command),
    );
    const onChanged = vi.fn(async () => undefined);
    renderInShell(<KeyScopeCard scope={SCOPE} onChanged={onChanged} />, person("alice", "admin", [workspaceAs("admin")]));
    expect(screen.getByTestId("key-due")).toBeTruthy();
    await waitFor(() => expect(handlers).toHaveLength(1));
    // Progress is addressed to this window only, so the listener names it.
    expect(listen).toHaveBeenCalledWith("key-rotation-progress", expect.any(Function), { target: "main" });

    fireEvent.click(screen.getByTestId("key-rotate"));
    expect(invoke).toHaveBeenCalledWith("rotate_keys", { scope: "instance" });
    expect((screen.getByTestId("key-rotate") as HTMLButtonElement).disabled).toBe(true);

    emit("instance", 0, 4);
    expect(screen.getByTestId("rotation-progress-text").textContent).toBe("0 / 4 rows re-encrypted");
    expect(screen.getByTestId("rotation-progress").dataset.complete).toBe("false");
    emit("some-other-workspace", 7, 9);
    expect(screen.getByTestId("rotation-progress-text").textContent).toBe("0 / 4 rows re-encrypted");
    emit("instance", 4, 4);
    const bar = screen.getByRole("progressbar") as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([4, 4]);
    expect(screen.getByTestId("rotation-progress").dataset.complete).toBe("true");

    await act(async () => finish({ scope: "instance", data_version: 2, rows_reencrypted: 4, retired: [], awaiting_retirement: [1] }));
    expect(screen.getByTestId("rotation-result").textContent).toBe(
      "Now on data key v2: 4 rows re-encrypted; destroyed none; awaiting retirement after the 15 s grace: v1.",
    );
    expect(onChanged).toHaveBeenCalledTimes(1);
    expect((screen.getByTestId("key-rotate") as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows a refused rotation's error and does not reload", async () => {
    invoke.mockRejectedValue({ code: "forbidden", message: "permission denied: keys.rotate needs the `org.security` capability" });
    const onChanged = vi.fn(async () => undefined);
    renderInShell(<KeyScopeCard scope={SCOPE} onChanged={onChanged} />, person("alice", "admin", [workspaceAs("admin")]));
    fireEvent.click(screen.getByTestId("key-rotate"));
    expect((await screen.findByTestId("key-scope-error")).textContent).toContain("keys.rotate needs the `org.security`");
    expect(screen.queryByTestId("rotation-result")).toBeNull();
    expect(onChanged).not.toHaveBeenCalled();
  });

  it("lists each version with its row count", () => {
    renderInShell(<KeyScopeCard scope={SCOPE} onChanged={vi.fn(async () => undefined)} />, person("alice", "admin", []));
    const rows = screen.getAllByTestId("key-version");
    expect(rows.map((r) => [r.dataset.purpose, r.dataset.version, r.dataset.state])).toEqual([
      ["data", "1", "active"],
      ["audit", "1", "active"],
    ]);
    expect(screen.getAllByTestId("key-version-rows").map((c) => c.textContent)).toEqual(["4", "—"]);
  });
});
