// Typed calls of the tools, policy and credential commands of a workspace.
import { invoke } from "@tauri-apps/api/core";
import type { AuditEntry } from "./audit";
export type { CredentialSummary, EmailConfig, ExpiryConfig, HttpConfig, RuleSummary, ShellSettings, Tier, ToolConfig, ToolStatus, ToolsOverview } from "./generated";
import type { CredentialSummary, ExpiryConfig, RuleSummary, Tier, ToolsOverview } from "./generated";

export const TIERS: Tier[] = ["low", "medium", "high", "critical"];

/** The core's defaults until an Admin changes them. */
export const DEFAULT_EXPIRY: ExpiryConfig = { medium_minutes: 240, high_minutes: 1440, critical_minutes: 1440 };

export interface Setting {
  key: string;
  value: string;
}

export const toolsApi = {
  list: (workspaceId: string) => invoke<ToolsOverview>("list_tools", { workspaceId }),
  enable: (workspaceId: string, target: string) => invoke<void>("enable_tool", { workspaceId, target, tier: null }),
  disable: (workspaceId: string, target: string) => invoke<void>("disable_tool", { workspaceId, target }),
  setTier: (workspaceId: string, target: string, tier: Tier) => invoke<void>("set_tool_tier", { workspaceId, target, tier }),
  configure: (workspaceId: string, tool: string, settings: Setting[]) =>
    invoke<void>("configure_tool", { workspaceId, tool, settings }),
  addRule: (workspaceId: string, text: string) => invoke<RuleSummary>("add_rule", { workspaceId, text }),
  removeRule: (workspaceId: string, id: string) => invoke<void>("remove_rule", { workspaceId, id }),
  setOwnDomains: (workspaceId: string, domains: string[]) => invoke<void>("set_own_domains", { workspaceId, domains }),
  setExpiry: (workspaceId: string, expiry: ExpiryConfig) => invoke<void>("set_approval_expiry", { workspaceId, expiry }),
  history: (workspaceId: string) => invoke<AuditEntry[]>("policy_history", { workspaceId }),
};

export const credentialsApi = {
  list: (workspaceId: string) => invoke<CredentialSummary[]>("list_credentials", { workspaceId }),
  /** The value goes in; nothing comes back. */
  set: (workspaceId: string, name: string, value: string) => invoke<void>("set_credential", { workspaceId, name, value }),
  remove: (workspaceId: string, name: string) => invoke<void>("delete_credential", { workspaceId, name }),
};
