// Every policy and tool change, newest first: when, who, what.
import type { AuditEntry } from "../../api/audit";
import { json, when } from "../../format";

export function PolicyHistory({ entries }: { entries: AuditEntry[] }) {
  return (
    <div className="panel" data-testid="policy-history">
      <h2>History</h2>
      {entries.length === 0 ? (
        <p className="muted">No changes yet: the shipped defaults apply and every tool is disabled.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Change</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq} data-testid="policy-history-row" data-action={e.action}>
                <td>{when(e.time)}</td>
                <td>{e.actor_name}</td>
                <td>{e.action.replace(/^policy\./, "")}</td>
                <td>
                  <code className="compact">{json(e.payload).replace(/\s+/g, " ")}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
