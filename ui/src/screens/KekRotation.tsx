// Rotating the key-encryption key re-wraps every stored key. In keychain mode the new KEK is
// random and replaces the keychain entry; in passphrase mode it comes from a new passphrase.
import { useState, type FormEvent } from "react";
import { api, type Protection } from "../api";
import { useAction } from "../shell-context";

export function KekRotation({ protection, onChanged }: { protection: Protection; onChanged: () => Promise<void> }) {
  const action = useAction();
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [version, setVersion] = useState<number | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setVersion(null);
    if (protection === "passphrase" && passphrase !== confirm) {
      action.setError("The two passphrases differ.");
      return;
    }
    const ok = await action.run(async () => setVersion(await api.rotateKek(protection === "passphrase" ? passphrase : null)));
    if (ok) {
      setPassphrase("");
      setConfirm("");
      await onChanged();
    }
  }

  return (
    <form className="panel" onSubmit={submit} data-testid="kek-form">
      <h2>Key-encryption key</h2>
      {protection === "keychain" ? (
        <p className="muted">A new random key replaces the one in the OS keychain; every stored key is re-wrapped.</p>
      ) : (
        <div className="row">
          <label>
            New passphrase (at least 12 characters)
            <input
              data-testid="kek-passphrase"
              type="password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              required
            />
          </label>
          <label>
            Repeat it
            <input
              data-testid="kek-passphrase-confirm"
              type="password"
              value={confirm}
              onChange={(e) => setConfirm(e.target.value)}
              required
            />
          </label>
        </div>
      )}
      <button type="submit" disabled={action.busy} data-testid="kek-rotate">
        {action.busy ? "Rotating…" : "Rotate KEK"}
      </button>
      {version !== null && (
        <p className="ok" data-testid="kek-result">
          Every key is now wrapped by KEK version {version}.
        </p>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="kek-error">
          {action.error}
        </p>
      )}
    </form>
  );
}
