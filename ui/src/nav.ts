// Which screens the navigation offers: each needs a capability in the current workspace or in
// the organisation, and is absent without it.
import type { WhoAmI, WorkspaceSummary } from "./api";
import { CAP, canInOrg, canInWorkspace } from "./capabilities";

export type ScreenId =
  | "home"
  | "runs"
  | "approvals"
  | "tools"
  | "policy"
  | "credentials"
  | "audit"
  | "workspaces"
  | "members"
  | "users"
  | "keys"
  | "server";

export interface NavItem {
  id: ScreenId;
  label: string;
}

export function visibleScreens(me: WhoAmI, workspace: WorkspaceSummary | null): NavItem[] {
  const items: NavItem[] = [{ id: "home", label: "Home" }];
  const reads = canInWorkspace(workspace, CAP.workspaceRead);
  if (reads) {
    items.push({ id: "runs", label: "Agents & runs" });
    items.push({ id: "approvals", label: "Approvals" });
  }
  if (canInWorkspace(workspace, CAP.toolManage)) {
    items.push({ id: "tools", label: "Tools" });
  }
  if (reads) {
    items.push({ id: "policy", label: "Policy" });
  }
  if (canInWorkspace(workspace, CAP.credentialManage)) {
    items.push({ id: "credentials", label: "Credentials" });
  }
  if ((reads && canInWorkspace(workspace, CAP.auditRead)) || canInOrg(me, CAP.orgSecurity)) {
    items.push({ id: "audit", label: "Audit" });
  }
  if (canInOrg(me, CAP.orgWorkspaces) || canInWorkspace(workspace, CAP.workspaceManage)) {
    items.push({ id: "workspaces", label: "Workspaces" });
  }
  if (reads || canInOrg(me, CAP.orgRoles)) {
    items.push({ id: "members", label: "Members & roles" });
  }
  if (canInOrg(me, CAP.orgUsers)) {
    items.push({ id: "users", label: "Users" });
  }
  if (canInOrg(me, CAP.orgSecurity) || canInWorkspace(workspace, CAP.keyManage)) {
    items.push({ id: "keys", label: "Keys & security" });
  }
  if (canInOrg(me, CAP.settingsManage)) {
    items.push({ id: "server", label: "Server" });
  }
  return items;
}
