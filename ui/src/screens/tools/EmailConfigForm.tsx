// SMTP settings: server, port, TLS mode, sender, and an optional login whose password is a
// `{{credential:NAME}}` reference picked from the workspace's credentials.
import { useState } from "react";
import type { EmailConfig, Setting } from "../../api/tools";
import { onSubmit } from "../../forms";

const REFERENCE = /^\{\{credential:([A-Za-z0-9_.-]+)\}\}$/;

/** The credential name inside a `{{credential:NAME}}` reference, or "". */
export function referencedName(reference: string | null): string {
  return reference?.match(REFERENCE)?.[1] ?? "";
}

export interface EmailConfigFormProps {
  config: EmailConfig | null;
  /** Names to pick from, or null to type one. */
  credentials: string[] | null;
  busy: boolean;
  onSave: (settings: Setting[]) => Promise<boolean>;
}

export function EmailConfigForm({ config, credentials, busy, onSave }: EmailConfigFormProps) {
  const [host, setHost] = useState(config?.host ?? "");
  const [port, setPort] = useState(String(config?.port ?? 587));
  const [tls, setTls] = useState<string>(config?.tls ?? "starttls");
  const [from, setFrom] = useState(config?.from ?? "");
  const [username, setUsername] = useState(config?.username ?? "");
  const [credential, setCredential] = useState(referencedName(config?.password ?? null));

  const save = () =>
    void onSave([
      { key: "host", value: host.trim() },
      { key: "port", value: port.trim() },
      { key: "tls", value: tls },
      { key: "from", value: from.trim() },
      { key: "username", value: username.trim() },
      { key: "password", value: credential ? `{{credential:${credential}}}` : "" },
    ]);

  const offered = credentials && credential && !credentials.includes(credential) ? [...credentials, credential] : credentials;
  return (
    <form className="row" onSubmit={onSubmit(save)} data-testid="email-config-form">
      <label>
        SMTP host
        <input data-testid="email-host" value={host} onChange={(e) => setHost(e.target.value)} required />
      </label>
      <label>
        Port
        <input data-testid="email-port" type="number" min={1} max={65535} value={port} onChange={(e) => setPort(e.target.value)} />
      </label>
      <label>
        TLS
        <select data-testid="email-tls" value={tls} onChange={(e) => setTls(e.target.value)}>
          <option value="starttls">STARTTLS</option>
          <option value="tls">TLS</option>
          <option value="none">none (local relay only)</option>
        </select>
      </label>
      <label>
        From
        <input data-testid="email-from" value={from} onChange={(e) => setFrom(e.target.value)} required />
      </label>
      <label>
        Username
        <input data-testid="email-username" value={username} onChange={(e) => setUsername(e.target.value)} />
      </label>
      <label>
        Password credential
        {offered ? (
          <select data-testid="email-password-credential" value={credential} onChange={(e) => setCredential(e.target.value)}>
            <option value="">no login</option>
            {offered.map((name) => (
              <option key={name} value={name}>
                {`{{credential:${name}}}`}
              </option>
            ))}
          </select>
        ) : (
          <input
            data-testid="email-password-credential"
            placeholder="credential name"
            value={credential}
            onChange={(e) => setCredential(e.target.value.trim())}
          />
        )}
      </label>
      <button type="submit" disabled={busy} data-testid="email-save">
        Save email settings
      </button>
    </form>
  );
}
