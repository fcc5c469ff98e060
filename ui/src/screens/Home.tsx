// Who you are, your role, and the workspace you are in: all read from the core.
import { useShell } from "../shell-context";

export function Home() {
  const { me, workspace } = useShell();
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
      </dl>
    </section>
  );
}
