// Credentials (credential.manage): names with when they were created, changed and last used.
// A value is typed into a password field, sent once and cleared; no command returns a value,
// and this screen neither asks for one nor renders anything but the listed fields. The value
// field is uncontrolled: React never copies what is typed into the DOM's `value` attribute or
// into component state, so the secret lives only in the input until it is sent.
import { useCallback, useEffect, useRef, useState } from "react";
import { credentialsApi, type CredentialSummary } from "../api/tools";
import { onSubmit } from "../forms";
import { when } from "../format";
import { useAction, useShell } from "../shell-context";

export function Credentials() {
  const { workspace } = useShell();
  const workspaceId = workspace?.id ?? "";
  const action = useAction();
  const [list, setList] = useState<CredentialSummary[] | null>(null);
  const [name, setName] = useState("");
  const valueInput = useRef<HTMLInputElement>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { run } = action;

  const load = useCallback(() => run(async () => setList(await credentialsApi.list(workspaceId))), [run, workspaceId]);

  useEffect(() => {
    void load();
  }, [load]);

  async function save() {
    const input = valueInput.current;
    if (!input) return;
    const chosen = name.trim();
    const value = input.value;
    // The value leaves the page whatever happens next: a failed save is typed again.
    input.value = "";
    setSaved(null);
    const ok = await action.run(() => credentialsApi.set(workspaceId, chosen, value));
    if (ok) {
      setName("");
      setSaved(chosen);
      await load();
    }
  }

  async function remove(target: string) {
    setConfirming(null);
    if (await action.run(() => credentialsApi.remove(workspaceId, target))) await load();
  }

  return (
    <section data-testid="credentials-screen">
      <h1>Credentials</h1>
      <p className="muted">
        Tools refer to a credential as <code>{"{{credential:NAME}}"}</code>. Its value is used only inside the tool that
        runs, is never shown again, and every use is audited.
      </p>
      <div className="panel">
        <h2>Stored credentials</h2>
        {list && list.length === 0 && <p className="muted">None yet.</p>}
        {list && list.length > 0 && (
          <table data-testid="credential-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Created</th>
                <th>Changed</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.name} data-testid="credential-row" data-name={c.name}>
                  <td data-testid="credential-name-cell">
                    <code>{c.name}</code>
                  </td>
                  <td>{when(c.created_at)}</td>
                  <td>{when(c.updated_at)}</td>
                  <td data-testid="credential-last-used">{when(c.last_used_at)}</td>
                  <td>
                    {confirming === c.name ? (
                      <button className="danger" disabled={action.busy} onClick={() => void remove(c.name)} data-testid="credential-delete-confirm">
                        Delete {c.name}
                      </button>
                    ) : (
                      <button className="secondary" disabled={action.busy} onClick={() => setConfirming(c.name)} data-testid="credential-delete">
                        Delete…
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <form className="panel" onSubmit={onSubmit(() => void save())} data-testid="credential-form" autoComplete="off">
        <h2>Add or replace</h2>
        <div className="row">
          <label>
            Name
            <input data-testid="credential-name" value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <label>
            Value
            <input
              type="password"
              autoComplete="new-password"
              data-testid="credential-value"
              ref={valueInput}
              defaultValue=""
              required
            />
          </label>
          <button type="submit" disabled={action.busy} data-testid="credential-save">
            Save credential
          </button>
        </div>
        {saved && (
          <p className="ok" data-testid="credential-saved">
            Saved {saved}. Its value is stored sealed and will not be shown again.
          </p>
        )}
      </form>
      {action.error && (
        <p className="error" role="alert" data-testid="credentials-error">
          {action.error}
        </p>
      )}
    </section>
  );
}
