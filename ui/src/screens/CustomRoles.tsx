// Custom roles (org.roles): named subsets of capabilities, assignable in any workspace. Nobody
// can define a role with a capability they lack; the core says so when someone tries.
import { useState, type FormEvent } from "react";
import { api, type RoleSummary } from "../api";
import { useAction } from "../shell-context";

export interface CustomRolesProps {
  /** Every role as the core lists it, built-in ones first. */
  roles: RoleSummary[];
  onChanged: () => Promise<void>;
}

export function CustomRoles({ roles, onChanged }: CustomRolesProps) {
  const action = useAction();
  const custom = roles.filter((r) => !r.builtin);
  // The built-in Admin holds every capability, so the union of all roles names them all.
  const capabilities = [...new Set(roles.flatMap((r) => r.capabilities))];

  async function remove(name: string) {
    if (await action.run(() => api.deleteRole(name))) await onChanged();
  }

  return (
    <div className="panel" data-testid="custom-roles">
      <h2>Custom roles</h2>
      {custom.length === 0 ? (
        <p className="muted">No custom roles yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Role</th>
              <th>Capabilities</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {custom.map((r) => (
              <tr key={r.id} data-testid="role-row" data-name={r.name}>
                <td>{r.name}</td>
                <td className="caps">{r.capabilities.join(", ")}</td>
                <td>
                  <button className="secondary" disabled={action.busy} onClick={() => void remove(r.name)} data-testid="role-delete">
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="roles-error">
          {action.error}
        </p>
      )}
      <CreateRole capabilities={capabilities} onCreated={onChanged} />
    </div>
  );
}

function CreateRole({ capabilities, onCreated }: { capabilities: string[]; onCreated: () => Promise<void> }) {
  const action = useAction();
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());

  function toggle(capability: string) {
    const next = new Set(chosen);
    if (next.has(capability)) next.delete(capability);
    else next.add(capability);
    setChosen(next);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const ok = await action.run(() => api.createRole(name, [...chosen]).then(() => undefined));
    if (ok) {
      setName("");
      setChosen(new Set());
      await onCreated();
    }
  }

  return (
    <form onSubmit={submit} data-testid="role-create-form">
      <h3>New custom role</h3>
      <label>
        Name
        <input data-testid="role-create-name" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <fieldset className="capabilities">
        <legend>Capabilities</legend>
        {capabilities.map((c) => (
          <label key={c} className="inline">
            <input type="checkbox" checked={chosen.has(c)} onChange={() => toggle(c)} data-testid={`role-cap-${c}`} />
            {c}
          </label>
        ))}
      </fieldset>
      {action.error && (
        <p className="error" role="alert" data-testid="role-create-error">
          {action.error}
        </p>
      )}
      <button type="submit" disabled={action.busy} data-testid="role-create-submit">
        Create role
      </button>
    </form>
  );
}
