// Typed calls of agents, runs, drafts and memory.
import { invoke } from "@tauri-apps/api/core";

export interface AgentSummary {
  id: string;
  name: string;
  provider: string;
  model: string | null;
  tools: string[];
  created_at: string;
}

export interface ExamplePlaybook {
  file: string;
  name: string;
  description: string | null;
  tools: string[];
}

export interface RunSummary {
  id: string;
  agent_id: string;
  agent_name: string;
  parent_run_id: string | null;
  status: string;
  started_by: string;
  task: string;
  steps: number;
  stalled: boolean;
  waiting_on: string | null;
  outcome: string | null;
  created_at: string;
  updated_at: string;
}

export interface RunStep {
  seq: number;
  /** `tool_call`, `decision`, `result`, `delegation`, `finish`, `error`. */
  kind: string;
  body: Record<string, unknown>;
  at: string;
}

export interface DraftSummary {
  id: string;
  key: string;
  version: number;
  title: string;
  run_id: string | null;
  author: string;
  created_at: string;
}

export interface RunDetail extends RunSummary {
  timeline: RunStep[];
  children: RunSummary[];
  drafts: DraftSummary[];
}

export interface DraftDetail {
  key: string;
  /** Newest first: each version with its body. */
  versions: [DraftSummary, string][];
}

export interface MemoryEntry {
  key: string;
  value: string;
  author: string;
  updated_at: string;
}

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
