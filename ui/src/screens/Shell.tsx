// The signed-in frame: workspace switcher, navigation, key maintenance, and the current screen.
// Screens a role cannot use are not offered; the core refuses them anyway.
import { useCallback, useMemo, useState } from "react";
import { api, errorMessage, isSessionOver, type WhoAmI } from "../api";
import { KeyMaintenanceBanner, KeyMaintenanceStatus, useKeyMaintenance } from "../components/KeyMaintenance";
import { PendingBadge, usePendingApprovals } from "../components/PendingBadge";
import { OfflineBadge, useSyncState } from "../components/SyncState";
import { CAP, canInOrg } from "../capabilities";
import { OPEN_APPROVALS_EVENT, useShellEvent } from "../events";
import { visibleScreens, type ScreenId } from "../nav";
import { ShellContext, type ShellContextValue } from "../shell-context";
import { ApprovalsScreen } from "./approvals/ApprovalsScreen";
import { AuditScreen } from "./audit/AuditScreen";
import { Credentials } from "./Credentials";
import { Home } from "./Home";
import { Keys } from "./Keys";
import { Server } from "./Server";
import { MembersScreen } from "./MembersScreen";
import { PolicyScreen } from "./policy/PolicyScreen";
import { RunsScreen } from "./runs/RunsScreen";
import { ToolsScreen } from "./tools/ToolsScreen";
import { Users } from "./Users";
import { Workspaces } from "./Workspaces";

export interface ShellProps {
  me: WhoAmI;
  onSignedOut: () => void;
  /** The core ended the session (expired, disabled): back to sign-in. */
  onSessionLost: () => void;
  /** Re-reads who-am-I after a change to roles or workspaces. */
  onReload: () => Promise<void>;
}

export function Shell({ me, onSignedOut, onSessionLost, onReload }: ShellProps) {
  const [workspaceId, setWorkspaceId] = useState<string | null>(me.workspaces[0]?.id ?? null);
  const [screen, setScreen] = useState<ScreenId>("home");
  const [error, setError] = useState<string | null>(null);
  const workspace = me.workspaces.find((w) => w.id === workspaceId) ?? me.workspaces[0] ?? null;
  const items = visibleScreens(me, workspace);
  const current = items.some((i) => i.id === screen) ? screen : "home";

  const describeError = useCallback(
    (e: unknown) => {
      if (isSessionOver(e)) onSessionLost();
      return errorMessage(e);
    },
    [onSessionLost],
  );
  const refresh = useCallback(
    async (select?: string) => {
      if (select) setWorkspaceId(select);
      await onReload();
    },
    [onReload],
  );
  const context = useMemo<ShellContextValue>(
    () => ({ me, workspace, refresh, describeError }),
    [me, workspace, refresh, describeError],
  );
  const maintenance = useKeyMaintenance(describeError);
  const pending = usePendingApprovals(workspace?.id ?? null);
  const sync = useSyncState(canInOrg(me, CAP.settingsManage));
  // A click on an approval notification opens the inbox.
  useShellEvent(OPEN_APPROVALS_EVENT, () => setScreen("approvals"));

  async function signOut() {
    try {
      await api.signOut();
    } catch (e) {
      setError(errorMessage(e));
    }
    onSignedOut();
  }

  return (
    <ShellContext.Provider value={context}>
      <div className="shell">
        <nav className="sidebar" aria-label="Main">
          <div className="brand">Headmaster</div>
          <label className="switcher">
            Workspace
            <select data-testid="workspace-switcher" value={workspace?.id ?? ""} onChange={(e) => setWorkspaceId(e.target.value)}>
              {me.workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
          <ul className="nav">
            {items.map((item) => (
              <li key={item.id}>
                <button
                  className={item.id === current ? "nav-item active" : "nav-item"}
                  aria-current={item.id === current ? "page" : undefined}
                  onClick={() => setScreen(item.id)}
                  data-testid={`nav-${item.id}`}
                >
                  {item.label}
                  {item.id === "approvals" && <PendingBadge count={pending} />}
                  {item.id === "server" && <OfflineBadge state={sync.state} testid="shell-offline-badge" />}
                </button>
              </li>
            ))}
          </ul>
          <KeyMaintenanceStatus maintenance={maintenance} />
          <div className="sidebar-footer">
            <span data-testid="sidebar-user">{me.username}</span>
            <button className="link" onClick={signOut} data-testid="sign-out">
              Sign out
            </button>
          </div>
        </nav>
        <main className="content">
          {error && <p className="error">{error}</p>}
          <KeyMaintenanceBanner
            maintenance={maintenance}
            scopeName={(scope) =>
              scope === "instance" ? "the organisation" : (me.workspaces.find((w) => w.id === scope)?.name ?? `workspace ${scope}`)
            }
          />
          <CurrentScreen key={`${current}-${workspace?.id ?? ""}`} id={current} />
        </main>
      </div>
    </ShellContext.Provider>
  );
}

function CurrentScreen({ id }: { id: ScreenId }) {
  switch (id) {
    case "home":
      return <Home />;
    case "runs":
      return <RunsScreen />;
    case "approvals":
      return <ApprovalsScreen />;
    case "tools":
      return <ToolsScreen />;
    case "policy":
      return <PolicyScreen />;
    case "credentials":
      return <Credentials />;
    case "audit":
      return <AuditScreen />;
    case "workspaces":
      return <Workspaces />;
    case "members":
      return <MembersScreen />;
    case "users":
      return <Users />;
    case "server":
      return <Server />;
    case "keys":
      return <Keys />;
  }
}
