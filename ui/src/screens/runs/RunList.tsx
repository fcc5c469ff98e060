// Runs, newest first, with their status and a stalled badge; sub-runs are shown in their
// parent's tree, not here.
import type { RunSummary } from "../../api/runtime";
import { when } from "../../format";

export interface RunListProps {
  runs: RunSummary[];
  selected: string | null;
  onSelect: (id: string) => void;
}

export function RunStatus({ run }: { run: RunSummary }) {
  return (
    <>
      <span className={`status status-${run.status}`} data-testid="run-status">
        {run.status.replace(/_/g, " ")}
      </span>
      {run.stalled && (
        <span className="badge" data-testid="run-stalled">
          stalled
        </span>
      )}
    </>
  );
}

export function RunList({ runs, selected, onSelect }: RunListProps) {
  const top = runs.filter((r) => r.parent_run_id === null);
  if (top.length === 0) return <p className="muted">No runs yet.</p>;
  return (
    <table data-testid="run-list">
      <thead>
        <tr>
          <th>Agent</th>
          <th>Task</th>
          <th>Status</th>
          <th>Steps</th>
          <th>Started by</th>
          <th>Started</th>
        </tr>
      </thead>
      <tbody>
        {top.map((r) => (
          <tr
            key={r.id}
            className={r.id === selected ? "selected" : undefined}
            data-testid="run-row"
            data-id={r.id}
            data-status={r.status}
            onClick={() => onSelect(r.id)}
          >
            <td>
              <button className="link" data-testid="run-open">
                {r.agent_name}
              </button>
            </td>
            <td>{r.task}</td>
            <td>
              <RunStatus run={r} />
            </td>
            <td>{r.steps}</td>
            <td>{r.started_by}</td>
            <td>{when(r.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
