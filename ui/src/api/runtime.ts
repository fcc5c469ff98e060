// Typed calls of agents, runs, drafts and memory.
import { invoke } from "@tauri-apps/api/core";
export type { AgentSummary, DraftDetail, DraftSummary, ExamplePlaybook, MemoryEntry, RunDetail, RunStatus, RunStep, RunSummary } from "./generated";
import type { AgentSummary, DraftDetail, DraftSummary, ExamplePlaybook, MemoryEntry, RunDetail, RunSummary } from "./generated";

const FINAL = new Set(["completed", "failed", "cancelled", "expired"]);

/** Whether a run has ended. */
export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

export const runtimeApi = {
  listAgents: (workspaceId: string) => invoke<AgentSummary[]>("list_agents", { workspaceId }),
  examples: () => invoke<ExamplePlaybook[]>("example_playbooks"),
  installExample: (workspaceId: string, file: string) => invoke<AgentSummary>("install_example_playbook", { workspaceId, file }),
  startRun: (workspaceId: string, agent: string, task: string) => invoke<RunSummary>("start_run", { workspaceId, agent, task }),
  listRuns: (workspaceId: string) => invoke<RunSummary[]>("list_runs", { workspaceId }),
  showRun: (workspaceId: string, runId: string) => invoke<RunDetail>("show_run", { workspaceId, runId }),
  cancelRun: (workspaceId: string, runId: string) => invoke<RunSummary>("cancel_run", { workspaceId, runId }),
  resumeRun: (workspaceId: string, runId: string) => invoke<RunSummary>("resume_run", { workspaceId, runId }),
  listDrafts: (workspaceId: string) => invoke<DraftSummary[]>("list_drafts", { workspaceId }),
  showDraft: (workspaceId: string, id: string) => invoke<DraftDetail>("show_draft", { workspaceId, id }),
  listMemory: (workspaceId: string) => invoke<MemoryEntry[]>("list_memory", { workspaceId }),
  writeMemory: (workspaceId: string, key: string, value: string) => invoke<void>("write_memory", { workspaceId, key, value }),
};
