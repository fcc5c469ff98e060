// Users of the organisation (org.users): list, add with an organisation role, disable and
// enable. Disabling ends the user's sessions at once.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type OrgRole, type UserSummary } from "../api";
import { useAction, useShell } from "../shell-context";

const ORG_ROLES: { value: OrgRole; label: string }[] = [
  { value: "viewer", label: "Viewer" },
  { value: "operator", label: "Operator" },
  { value: "approver", label: "Approver" },
  { value: "admin", label: "Admin" },
];

export function Users() {
  const { describeError } = useShell();
  const [users, setUsers] = useState<UserSummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const action = useAction();

  const load = useCallback(async () => {
    try {
      setUsers(await api.listUsers());
      setLoadError(null);
    } catch (e) {
      setLoadError(describeError(e));
    }
  }, [describeError]);

  useEffect(() => {
    void load();
  }, [load]);

  async function change(work: () => Promise<void>): Promise<boolean> {
    const ok = await action.run(work);
    if (ok) await load();
    return ok;
  }

  return (
    <section data-testid="users-screen">
      <h1>Users</h1>
      {loadError && (
        <p className="error" role="alert" data-testid="users-load-error">
          {loadError}
        </p>
      )}
      {users && (
        <table>
          <thead>
            <tr>
              <th>User</th>
              <th>Organisation role</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-testid="user-row" data-username={u.username}>
                <td>{u.username}</td>
                <td data-testid="user-role">{u.org_role}</td>
                <td data-testid="user-status">{u.disabled ? "disabled" : u.locked ? "locked" : "active"}</td>
                <td>
                  {u.disabled ? (
                    <button
                      className="secondary"
                      disabled={action.busy}
                      onClick={() => void change(() => api.enableUser(u.username))}
                      data-testid="user-enable"
                    >
                      Enable
                    </button>
                  ) : (
                    <button
                      className="secondary"
                      disabled={action.busy}
                      onClick={() => void change(() => api.disableUser(u.username))}
                      data-testid="user-disable"
                    >
                      Disable
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="users-error">
          {action.error}
        </p>
      )}
      <AddUser busy={action.busy} onAdd={(u, p, r) => change(() => api.addUser(u, p, r).then(() => undefined))} />
    </section>
  );
}

interface AddUserProps {
  busy: boolean;
  onAdd: (username: string, password: string, role: OrgRole) => Promise<boolean>;
}

function AddUser({ busy, onAdd }: AddUserProps) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<OrgRole>("viewer");

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (await onAdd(username.trim(), password, role)) {
      setUsername("");
      setPassword("");
    }
  }

  return (
    <form className="panel" onSubmit={submit} data-testid="user-add-form">
      <h2>Add a user</h2>
      <div className="row">
        <label>
          Username
          <input data-testid="user-add-username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password (at least 12 characters)
          <input
            data-testid="user-add-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <label>
          Organisation role
          <select
            data-testid="user-add-role"
            value={role}
            onChange={(e) => setRole(ORG_ROLES.find((r) => r.value === e.target.value)?.value ?? "viewer")}
          >
            {ORG_ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy} data-testid="user-add-submit">
          Add user
        </button>
      </div>
    </form>
  );
}
