import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock("@tauri-apps/api/event", () => ({
  listen: (name: string, handler: (event: { payload: unknown }) => void) => bus.listen(name, handler),
}));

import type { AuditEntry, AuditFilter, VerifyOutcome } from "../../api/audit";
import { eventBus, person, renderInShell, workspaceAs } from "../../test-support";
import { defaultBundlePath } from "./AuditExport";
import { toRfc3339 } from "./AuditFilters";
import { PAGE_SIZE } from "./AuditLog";
import { AuditScreen } from "./AuditScreen";

const bus = eventBus();

function entry(seq: number, actor: string, action = "auth.sign_in"): AuditEntry {
  return {
    seq,
    time: "2026-11-27T10:00:00.000Z",
    actor_kind: "user",
    actor_id: `id-${actor}`,
    actor_name: actor,
    action,
    target: "t",
    outcome: "allowed",
    source: { client: "desktop", host: "vm", os_user: "root" },
    run_id: "",
    step_id: "",
    approval_id: "",
    payload: { session_id: `s-${seq}` },
  };
}

/** Every event of the fake chain, newest first. */
const CHAIN = Array.from({ length: 70 }, (_, i) => entry(70 - i, i % 2 === 0 ? "alice" : "oscar"));

function page(filter: AuditFilter) {
  const matching = CHAIN.filter((e) => !filter.actor || e.actor_name === filter.actor).filter(
    (e) => filter.before_seq == null || e.seq < filter.before_seq,
  );
  const entries = matching.slice(0, filter.limit ?? 100);
  return { entries, next_before: matching.length > entries.length ? (entries[entries.length - 1]?.seq ?? null) : null };
}

describe("Audit screen", () => {
  beforeEach(() => {
    invoke.mockReset();
    invoke.mockImplementation(async (command: string, args: { filter: AuditFilter }) => {
      switch (command) {
        case "query_audit":
          return page(args.filter);
        case "app_status":
          return { state: "signed_in", protection: "keychain", org_name: "Acme Corp", home: "/data/hm" };
        default:
          throw { code: "test", message: `unexpected command ${command}` };
      }
    });
  });

  it("filters by actor, pages back and forth by next_before, and opens a row's details", async () => {
    renderInShell(<AuditScreen />, person("alice", "admin", [workspaceAs("admin")]));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")).toHaveLength(PAGE_SIZE));
    expect(invoke).toHaveBeenCalledWith("query_audit", {
      scope: "ws-1",
      filter: { since: "", until: "", actor: "", action: "", outcome: "", run: "", limit: PAGE_SIZE, before_seq: null },
    });

    fireEvent.change(screen.getByTestId("audit-filter-actor"), { target: { value: " oscar " } });
    fireEvent.change(screen.getByTestId("audit-filter-outcome"), { target: { value: "allowed" } });
    fireEvent.click(screen.getByTestId("audit-filter-apply"));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")).toHaveLength(35));
    expect(screen.getAllByTestId("audit-row").every((r) => r.dataset.actor === "oscar")).toBe(true);
    expect(invoke).toHaveBeenLastCalledWith("query_audit", {
      scope: "ws-1",
      filter: { since: "", until: "", actor: "oscar", action: "", outcome: "allowed", run: "", limit: PAGE_SIZE, before_seq: null },
    });
    expect((screen.getByTestId("audit-older") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(screen.getByTestId("audit-filter-reset"));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")).toHaveLength(PAGE_SIZE));
    fireEvent.click(screen.getByTestId("audit-older"));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")).toHaveLength(70 - PAGE_SIZE));
    expect(screen.getAllByTestId("audit-row")[0]?.dataset.seq).toBe(String(70 - PAGE_SIZE));
    expect(screen.getByTestId("audit-page").textContent).toBe("Page 2");
    fireEvent.click(screen.getByTestId("audit-newer"));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")[0]?.dataset.seq).toBe("70"));

    fireEvent.click(within(screen.getAllByTestId("audit-row")[0] as HTMLElement).getByTestId("audit-expand"));
    expect(screen.getByTestId("audit-payload").textContent).toContain('"session_id": "s-70"');
    expect(screen.getByTestId("audit-source").textContent).toBe("desktop · root · vm");
  });

  it("verifies with live progress and reports the first break", async () => {
    let finish: (outcome: VerifyOutcome) => void = () => undefined;
    const base = invoke.getMockImplementation();
    invoke.mockImplementation((command: string, args: never) =>
      command === "verify_audit" ? new Promise<VerifyOutcome>((resolve) => (finish = resolve)) : base?.(command, args),
    );
    renderInShell(<AuditScreen />, person("alice", "admin", [workspaceAs("admin")]));
    await waitFor(() => expect(bus.listeners("audit-progress")).toBeGreaterThanOrEqual(2));
    fireEvent.click(screen.getByTestId("audit-verify"));
    expect(invoke).toHaveBeenCalledWith("verify_audit", { scope: "ws-1" });

    bus.emit("audit-progress", { operation: "verify", scope: "ws-1", done: 20, total: 70 });
    bus.emit("audit-progress", { operation: "export", scope: "ws-1", done: 70, total: 70 });
    expect(screen.getByTestId("audit-verify-progress-text").textContent).toBe("20 / 70 events checked");
    expect(screen.queryByTestId("audit-export-progress")?.dataset.complete).toBe("true");
    bus.emit("audit-progress", { operation: "verify", scope: "ws-1", done: 70, total: 70 });
    expect(screen.getByTestId("audit-verify-progress").dataset.complete).toBe("true");

    finish({
      scope: "ws-1",
      valid: false,
      events_checked: 70,
      checkpoints_checked: 1,
      valid_ranges: [[1, 41]],
      breaks: [{ seq: 42, kind: "hash_mismatch", detail: "the stored hash does not match the event" }],
      segment_problems: [],
    });
    const result = await screen.findByTestId("audit-verify-result");
    expect(result.dataset.valid).toBe("false");
    expect(screen.getByTestId("audit-verify-ranges").textContent).toBe("Valid ranges: 1–41");
    expect(screen.getByTestId("audit-verify-first-break").textContent).toBe(
      "First break at seq 42 (hash_mismatch): the stored hash does not match the event",
    );
  });

  it("offers the organisation's chain to org.security and export only to audit.manage", async () => {
    renderInShell(<AuditScreen />, person("oscar", "operator", [workspaceAs("operator")]));
    await screen.findAllByTestId("audit-row");
    expect([...(screen.getByTestId("audit-scope") as HTMLSelectElement).options].map((o) => o.value)).toEqual(["ws-1"]);
    expect(screen.queryByTestId("audit-export-panel")).toBeNull();
    expect(screen.getByTestId("audit-verify")).toBeTruthy();
  });

  it("proposes a new bundle folder in the data directory and sends the path typed", async () => {
    const admin = person("alice", "admin", [workspaceAs("admin")]);
    renderInShell(<AuditScreen />, admin);
    fireEvent.change(screen.getByTestId("audit-scope"), { target: { value: "instance" } });
    const path = screen.getByTestId("audit-export-path") as HTMLInputElement;
    await waitFor(() => expect(path.value).toMatch(/^\/data\/hm\/audit-organisation-\d{8}-\d{6}$/));
    expect(defaultBundlePath("/data/hm/", "0194-ws", new Date("2026-11-27T13:05:09.123Z"))).toBe(
      "/data/hm/audit-0194-ws-20261127-130509",
    );
    expect(toRfc3339("")).toBe("");
    expect(toRfc3339("2026-11-27T13:05")).toBe(new Date("2026-11-27T13:05").toISOString());
  });
});
