// Typed calls of the audit commands. `scope` is `instance` (the organisation's chain) or a
// workspace id.
import { invoke } from "@tauri-apps/api/core";

export interface Source {
  client: string;
  host?: string;
  os_user?: string;
  ip?: string;
  user_agent?: string;
}

export interface AuditEntry {
  seq: number;
  time: string;
  actor_kind: string;
  actor_id: string;
  actor_name: string;
  action: string;
  target: string;
  outcome: string;
  source: Source;
  run_id: string;
  step_id: string;
  approval_id: string;
  payload: unknown;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `before_seq` for the next (older) page; null at the end. */
  next_before: number | null;
}

/** Empty strings mean "no filter". */
export interface AuditFilter {
  since: string;
  until: string;
  actor: string;
  action: string;
  outcome: string;
  run: string;
  limit?: number;
  before_seq?: number | null;
}

export const NO_FILTER: AuditFilter = { since: "", until: "", actor: "", action: "", outcome: "", run: "" };

export interface VerifyBreak {
  seq: number;
  kind: string;
  detail: string;
}

export interface VerifyOutcome {
  scope: string;
  valid: boolean;
  events_checked: number;
  checkpoints_checked: number;
  /** Inclusive seq ranges. */
  valid_ranges: [number, number][];
  breaks: VerifyBreak[];
  segment_problems: string[];
}

export interface ExportReport {
  path: string;
  events: number;
  seq_range: [number, number] | null;
  device_key_fingerprint: string;
}

export interface ArchiveReport {
  segments: number;
  events: number;
  cutoff: string;
}

export const auditApi = {
  query: (scope: string, filter: AuditFilter) => invoke<AuditPage>("query_audit", { scope, filter }),
  verify: (scope: string) => invoke<VerifyOutcome>("verify_audit", { scope }),
  exportBundle: (scope: string, path: string) => invoke<ExportReport>("export_audit", { scope, path }),
  archive: (scope: string) => invoke<ArchiveReport>("archive_audit", { scope }),
};
