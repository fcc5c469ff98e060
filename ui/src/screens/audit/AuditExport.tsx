// Exports a chain as a signed OCSF bundle (a new directory, or a `.tar.gz` file) with live
// progress, and moves events past the retention period into archive segments. The default
// bundle path is a new folder in the data directory, named after the chain and the time.
import { useEffect, useState } from "react";
import { api } from "../../api";
import { auditApi, type ArchiveReport, type ExportReport } from "../../api/audit";
import { ProgressBar } from "../../components/ProgressBar";
import { useAuditProgress } from "../../events";
import { when } from "../../format";
import { useAction } from "../../shell-context";

/** `<home>/audit-<scope>-<UTC time>`, a path that does not exist yet. */
export function defaultBundlePath(home: string, scope: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  const label = scope === "instance" ? "organisation" : scope.slice(0, 8);
  return `${home.replace(/\/+$/, "")}/audit-${label}-${stamp}`;
}

export function AuditExport({ scope }: { scope: string }) {
  const action = useAction();
  const archive = useAction();
  const { progress, reset } = useAuditProgress("export", scope);
  const [path, setPath] = useState("");
  const [report, setReport] = useState<ExportReport | null>(null);
  const [archived, setArchived] = useState<ArchiveReport | null>(null);
  const { run } = action;

  useEffect(() => {
    void run(async () => {
      const status = await api.status();
      setPath((current) => current || defaultBundlePath(status.home, scope, new Date()));
    });
  }, [run, scope]);

  async function exportBundle() {
    reset();
    setReport(null);
    await action.run(async () => setReport(await auditApi.exportBundle(scope, path)));
  }

  return (
    <div className="panel" data-testid="audit-export-panel">
      <h2>Export a bundle</h2>
      <p className="muted">
        OCSF events, a manifest signed with this installation&apos;s device key, and SHA256SUMS: checkable with{" "}
        <code>ssh-keygen -Y verify</code> and <code>sha256sum -c</code>.
      </p>
      <label>
        Bundle path (a new folder, or a file ending in .tar.gz)
        <input data-testid="audit-export-path" value={path} onChange={(e) => setPath(e.target.value)} />
      </label>
      <button disabled={action.busy || path.trim() === ""} onClick={() => void exportBundle()} data-testid="audit-export">
        Export bundle
      </button>
      {progress && (
        <ProgressBar
          done={progress.done}
          total={progress.total}
          unit="events exported"
          label="Exporting the audit chain"
          testid="audit-export-progress"
        />
      )}
      {report && (
        <dl className="facts" data-testid="audit-export-result" data-path={report.path}>
          <dt>Bundle</dt>
          <dd data-testid="audit-export-result-path">{report.path}</dd>
          <dt>Events</dt>
          <dd data-testid="audit-export-result-events">
            {report.events}
            {report.seq_range && ` (seq ${report.seq_range[0]}–${report.seq_range[1]})`}
          </dd>
          <dt>Device key</dt>
          <dd data-testid="audit-export-fingerprint">{report.device_key_fingerprint}</dd>
        </dl>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="audit-export-error">
          {action.error}
        </p>
      )}
      <h3>Retention</h3>
      <button
        className="secondary"
        disabled={archive.busy}
        onClick={() => void archive.run(async () => setArchived(await auditApi.archive(scope)))}
        data-testid="audit-archive"
      >
        Archive events past retention
      </button>
      {archived && (
        <p className="ok" data-testid="audit-archive-result">
          Archived {archived.events} events in {archived.segments} segments (older than {when(archived.cutoff)}).
        </p>
      )}
      {archive.error && (
        <p className="error" role="alert" data-testid="audit-archive-error">
          {archive.error}
        </p>
      )}
    </div>
  );
}
