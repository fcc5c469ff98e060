// The members of one workspace with their roles. With member.manage: add a member, change a
// role, remove a member. The core's refusals (last Admin, granting a capability you lack) are
// shown as it words them.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type MemberSummary, type RoleSummary } from "../api";
import { useAction, useShell } from "../shell-context";

export interface MemberListProps {
  workspaceId: string;
  /** Roles to offer: built-in ones, plus custom ones when the caller may list them. */
  roles: RoleSummary[];
  canManage: boolean;
}

/** The value the core accepts for a role: a built-in role's id, or a custom role's name. */
function roleValue(role: RoleSummary): string {
  return role.builtin ? role.id : role.name;
}

export function MemberList({ workspaceId, roles, canManage }: MemberListProps) {
  const { me, refresh, describeError } = useShell();
  const [members, setMembers] = useState<MemberSummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const action = useAction();

  const load = useCallback(async () => {
    try {
      setMembers(await api.listMembers(workspaceId));
      setLoadError(null);
    } catch (e) {
      setLoadError(describeError(e));
    }
  }, [workspaceId, describeError]);

  useEffect(() => {
    void load();
  }, [load]);

  async function change(username: string, work: () => Promise<void>): Promise<boolean> {
    const ok = await action.run(work);
    if (ok) {
      await load();
      // Changing your own membership changes what you may do here.
      if (username === me.username) await refresh(workspaceId);
    }
    return ok;
  }

  return (
    <div className="panel" data-testid="member-list">
      <h2>Members</h2>
      {loadError && (
        <p className="error" role="alert" data-testid="members-load-error">
          {loadError}
        </p>
      )}
      {members && (
        <table>
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              {canManage && <th>Manage</th>}
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.user_id} data-testid="member-row" data-username={m.username}>
                <td data-testid="member-name">
                  {m.username}
                  {m.disabled && <span className="muted"> (disabled)</span>}
                </td>
                <td data-testid="member-role">{m.role}</td>
                {canManage && (
                  <td>
                    <MemberControls
                      member={m}
                      roles={roles}
                      busy={action.busy}
                      onRole={(role) => change(m.username, () => api.setMemberRole(workspaceId, m.username, role))}
                      onRemove={() => change(m.username, () => api.removeMember(workspaceId, m.username))}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="members-error">
          {action.error}
        </p>
      )}
      {canManage && <AddMember roles={roles} busy={action.busy} onAdd={(u, r) => change(u, () => api.addMember(workspaceId, u, r))} />}
    </div>
  );
}

interface MemberControlsProps {
  member: MemberSummary;
  roles: RoleSummary[];
  busy: boolean;
  onRole: (role: string) => Promise<boolean>;
  onRemove: () => Promise<boolean>;
}

function MemberControls({ member, roles, busy, onRole, onRemove }: MemberControlsProps) {
  const [confirming, setConfirming] = useState(false);
  const current = roles.find((r) => r.name === member.role);
  return (
    <div className="row">
      <select
        aria-label={`Role of ${member.username}`}
        data-testid="member-role-select"
        value={current ? roleValue(current) : member.role}
        disabled={busy}
        onChange={(e) => void onRole(e.target.value)}
      >
        {!current && <option value={member.role}>{member.role}</option>}
        {roles.map((r) => (
          <option key={r.id} value={roleValue(r)}>
            {r.name}
          </option>
        ))}
      </select>
      {confirming ? (
        <>
          <button className="danger" disabled={busy} onClick={() => void onRemove()} data-testid="member-remove-confirm">
            Remove {member.username}
          </button>
          <button className="secondary" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </>
      ) : (
        <button className="secondary" disabled={busy} onClick={() => setConfirming(true)} data-testid="member-remove">
          Remove…
        </button>
      )}
    </div>
  );
}

interface AddMemberProps {
  roles: RoleSummary[];
  busy: boolean;
  onAdd: (username: string, role: string) => Promise<boolean>;
}

function AddMember({ roles, busy, onAdd }: AddMemberProps) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState("viewer");

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (await onAdd(username.trim(), role)) setUsername("");
  }

  return (
    <form className="row" onSubmit={submit} data-testid="member-add-form">
      <label>
        Username
        <input data-testid="member-add-username" value={username} onChange={(e) => setUsername(e.target.value)} required />
      </label>
      <label>
        Role
        <select data-testid="member-add-role" value={role} onChange={(e) => setRole(e.target.value)}>
          {roles.map((r) => (
            <option key={r.id} value={roleValue(r)}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy} data-testid="member-add-submit">
        Add member
      </button>
    </form>
  );
}
