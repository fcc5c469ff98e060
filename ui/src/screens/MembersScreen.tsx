// Members & roles: the current workspace's members (listing needs workspace.read, changes need
// member.manage) and the organisation's custom roles (org.roles). A member manager without
// org.roles still gets the custom roles to pick from, through the workspace.
import { useCallback, useEffect, useState } from "react";
import { api, type RoleSummary } from "../api";
import { CAP, canInOrg, canInWorkspace } from "../capabilities";
import { useShell } from "../shell-context";
import { CustomRoles } from "./CustomRoles";
import { MemberList } from "./MemberList";

/** The built-in roles, offered when the caller may not list the organisation's custom roles. */
export const BUILTIN_ROLES: RoleSummary[] = [
  { id: "viewer", name: "Viewer", builtin: true, capabilities: [] },
  { id: "operator", name: "Operator", builtin: true, capabilities: [] },
  { id: "approver", name: "Approver", builtin: true, capabilities: [] },
  { id: "admin", name: "Admin", builtin: true, capabilities: [] },
];

export function MembersScreen() {
  const { me, workspace, describeError } = useShell();
  const canListRoles = canInOrg(me, CAP.orgRoles);
  const managedWorkspace =
    workspace && canInWorkspace(workspace, CAP.memberManage) ? workspace.id : null;
  const [roles, setRoles] = useState<RoleSummary[]>(BUILTIN_ROLES);
  const [error, setError] = useState<string | null>(null);

  const loadRoles = useCallback(async () => {
    try {
      if (canListRoles) {
        setRoles(await api.listRoles());
      } else if (managedWorkspace) {
        setRoles(await api.assignableRoles(managedWorkspace));
      }
    } catch (e) {
      setError(describeError(e));
    }
  }, [canListRoles, managedWorkspace, describeError]);

  useEffect(() => {
    void loadRoles();
  }, [loadRoles]);

  return (
    <section data-testid="members-screen">
      <h1>Members &amp; roles</h1>
      {error && (
        <p className="error" role="alert" data-testid="roles-load-error">
          {error}
        </p>
      )}
      {workspace && canInWorkspace(workspace, CAP.workspaceRead) && (
        <MemberList
          key={workspace.id}
          workspaceId={workspace.id}
          roles={roles}
          canManage={canInWorkspace(workspace, CAP.memberManage)}
        />
      )}
      {canListRoles && <CustomRoles roles={roles} onChanged={loadRoles} />}
    </section>
  );
}
