// Capability names as the core defines them (checked against the generated `Capability` union,
// so a renamed or removed capability fails to compile), and the checks the UI uses to hide what a role
// cannot do. Hiding is a courtesy: the core refuses anyway.
import type { WhoAmI, WorkspaceSummary } from "./api";
import type { Capability } from "./api/generated";

export const CAP = {
  workspaceRead: "workspace.read",
  auditRead: "audit.read",
  auditManage: "audit.manage",
  runStart: "run.start",
  runControl: "run.control",
  memoryWrite: "memory.write",
  grantManage: "grant.manage",
  toolManage: "tool.manage",
  policyManage: "policy.manage",
  credentialManage: "credential.manage",
  agentManage: "agent.manage",
  memberManage: "member.manage",
  keyManage: "key.manage",
  workspaceManage: "workspace.manage",
  orgUsers: "org.users",
  orgWorkspaces: "org.workspaces",
  orgRoles: "org.roles",
  orgSecurity: "org.security",
  settingsManage: "settings.manage",
} as const satisfies Record<string, Capability>;

/** Whether the current workspace's role grants `capability`. */
export function canInWorkspace(workspace: WorkspaceSummary | null, capability: Capability): boolean {
  return workspace !== null && workspace.capabilities.includes(capability);
}

/** Whether the organisation role grants `capability`. */
export function canInOrg(me: WhoAmI, capability: Capability): boolean {
  return me.org_capabilities.includes(capability);
}
