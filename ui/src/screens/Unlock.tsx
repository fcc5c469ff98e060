// Passphrase-protected installations: derive the key before anything can be read.
import { useState, type FormEvent } from "react";
import { api, errorMessage, type AppStatus } from "../api";

export function Unlock({ orgName, onUnlocked }: { orgName: string | null; onUnlocked: (s: AppStatus) => void }) {
  const [passphrase, setPassphrase] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onUnlocked(await api.unlock(passphrase));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <form className="card" onSubmit={submit} data-testid="unlock-form">
        <h1>Unlock {orgName ?? "Headmaster"}</h1>
        <p className="muted">This installation's keys are protected by a passphrase.</p>
        <label>
          Passphrase
          <input
            data-testid="unlock-passphrase"
            type="password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            autoFocus
            required
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="unlock-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy} data-testid="unlock-submit">
          {busy ? "Unlocking…" : "Unlock"}
        </button>
      </form>
    </main>
  );
}
