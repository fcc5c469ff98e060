import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock("@tauri-apps/api/event", () => ({
  listen: (name: string, handler: (event: { payload: unknown }) => void) => bus.listen(name, handler),
}));

import type { ApprovalDetail, ApprovalSummary } from "../../api/approvals";
import { eventBus, person, renderInShell, workspaceAs } from "../../test-support";
import { ApprovalsScreen } from "./ApprovalsScreen";

const bus = eventBus();

function summary(id: string, overrides: Partial<ApprovalSummary> = {}): ApprovalSummary {
  return {
    id,
    status: "pending",
    tier: "critical",
    quorum: 2,
    approvals: 1,
    action: "file.write",
    requester_kind: "user",
    cannot_decide: null,
    requester_id: "u-oscar",
    on_behalf_of: "u-oscar",
    on_behalf_of_name: "oscar",
    run_id: null,
    created_at: "2026-11-27T10:00:00.000Z",
    expires_at: "2026-11-28T10:00:00.000Z",
    ms_left: 2 * 3600_000 + 5 * 60_000,
    can_decide: true,
    ...overrides,
  };
}

function detail(base: ApprovalSummary): ApprovalDetail {
  return {
    ...base,
    args: { path: "notes/x.txt", content: "new\n" },
    args_sha256: "9350333ebf59f8fb52fff721903302e5",
    reasoning: "Keep the meeting notes",
    affected: {
      kind: "file_write",
      path: "notes/x.txt",
      exists: true,
      diff: "--- a/notes/x.txt\n+++ b/notes/x.txt\n@@ -1 +1 @@\n-old\n+new\n",
    },
    reasons: ["file.write on path `notes/x.txt` (path is outside drafts/) raises the tier to high"],
    decisions: [{ decider: "ann", decision: "approve", comment: "ok by me", decided_at: "2026-11-27T10:05:00.000Z" }],
    result: null,
  };
}

