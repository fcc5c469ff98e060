// The workspace's own email domains (mail elsewhere is "outside") and how long requests wait
// per tier. The core offers no reader for the expiry, so the current values are those of the
// latest `policy.expiry_set` change in the history, else the core's defaults.
import { useState } from "react";
import type { AuditEntry } from "../../api/audit";
import { DEFAULT_EXPIRY, type ExpiryConfig } from "../../api/tools";
import { onSubmit } from "../../forms";
import { commaList } from "../../format";

export interface PolicySettingsProps {
  ownDomains: string[];
  /** Newest first. */
  history: AuditEntry[];
  canManage: boolean;
  busy: boolean;
  onDomains: (domains: string[]) => Promise<boolean>;
  onExpiry: (expiry: ExpiryConfig) => Promise<boolean>;
}

/** The expiry in force: the latest change recorded in the history, else the defaults. */
export function currentExpiry(history: AuditEntry[]): ExpiryConfig {
  const latest = history.find((e) => e.action === "policy.expiry_set");
  const payload = latest?.payload as Partial<ExpiryConfig> | undefined;
  return {
    medium_minutes: payload?.medium_minutes ?? DEFAULT_EXPIRY.medium_minutes,
    high_minutes: payload?.high_minutes ?? DEFAULT_EXPIRY.high_minutes,
    critical_minutes: payload?.critical_minutes ?? DEFAULT_EXPIRY.critical_minutes,
  };
}

const EXPIRY_FIELDS: [keyof ExpiryConfig, string][] = [
  ["medium_minutes", "Medium"],
  ["high_minutes", "High"],
  ["critical_minutes", "Critical"],
];

export function PolicySettings({ ownDomains, history, canManage, busy, onDomains, onExpiry }: PolicySettingsProps) {
  const [domains, setDomains] = useState(ownDomains.join(", "));
  const [expiry, setExpiry] = useState(() => {
    const current = currentExpiry(history);
    return Object.fromEntries(EXPIRY_FIELDS.map(([key]) => [key, String(current[key])])) as Record<keyof ExpiryConfig, string>;
  });

  const saveExpiry = () =>
    void onExpiry({
      medium_minutes: Number(expiry.medium_minutes),
      high_minutes: Number(expiry.high_minutes),
      critical_minutes: Number(expiry.critical_minutes),
    });

  return (
    <div className="panel" data-testid="policy-settings">
      <h2>Own domains</h2>
      <form className="row" onSubmit={onSubmit(() => void onDomains(commaList(domains)))}>
        <label>
          Email domains of this workspace (comma-separated)
          <input
            data-testid="policy-domains"
            value={domains}
            disabled={!canManage}
            onChange={(e) => setDomains(e.target.value)}
            size={40}
          />
        </label>
        {canManage && (
          <button type="submit" disabled={busy} data-testid="policy-domains-save">
            Save domains
          </button>
        )}
      </form>
      <h2>Approval expiry (minutes)</h2>
      <form className="row" onSubmit={onSubmit(saveExpiry)}>
        {EXPIRY_FIELDS.map(([key, label]) => (
          <label key={key}>
            {label}
            <input
              type="number"
              min={1}
              max={10080}
              data-testid={`policy-expiry-${key.replace("_minutes", "")}`}
              value={expiry[key]}
              disabled={!canManage}
              onChange={(e) => setExpiry({ ...expiry, [key]: e.target.value })}
            />
          </label>
        ))}
        {canManage && (
          <button type="submit" disabled={busy} data-testid="policy-expiry-save">
            Save expiry
          </button>
        )}
      </form>
    </div>
  );
}
