// Who you are, your role, the workspace you are in and (for those who manage it) whether the
// audit log reaches the shared server: all read from the core.
import { CAP, canInOrg } from "../capabilities";
import { pendingEvents, useSyncState } from "../components/SyncState";
import { useShell } from "../shell-context";

export function Home() {
  const { me, workspace } = useShell();
  const { state: sync } = useSyncState(canInOrg(me, CAP.settingsManage));
  return (
    <section data-testid="home">
      <h1>Welcome, {me.username}</h1>
      <dl className="facts">
        <dt>User</dt>
        <dd data-testid="home-username">{me.username}</dd>
        <dt>Organisation</dt>
        <dd data-testid="home-org">
          {me.org_name} ({me.org_role})
        </dd>
        <dt>Workspace</dt>
        <dd data-testid="home-workspace">{workspace ? workspace.name : "You are not a member of any workspace yet."}</dd>
        <dt>Role in workspace</dt>
        <dd data-testid="home-role">{workspace ? workspace.role : "—"}</dd>
        <dt>Session ends</dt>
        <dd data-testid="home-session-expiry">{new Date(me.session_expires_at).toLocaleString()}</dd>
        {sync !== null && (
          <>
            <dt>Audit sync</dt>
            <dd data-testid="home-sync">
              {sync === "not_joined"
                ? "Not joined to a shared server."
                : `${sync.online ? "Online" : "Offline"}: ${sync.url}, ${pendingEvents(sync)} events waiting.`}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
