import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock("@tauri-apps/api/event", () => ({
  listen: (name: string, handler: (event: { payload: unknown }) => void) => bus.listen(name, handler),
}));

import type { RunDetail, RunStatus, RunStep, RunSummary } from "../../api/runtime";
import { eventBus, person, renderInShell, workspaceAs } from "../../test-support";
import { RunsScreen } from "./RunsScreen";

const bus = eventBus();

function run(status: RunStatus, steps: RunStep[]): RunDetail {
  const summary: RunSummary = {
    id: "r-1",
    agent_id: "ag-1",
    agent_name: "weekly-client-update",
    parent_run_id: null,
    status,
    started_by: "oscar",
    task: "Client Co",
    steps: steps.filter((s) => s.kind === "tool_call").length,
    stalled: false,
    waiting_on: status === "waiting_approval" ? "ap-1" : null,
    outcome: status === "completed" ? "Update for Client Co drafted and sent." : null,
    created_at: "2026-11-27T10:00:00.000Z",
    updated_at: "2026-11-27T10:00:01.000Z",
  };
  return {
    ...summary,
    timeline: steps,
    children: [],
    drafts: [{ id: "d-1", key: "weekly-update", version: 1, title: "Weekly update", run_id: "r-1", author: "agent:ag-1", created_at: summary.created_at }],
  };
}

const AT = "2026-11-27T10:00:00.000Z";
const WAITING: RunStep[] = [
  { seq: 1, kind: "tool_call", at: AT, body: { step: "notes", action: "memory.read", args: { key: "client-notes" }, reasoning: "Load the notes" } },
  { seq: 2, kind: "result", at: AT, body: { step: "notes", status: "executed", output: { value: "Shipped v2" }, reason: null } },
  { seq: 3, kind: "tool_call", at: AT, body: { step: "send", action: "email.send", args: { to: ["carol@client.test"] }, reasoning: "Send it" } },
  { seq: 4, kind: "decision", at: AT, body: { step: "send", approval_id: "ap-1", tier: "high", quorum: 1, status: "pending" } },
];
const DONE: RunStep[] = [
  ...WAITING,
  { seq: 5, kind: "decision", at: AT, body: { step: "send", approval_id: "ap-1", status: "approved" } },
  { seq: 6, kind: "result", at: AT, body: { step: "send", status: "executed", output: { recipients: 1 }, reason: null } },
  { seq: 7, kind: "finish", at: AT, body: { summary: "Update for Client Co drafted and sent." } },
];

describe("Agents & runs", () => {
  let current: RunDetail;

  beforeEach(() => {
    current = run("waiting_approval", WAITING);
    invoke.mockReset();
    invoke.mockImplementation(async (command: string, args: { file?: string }) => {
      switch (command) {
        case "list_agents":
          return [{ id: "ag-1", name: "weekly-client-update", provider: "playbook", model: null, tools: ["email.send"], created_at: AT }];
        case "example_playbooks":
          return [
            { file: "weekly-client-update.toml", name: "weekly-client-update", description: null, tools: [] },
            { file: "triage-folder.toml", name: "triage-folder", description: "Triage", tools: [] },
          ];
        case "install_example_playbook":
          return { id: "ag-2", name: "triage-folder", provider: "playbook", model: null, tools: [], created_at: AT };
        case "list_runs":
          return [current];
        case "show_run":
          return current;
        case "start_run":
          return { ...current, status: "queued" };
        case "list_memory":
          return [];
        case "cancel_run":
          current = run("cancelled", WAITING);
          return current;
        default:
          throw { code: "test", message: `unexpected command ${command} ${JSON.stringify(args)}` };
      }
    });
  });

  it("starts a run and follows its timeline live through run-updated events", async () => {
    renderInShell(<RunsScreen />, person("oscar", "admin", [workspaceAs("admin")]));
    fireEvent.change(await screen.findByTestId("run-task"), { target: { value: "Client Co" } });
    fireEvent.submit(screen.getByTestId("run-start-form"));
    const detail = await screen.findByTestId("run-detail");
    expect(invoke).toHaveBeenCalledWith("start_run", { workspaceId: "ws-1", agent: "weekly-client-update", task: "Client Co" });
    await waitFor(() => expect(detail.dataset.status).toBe("waiting_approval"));
    const steps = within(screen.getByTestId("run-timeline")).getAllByTestId("timeline-step");
    expect(steps.map((s) => s.dataset.kind)).toEqual(["tool_call", "result", "tool_call", "decision"]);
    expect(steps[0]?.textContent).toContain("Proposes memory.read — Load the notes");
    expect(steps[3]?.textContent).toContain("Approval pending (high, needs 1)");

    current = run("completed", DONE);
    bus.emit("run-updated", { workspace_id: "ws-1", run_id: "r-1", status: "completed" });
    await waitFor(() => expect(screen.getByTestId("run-detail").dataset.status).toBe("completed"));
    const last = within(screen.getByTestId("run-timeline")).getAllByTestId("timeline-step").at(-1);
    expect(last?.dataset.kind).toBe("finish");
    expect(screen.getByTestId("run-outcome").textContent).toBe("Update for Client Co drafted and sent.");
    expect(screen.queryByTestId("run-cancel")).toBeNull();
    expect(screen.getAllByTestId("run-row")[0]?.dataset.status).toBe("completed");
  });

  it("cancels an unfinished run with run.control and installs the examples not yet installed", async () => {
    renderInShell(<RunsScreen />, person("alice", "admin", [workspaceAs("admin")]));
    const installs = await screen.findAllByTestId("install-example");
    expect(installs.map((b) => b.dataset.name)).toEqual(["triage-folder"]);
    fireEvent.click(installs[0] as HTMLElement);
    await waitFor(() => expect(invoke).toHaveBeenCalledWith("install_example_playbook", { workspaceId: "ws-1", file: "triage-folder.toml" }));

    fireEvent.click(within((await screen.findAllByTestId("run-row"))[0] as HTMLElement).getByTestId("run-open"));
    fireEvent.click(await screen.findByTestId("run-cancel"));
    await waitFor(() => expect(screen.getByTestId("run-detail").dataset.status).toBe("cancelled"));
    expect(invoke).toHaveBeenCalledWith("cancel_run", { workspaceId: "ws-1", runId: "r-1" });
  });

  it("shows a Viewer the runs without start, install or control", async () => {
    renderInShell(<RunsScreen />, person("vera", "viewer", [workspaceAs("viewer")]));
    fireEvent.click(within((await screen.findAllByTestId("run-row"))[0] as HTMLElement).getByTestId("run-open"));
    await screen.findByTestId("run-detail");
    for (const absent of ["run-start-form", "install-example", "run-cancel", "run-resume", "memory-form"]) {
      expect(screen.queryByTestId(absent)).toBeNull();
    }
    expect(invoke).not.toHaveBeenCalledWith("example_playbooks");
  });
});
