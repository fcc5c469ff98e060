// Typed calls of the audit commands. `scope` is `instance` (the organisation's chain) or a
// workspace id.
import { invoke } from "@tauri-apps/api/core";
export type { ArchiveReport, AuditEntry, AuditFilter, AuditPage, ExportReport, Source, VerifyBreak, VerifyOutcome } from "./generated";
import type { ArchiveReport, AuditFilter, AuditPage, ExportReport, VerifyOutcome } from "./generated";

/** The Audit screen's form: every text field as typed (empty means "no filter"). */
export type AuditFilterForm = Record<"since" | "until" | "actor" | "action" | "outcome" | "run", string>;

export const NO_FILTER: AuditFilterForm = { since: "", until: "", actor: "", action: "", outcome: "", run: "" };

export const auditApi = {
  query: (scope: string, filter: AuditFilter) => invoke<AuditPage>("query_audit", { scope, filter }),
  verify: (scope: string) => invoke<VerifyOutcome>("verify_audit", { scope }),
  exportBundle: (scope: string, path: string) => invoke<ExportReport>("export_audit", { scope, path }),
  archive: (scope: string) => invoke<ArchiveReport>("archive_audit", { scope }),
};
