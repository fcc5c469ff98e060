// Typed calls of the approvals inbox and standing grants.
import { invoke } from "@tauri-apps/api/core";
export type {
  ApprovalDecision,
  ApprovalDetail,
  ApprovalStatus,
  ApprovalSummary,
  DecisionRecord,
  DecisionResult,
  GrantInput,
  GrantSummary,
  Page,
  PageRequest,
} from "./generated";
import type { ApprovalDecision, ApprovalDetail, ApprovalSummary, DecisionResult, GrantInput, GrantSummary, Page, PageRequest } from "./generated";

/** One page of the inbox. */
export type ApprovalPage = Page<ApprovalSummary>;
/** One page of standing grants. */
export type GrantPage = Page<GrantSummary>;

export type Decision = ApprovalDecision;
export type ApprovalStatusFilter = "pending" | "decided" | "all";

export const approvalsApi = {
  /** One page of requests, newest first; `page.cursor` is the previous page's `next_cursor`. */
  list: (workspaceId: string, status: ApprovalStatusFilter, page: PageRequest = {}) =>
    invoke<ApprovalPage>("list_approvals", { workspaceId, status, page }),
  /** Every page, for counts that must not stop at one page (the navigation badge). */
  listAll: async (workspaceId: string, status: ApprovalStatusFilter) => {
    const items = [];
    let page: PageRequest = { limit: 200 };
    for (;;) {
      const found = await approvalsApi.list(workspaceId, status, page);
      items.push(...found.items);
      if (!found.next_cursor) return items;
      page = { cursor: found.next_cursor, limit: 200 };
    }
  },
  show: (workspaceId: string, id: string) => invoke<ApprovalDetail>("show_approval", { workspaceId, id }),
  decide: (workspaceId: string, id: string, decision: Decision, comment: string | null) =>
    invoke<DecisionResult>("decide_approval", { workspaceId, id, decision, comment }),
  listGrants: (workspaceId: string, page: PageRequest = {}) => invoke<GrantPage>("list_grants", { workspaceId, page }),
  createGrant: (workspaceId: string, grant: GrantInput) => invoke<GrantSummary>("create_grant", { workspaceId, grant }),
  revokeGrant: (workspaceId: string, id: string) => invoke<void>("revoke_grant", { workspaceId, id }),
};
