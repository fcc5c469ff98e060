// Typed calls of the approvals inbox and standing grants.
import { invoke } from "@tauri-apps/api/core";

export interface ApprovalSummary {
  id: string;
  /** `pending`, `approved`, `rejected`, `expired`, `executing`, `executed`, `failed`. */
  status: string;
  tier: string;
  quorum: number;
  approvals: number;
  action: string;
  requester_kind: "user" | "agent" | string;
  requester_id: string;
  on_behalf_of: string;
  on_behalf_of_name: string;
  run_id: string | null;
  created_at: string;
  expires_at: string;
  ms_left: number;
  /** Whether the signed-in person may decide it now. */
  can_decide: boolean;
}

export interface DecisionRecord {
  decider: string;
  decision: "approve" | "reject" | string;
  comment: string | null;
  decided_at: string;
}

export interface ApprovalDetail extends ApprovalSummary {
  args: unknown;
  args_sha256: string;
  reasoning: string | null;
  /** Affected resources, tagged by `kind` (file_write, email, http, shell, …). */
  affected: Record<string, unknown>;
  reasons: string[];
  decisions: DecisionRecord[];
  result: unknown;
}

export interface DecisionResult {
  status: string;
  approvals: number;
  quorum: number;
  executed: unknown;
}

export interface GrantSummary {
  id: string;
  action: string;
  principal: string;
  args: unknown;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  active: boolean;
}

export interface GrantInput {
  action: string;
  /** A username, or `agent:<agent id>`. */
  principal: string;
  /** Per argument: exact JSON or text, or `like:GLOB`. */
  args: Record<string, string>;
  minutes: number;
}

export type Decision = "approve" | "reject";
export type ApprovalStatusFilter = "pending" | "decided" | "all";

export const approvalsApi = {
  list: (workspaceId: string, status: ApprovalStatusFilter) =>
    invoke<ApprovalSummary[]>("list_approvals", { workspaceId, status }),
  show: (workspaceId: string, id: string) => invoke<ApprovalDetail>("show_approval", { workspaceId, id }),
  decide: (workspaceId: string, id: string, decision: Decision, comment: string | null) =>
    invoke<DecisionResult>("decide_approval", { workspaceId, id, decision, comment }),
  listGrants: (workspaceId: string) => invoke<GrantSummary[]>("list_grants", { workspaceId }),
  createGrant: (workspaceId: string, grant: GrantInput) => invoke<GrantSummary>("create_grant", { workspaceId, grant }),
  revokeGrant: (workspaceId: string, id: string) => invoke<void>("revoke_grant", { workspaceId, id }),
};