describe("Approvals inbox", () => {
  let pending: ApprovalSummary[];
  let decided: ApprovalSummary[];

  beforeEach(() => {
    invoke.mockReset();
    pending = [
      summary("a-theirs", {
        can_decide: false,
        cannot_decide: "you proposed this call (or started the run that did); another person must decide it",
        action: "email.send",
        tier: "high",
        quorum: 1,
        approvals: 0,
      }),
      summary("a-mine"),
    ];
    decided = [];
    invoke.mockImplementation(async (command: string, args: { id?: string; status?: string; decision?: string; comment?: string | null; page?: { cursor?: string | null; limit?: number | null } }) => {
      switch (command) {
        case "list_approvals": {
          // Pages as the core does: `cursor` is the id of the last item shown.
          const all = args.status === "pending" ? pending : decided;
          const page = args.page ?? {};
          const start = page.cursor ? all.findIndex((a) => a.id === page.cursor) + 1 : 0;
          const items = all.slice(start, start + (page.limit ?? 50));
          const last = items[items.length - 1];
          const more = start + items.length < all.length;
          return { items, total: all.length, next_cursor: more && last ? last.id : null };
        }
        case "show_approval": {
          const found = [...pending, ...decided].find((a) => a.id === args.id);
          if (!found) throw { code: "not_found", message: "no such request" };
          return detail(found);
        }
        case "decide_approval": {
          const decidedOne: ApprovalSummary = { ...summary(args.id ?? ""), status: args.decision === "approve" ? "executed" : "rejected", can_decide: false };
          pending = pending.filter((a) => a.id !== args.id);
          decided = [decidedOne];
          return { status: decidedOne.status, approvals: 2, quorum: 2, executed: null };
        }
        default:
          throw { code: "test", message: `unexpected command ${command}` };
      }
    });
  });

  it("lists the requests you may decide first and shows one with its diff, quorum and time left", async () => {
    renderInShell(<ApprovalsScreen />, person("ann", "approver", [workspaceAs("approver")]));
    await waitFor(() => expect(screen.getAllByTestId("approval-row")).toHaveLength(2));
    expect(screen.getAllByTestId("approval-row").map((r) => r.dataset.id)).toEqual(["a-mine", "a-theirs"]);

    fireEvent.click(within(screen.getAllByTestId("approval-row")[0] as HTMLElement).getByTestId("approval-open"));
    const diff = await screen.findByTestId("approval-diff");
    const lines = within(diff).getAllByTestId("diff-line");
    expect(lines.map((l) => [l.className, l.textContent])).toEqual([
      ["diff-file", "--- a/notes/x.txt\n"],
      ["diff-file", "+++ b/notes/x.txt\n"],
      ["diff-hunk", "@@ -1 +1 @@\n"],
      ["diff-del", "-old\n"],
      ["diff-add", "+new\n"],
    ]);
    expect(screen.getByTestId("approval-quorum").textContent).toContain("1 / 2 approvals");
    expect((screen.getByTestId("approval-quorum").querySelector("progress") as HTMLProgressElement).value).toBe(1);
    expect(screen.getByTestId("approval-time-left").textContent).toBe("2 h 5 min");
    expect(screen.getByTestId("approval-reasoning").textContent).toBe("Keep the meeting notes");
    expect(screen.getByTestId("approval-reasons").textContent).toContain("outside drafts/");
    expect(screen.getByTestId("approval-decisions").textContent).toContain("ann approved");
  });

  it("approves with the comment typed and then shows the outcome and the decided history", async () => {
    renderInShell(<ApprovalsScreen />, person("ann", "approver", [workspaceAs("approver")]));
    fireEvent.click(within((await screen.findAllByTestId("approval-row"))[0] as HTMLElement).getByTestId("approval-open"));
    fireEvent.change(await screen.findByTestId("approval-comment"), { target: { value: " looks right " } });
    fireEvent.click(screen.getByTestId("approval-approve"));

    expect((await screen.findByTestId("approval-outcome")).textContent).toBe("Approved: the request is now executed.");
    expect(invoke).toHaveBeenCalledWith("decide_approval", {
      workspaceId: "ws-1",
      id: "a-mine",
      decision: "approve",
      comment: "looks right",
    });
    await waitFor(() => expect(screen.getAllByTestId("approval-row")).toHaveLength(1));
    expect(screen.getByTestId("approval-detail").dataset.status).toBe("executed");
    expect(screen.queryByTestId("approval-decision-form")).toBeNull();

    fireEvent.click(screen.getByTestId("approvals-tab-decided"));
    await waitFor(() => expect(screen.getAllByTestId("approval-row").map((r) => r.dataset.id)).toEqual(["a-mine"]));
  });

  it("rejects without a comment, and offers no decision on a request you may not decide", async () => {
    renderInShell(<ApprovalsScreen />, person("ann", "approver", [workspaceAs("approver")]));
    const rows = await screen.findAllByTestId("approval-row");
    fireEvent.click(within(rows[1] as HTMLElement).getByTestId("approval-open"));
    await waitFor(() => expect(screen.getByTestId("approval-detail").dataset.id).toBe("a-theirs"));
    expect(screen.queryByTestId("approval-decision-form")).toBeNull();
    expect((await screen.findByTestId("approval-cannot-decide")).textContent).toContain("another person must decide it");

    fireEvent.click(within(screen.getAllByTestId("approval-row")[0] as HTMLElement).getByTestId("approval-open"));
    fireEvent.click(await screen.findByTestId("approval-reject"));
    expect((await screen.findByTestId("approval-outcome")).textContent).toBe("Rejected: the request is now rejected.");
    expect(invoke).toHaveBeenCalledWith("decide_approval", { workspaceId: "ws-1", id: "a-mine", decision: "reject", comment: null });
  });

  it("shows a request filed elsewhere as soon as the shell announces it", async () => {
    pending = [];
    renderInShell(<ApprovalsScreen />, person("ann", "approver", [workspaceAs("approver")]));
    await screen.findByTestId("approvals-empty");
    await waitFor(() => expect(bus.listeners("approvals-changed")).toBe(1));
    pending = [summary("a-new", { tier: "high", quorum: 1, approvals: 0 })];
    bus.emit("approvals-changed", { pending: 1, new: ["a-new"] });
    await waitFor(() => expect(screen.getAllByTestId("approval-row").map((r) => r.dataset.id)).toEqual(["a-new"]));
  });

  it("pages a long inbox instead of stopping at the first page", async () => {
    pending = Array.from({ length: 120 }, (_, n) => summary(`a-${String(n).padStart(3, "0")}`, { can_decide: false }));
    renderInShell(<ApprovalsScreen />, person("ann", "approver", [workspaceAs("approver")]));
    await waitFor(() => expect(screen.getAllByTestId("approval-row")).toHaveLength(50));
    expect(screen.getByTestId("approvals-count").textContent).toBe("50 of 120 shown");
    fireEvent.click(screen.getByTestId("approvals-more"));
    await waitFor(() => expect(screen.getAllByTestId("approval-row")).toHaveLength(100));
    fireEvent.click(screen.getByTestId("approvals-more"));
    await waitFor(() => expect(screen.getAllByTestId("approval-row")).toHaveLength(120));
    expect(screen.queryByTestId("approvals-more")).toBeNull();
    expect(new Set(screen.getAllByTestId("approval-row").map((r) => r.dataset.id)).size).toBe(120);

    // A request filed elsewhere: the list is read again, as far as it was open, newest first.
    await waitFor(() => expect(bus.listeners("approvals-changed")).toBe(1));
    pending = [summary("a-new", { can_decide: false }), ...pending];
    bus.emit("approvals-changed", { pending: 121, new: ["a-new"] });
    await waitFor(() => expect(screen.getAllByTestId("approval-row")[0]?.dataset.id).toBe("a-new"));
    expect(screen.getAllByTestId("approval-row")).toHaveLength(120);
    expect(screen.getByTestId("approvals-count").textContent).toBe("120 of 121 shown");
  });

  it("offers standing grants only to grant.manage", async () => {
    renderInShell(<ApprovalsScreen />, person("oscar", "operator", [workspaceAs("operator")]));
    await screen.findAllByTestId("approval-row");
    expect(screen.queryByTestId("grants-panel")).toBeNull();
    expect(invoke).not.toHaveBeenCalledWith("list_grants", expect.anything());
  });
});
