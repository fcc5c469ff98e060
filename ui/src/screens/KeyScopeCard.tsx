// One key scope: its versions, when it was last rotated, whether a rotation is due or
// unfinished; rotate it with live progress, and destroy versions no row uses any more.
import { useState } from "react";
import { api, type RotationReport, type ScopeStatus } from "../api";
import { RotationProgress } from "../components/RotationProgress";
import { useKeyProgress } from "../events";
import { versions, when } from "../format";
import { useAction } from "../shell-context";

export interface KeyScopeCardProps {
  scope: ScopeStatus;
  onChanged: () => Promise<void>;
}

export function KeyScopeCard({ scope, onChanged }: KeyScopeCardProps) {
  const action = useAction();
  const { progress, reset } = useKeyProgress(scope.scope);
  const [report, setReport] = useState<RotationReport | null>(null);
  const [retired, setRetired] = useState<number[] | null>(null);

  async function rotate() {
    reset();
    setReport(null);
    setRetired(null);
    if (await action.run(async () => setReport(await api.rotateKeys(scope.scope)))) await onChanged();
  }

  async function retire() {
    setRetired(null);
    if (await action.run(async () => setRetired(await api.retireUnusedKeys(scope.scope)))) await onChanged();
  }

  return (
    <div className="panel" data-testid={`key-scope-${scope.scope}`}>
      <h2>{scope.name}</h2>
      <p className="muted">
        Last rotation: <span data-testid="key-last-rotation">{when(scope.last_rotation)}</span>
        {scope.rotation_due && (
          <span className="badge" data-testid="key-due">
            rotation due
          </span>
        )}
        {scope.rotation_pending && (
          <span className="badge" data-testid="key-pending">
            rotation unfinished
          </span>
        )}
      </p>
      <table>
        <thead>
          <tr>
            <th>Purpose</th>
            <th>Version</th>
            <th>State</th>
            <th>Rows</th>
            <th>Encryptions</th>
            <th>Created</th>
            <th>Retired</th>
          </tr>
        </thead>
        <tbody>
          {scope.versions.map((v) => (
            <tr
              key={`${v.purpose}-${v.version}`}
              data-testid="key-version"
              data-purpose={v.purpose}
              data-version={v.version}
              data-state={v.state}
            >
              <td>{v.purpose}</td>
              <td>v{v.version}</td>
              <td data-testid="key-version-state">{v.state}</td>
              <td data-testid="key-version-rows">{v.rows ?? "—"}</td>
              <td>{v.encryptions}</td>
              <td>{when(v.created_at)}</td>
              <td>{when(v.retired_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button disabled={action.busy} onClick={() => void rotate()} data-testid="key-rotate">
          Rotate keys
        </button>
        <button className="secondary" disabled={action.busy} onClick={() => void retire()} data-testid="key-retire">
          Retire unused versions
        </button>
      </div>
      {progress && <RotationProgress progress={progress} label={`Re-encrypting ${scope.name}`} />}
      {report && (
        <p className="ok" data-testid="rotation-result">
          Now on data key v{report.data_version}: {report.rows_reencrypted} rows re-encrypted; destroyed{" "}
          {versions(report.retired)}; awaiting retirement after the 15 s grace: {versions(report.awaiting_retirement)}.
        </p>
      )}
      {retired && (
        <p className="ok" data-testid="retire-result">
          {retired.length === 0
            ? "No version could be destroyed yet (rows still use it, or its 15 s grace is running)."
            : `Destroyed ${versions(retired)}.`}
        </p>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="key-scope-error">
          {action.error}
        </p>
      )}
    </div>
  );
}
