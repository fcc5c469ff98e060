// The signed-in frame: workspace switcher, navigation, and the current screen. Screens a role
// cannot use are not offered; the core refuses them anyway.
import { useState } from "react";
import { api, errorMessage, type WhoAmI } from "../api";
import { Home } from "./Home";

export interface ShellProps {
  me: WhoAmI;
  onSignedOut: () => void;
  onSessionLost: () => void;
}

export function Shell({ me, onSignedOut }: ShellProps) {
  const [workspaceId, setWorkspaceId] = useState<string | null>(me.workspaces[0]?.id ?? null);
  const [error, setError] = useState<string | null>(null);
  const workspace = me.workspaces.find((w) => w.id === workspaceId) ?? null;

  async function signOut() {
    try {
      await api.signOut();
    } catch (e) {
      setError(errorMessage(e));
    }
    onSignedOut();
  }

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Headmaster</div>
        <label className="switcher">
          Workspace
          <select
            data-testid="workspace-switcher"
            value={workspaceId ?? ""}
            onChange={(e) => setWorkspaceId(e.target.value)}
          >
            {me.workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <ul className="nav">
          <li>
            <button className="nav-item active" data-testid="nav-home">
              Home
            </button>
          </li>
        </ul>
        <div className="sidebar-footer">
          <span data-testid="sidebar-user">{me.username}</span>
          <button className="link" onClick={signOut} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </nav>
      <main className="content">
        {error && <p className="error">{error}</p>}
        <Home me={me} workspace={workspace} />
      </main>
    </div>
  );
}
