// Key maintenance: the app's background worker finishes rotations a crash interrupted and
// rotates keys older than the rotation period at unlock and every hour, whatever screen is open.
// Once signed in, the shell asks what its latest pass did: the sidebar shows where it stands;
// the main area shows what it rotated, and its error if it failed, with a retry (a new pass).
import { useCallback, useEffect, useRef, useState } from "react";
import { api, type MaintenanceOutcome } from "../api";
import { useKeyProgress } from "../events";
import { versions } from "../format";
import { RotationProgress } from "./RotationProgress";

export type MaintenanceState = "running" | "done" | "failed";

export interface KeyMaintenance {
  state: MaintenanceState;
  outcome: MaintenanceOutcome | null;
  error: string | null;
  retry: () => void;
}

/** Reads the worker's latest pass once per mount of the shell (waiting while it runs). */
export function useKeyMaintenance(describeError: (error: unknown) => string): KeyMaintenance {
  const [state, setState] = useState<MaintenanceState>("running");
  const [outcome, setOutcome] = useState<MaintenanceOutcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  const start = useCallback(async () => {
    setState("running");
    setError(null);
    try {
      setOutcome(await api.maintainKeys());
      setState("done");
    } catch (e) {
      setError(describeError(e));
      setState("failed");
    }
  }, [describeError]);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void start();
  }, [start]);

  return { state, outcome, error, retry: () => void start() };
}

const LABELS: Record<MaintenanceState, string> = {
  running: "Keys: checking…",
  done: "Keys: checked",
  failed: "Keys: check failed",
};

/** One line in the sidebar. */
export function KeyMaintenanceStatus({ maintenance }: { maintenance: KeyMaintenance }) {
  const { progress } = useKeyProgress("maintenance");
  return (
    <div className="maintenance" data-testid="key-maintenance" data-state={maintenance.state}>
      <span>{LABELS[maintenance.state]}</span>
      {maintenance.state === "running" && progress && progress.total > 0 && (
        <RotationProgress progress={progress} label="Key maintenance" />
      )}
    </div>
  );
}

export interface KeyMaintenanceBannerProps {
  maintenance: KeyMaintenance;
  /** The display name of a key scope (`instance` or a workspace id). */
  scopeName: (scope: string) => string;
}

/** What maintenance did, or why it failed; nothing when it had nothing to do. */
export function KeyMaintenanceBanner({ maintenance, scopeName }: KeyMaintenanceBannerProps) {
  const [dismissed, setDismissed] = useState(false);
  if (maintenance.state === "failed") {
    return (
      <div className="banner error-banner" role="alert" data-testid="key-maintenance-error">
        <p className="error">Key maintenance failed: {maintenance.error}</p>
        <button className="secondary" onClick={maintenance.retry} data-testid="key-maintenance-retry">
          Try again
        </button>
      </div>
    );
  }
  const reports = maintenance.outcome?.reports ?? [];
  if (maintenance.state !== "done" || reports.length === 0 || dismissed) return null;
  return (
    <div className="banner" data-testid="key-maintenance-report">
      <ul>
        {reports.map((r) => (
          <li key={r.scope}>
            Keys of {scopeName(r.scope)} rotated to v{r.data_version}: {r.rows_reencrypted} rows re-encrypted, destroyed{" "}
            {versions(r.retired)}.
          </li>
        ))}
      </ul>
      <button className="link" onClick={() => setDismissed(true)}>
        Dismiss
      </button>
    </div>
  );
}
