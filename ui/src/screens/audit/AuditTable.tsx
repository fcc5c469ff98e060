// Audit entries: time, actor, action, outcome and target per row; a row opens to show its
// payload, source and correlation ids.
import { Fragment, useState } from "react";
import type { AuditEntry } from "../../api/audit";
import { json, when } from "../../format";

export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  const [open, setOpen] = useState<number | null>(null);
  if (entries.length === 0) {
    return (
      <p className="muted" data-testid="audit-empty">
        No events match.
      </p>
    );
  }
  return (
    <table data-testid="audit-table">
      <thead>
        <tr>
          <th>#</th>
          <th>Time</th>
          <th>Actor</th>
          <th>Action</th>
          <th>Outcome</th>
          <th>Target</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <Fragment key={e.seq}>
            <tr data-testid="audit-row" data-seq={e.seq} data-actor={e.actor_name} data-action={e.action} data-outcome={e.outcome}>
              <td>{e.seq}</td>
              <td data-testid="audit-time">{when(e.time)}</td>
              <td data-testid="audit-actor">
                {e.actor_name}
                {e.actor_kind !== "user" && <span className="muted"> ({e.actor_kind})</span>}
              </td>
              <td data-testid="audit-action">{e.action}</td>
              <td data-testid="audit-outcome">
                <span className={`outcome outcome-${e.outcome}`}>{e.outcome}</span>
              </td>
              <td data-testid="audit-target">{e.target}</td>
              <td>
                <button className="link" onClick={() => setOpen(open === e.seq ? null : e.seq)} data-testid="audit-expand">
                  {open === e.seq ? "Hide" : "Details"}
                </button>
              </td>
            </tr>
            {open === e.seq && (
              <tr data-testid="audit-detail">
                <td colSpan={7}>
                  <EntryDetail entry={e} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

function EntryDetail({ entry }: { entry: AuditEntry }) {
  const ids = [
    ["Run", entry.run_id],
    ["Step", entry.step_id],
    ["Approval", entry.approval_id],
  ].filter(([, value]) => value);
  return (
    <div className="entry-detail">
      <dl className="facts">
        <dt>Source</dt>
        <dd data-testid="audit-source">
          {[entry.source.client, entry.source.os_user, entry.source.host, entry.source.ip, entry.source.user_agent]
            .filter(Boolean)
            .join(" · ")}
        </dd>
        {ids.map(([label, value]) => (
          <Fragment key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
      </dl>
      <pre className="payload" data-testid="audit-payload">
        {json(entry.payload)}
      </pre>
    </div>
  );
}
