// First run: organisation, first Admin, and how the keys are protected.
import { useState, type FormEvent } from "react";
import { api, errorMessage, type AppStatus, type Protection } from "../api";

export function Setup({ onDone }: { onDone: (status: AppStatus) => void }) {
  const [org, setOrg] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [protection, setProtection] = useState<Protection>("keychain");
  const [passphrase, setPassphrase] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (password !== confirm) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onDone(
        await api.setup({
          org_name: org,
          username,
          password,
          protection,
          passphrase: protection === "passphrase" ? passphrase : null,
        }),
      );
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <form className="card" onSubmit={submit} data-testid="setup-form">
        <h1>Set up Headmaster</h1>
        <p className="muted">
          Create your organisation and its first Admin. The first workspace is named after the organisation.
        </p>
        <label>
          Organisation name
          <input data-testid="setup-org" value={org} onChange={(e) => setOrg(e.target.value)} required />
        </label>
        <label>
          Admin username
          <input
            data-testid="setup-username"
            value={username}
            autoComplete="username"
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          Password (at least 12 characters)
          <input
            data-testid="setup-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <label>
          Repeat password
          <input
            data-testid="setup-password-confirm"
            type="password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            required
          />
        </label>
        <fieldset>
          <legend>Key protection</legend>
          <label className="inline">
            <input
              type="radio"
              name="protection"
              data-testid="setup-keychain"
              checked={protection === "keychain"}
              onChange={() => setProtection("keychain")}
            />
            OS keychain (recommended)
          </label>
          <label className="inline">
            <input
              type="radio"
              name="protection"
              data-testid="setup-passphrase-mode"
              checked={protection === "passphrase"}
              onChange={() => setProtection("passphrase")}
            />
            Passphrase (asked at every start)
          </label>
          {protection === "passphrase" && (
            <label>
              Key passphrase (at least 12 characters)
              <input
                data-testid="setup-passphrase"
                type="password"
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
                required
              />
            </label>
          )}
        </fieldset>
        {error && (
          <p className="error" role="alert" data-testid="setup-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy} data-testid="setup-submit">
          {busy ? "Creating…" : "Create organisation"}
        </button>
      </form>
    </main>
  );
}
