// The shared server: the join form (URL, certificate pin, one-time token) until this
// installation has joined one; then both key fingerprints, whether the server was reached,
// every chain's sync state with its last error and what to do, Sync now, re-pin and leave.
import { useState, type FormEvent } from "react";
import { serverApi } from "../api/server";
import { OfflineBadge, pendingEvents, useSyncState } from "../components/SyncState";
import { useAuditProgress } from "../events";
import { when } from "../format";
import { useShell } from "../shell-context";

export function Server() {
  const { describeError } = useShell();
  const { state, reload } = useSyncState(true);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { progress } = useAuditProgress("sync", "server");

  async function act(what: () => Promise<string | null>) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setNotice(await what());
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
      await reload();
    }
  }

  return (
    <section data-testid="server-screen">
      <h1>Shared server</h1>
      {error && (
        <p className="error" role="alert" data-testid="server-error">
          {error}
        </p>
      )}
      {notice && <p data-testid="server-notice">{notice}</p>}
      {state === "not_joined" && <JoinForm busy={busy} onJoin={(u, p, t, n) => act(async () => {
        const joined = await serverApi.join(u, p, t, n);
        return `Joined ${joined.url}. Compare this device's key ${joined.device_fingerprint} with the server's device list.`;
      })} />}
      {state !== null && state !== "not_joined" && (
        <>
          <dl className="facts">
            <dt>Server</dt>
            <dd data-testid="server-url">
              {state.url} <OfflineBadge state={state} />
              {state.online && <span className="badge online" data-testid="online-badge">online</span>}
            </dd>
            <dt>This device's key</dt>
            <dd data-testid="server-device-fingerprint">{state.device_fingerprint}</dd>
            <dt>Server's key</dt>
            <dd data-testid="server-fingerprint">{state.server_fingerprint}</dd>
            <dt>Pinned certificate</dt>
            <dd data-testid="server-pins">{state.pins.join(", ")}</dd>
            <dt>Waiting to upload</dt>
            <dd data-testid="server-pending">{pendingEvents(state)} events</dd>
          </dl>
          <table data-testid="server-chains">
            <thead>
              <tr>
                <th>Chain</th>
                <th>Local</th>
                <th>Receipted</th>
                <th>Pending</th>
                <th>Last success</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {state.chains.map((c) => (
                <tr key={c.scope} data-testid={`server-chain-${c.scope}`}>
                  <td title={c.scope}>{c.scope === "instance" ? `${c.name} (organisation)` : c.name}</td>
                  <td>{String(c.local_seq)}</td>
                  <td>{String(c.receipted_seq)}</td>
                  <td data-testid="chain-pending">{String(c.pending)}</td>
                  <td>{c.last_success ? when(c.last_success) : "never"}</td>
                  <td className={c.last_error ? "error" : undefined}>
                    {c.last_error ?? ""}
                    {c.stopped && (
                      <button type="button" disabled={busy} onClick={() => void act(async () => {
                        await serverApi.resume(c.scope);
                        return `Chain ${c.scope} syncs again.`;
                      })}>
                        Resume
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {progress && busy && (
            <p data-testid="server-progress">
              Uploading {String(progress.done)} of {String(progress.total)} events
            </p>
          )}
          <div className="actions">
            <button type="button" data-testid="server-sync" disabled={busy} onClick={() => void act(async () => {
              const report = await serverApi.sync();
              const failed = report.chains.filter((c) => c.error);
              return failed.length === 0
                ? `Uploaded ${String(report.uploaded)} events.`
                : `Uploaded ${String(report.uploaded)} events; ${failed.length} chain(s) did not finish: ${failed[0]?.error ?? ""}`;
            })}>
              Sync now
            </button>
            <RepinForm busy={busy} onRepin={(pin) => act(async () => {
              await serverApi.repin([pin]);
              return `Pinned ${pin}.`;
            })} />
            <button type="button" data-testid="server-leave" disabled={busy} onClick={() => void act(async () => {
              const left = await serverApi.leave();
              return left.revoked_on_server
                ? `Left ${left.url}; the server revoked this device.`
                : `Left ${left.url}; the server could not be told (${left.server_error ?? "unreachable"}): revoke this device there.`;
            })}>
              Leave server
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function JoinForm({ busy, onJoin }: { busy: boolean; onJoin: (url: string, pins: string[], token: string, name: string) => Promise<void> }) {
  const [url, setUrl] = useState("https://");
  const [pin, setPin] = useState("");
  const [token, setToken] = useState("");
  const [name, setName] = useState("");
  function submit(e: FormEvent) {
    e.preventDefault();
    void onJoin(url, [pin], token, name);
  }
  return (
    <form onSubmit={submit} data-testid="server-join">
      <p>
        Ask the server's Admin for its address, its certificate pin (<code>headmaster-server status</code>) and a
        one-time token (<code>headmaster-server enroll create</code>). The pin is checked before anything is sent.
      </p>
      <label>
        Server URL
        <input data-testid="join-url" value={url} onChange={(e) => setUrl(e.target.value)} required />
      </label>
      <label>
        Certificate pin
        <input data-testid="join-pin" value={pin} placeholder="sha256//…" onChange={(e) => setPin(e.target.value)} required />
      </label>
      <label>
        Enrollment token
        <input data-testid="join-token" value={token} onChange={(e) => setToken(e.target.value)} required />
      </label>
      <label>
        Device name (optional)
        <input data-testid="join-name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" data-testid="join-submit" disabled={busy}>
        Join
      </button>
    </form>
  );
}

function RepinForm({ busy, onRepin }: { busy: boolean; onRepin: (pin: string) => Promise<void> }) {
  const [pin, setPin] = useState("");
  return (
    <form
      className="inline"
      onSubmit={(e) => {
        e.preventDefault();
        void onRepin(pin.trim());
      }}
    >
      <input data-testid="repin-pin" value={pin} placeholder="new pin sha256//…" onChange={(e) => setPin(e.target.value)} />
      <button type="submit" disabled={busy || pin.trim() === ""}>
        Re-pin
      </button>
    </form>
  );
}
