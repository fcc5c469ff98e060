// Requests as a list: what, tier, who asks, quorum progress and time left. Requests the
// signed-in person may decide come first.
import type { ApprovalSummary } from "../../api/approvals";
import { timeLeft, when } from "../../format";

export interface ApprovalListProps {
  requests: ApprovalSummary[];
  selected: string | null;
  onSelect: (id: string) => void;
}

/** Decidable requests first, each group newest first (the order the core returns). */
export function inboxOrder(requests: ApprovalSummary[]): ApprovalSummary[] {
  return [...requests.filter((r) => r.can_decide), ...requests.filter((r) => !r.can_decide)];
}

export function ApprovalList({ requests, selected, onSelect }: ApprovalListProps) {
  if (requests.length === 0) {
    return (
      <p className="muted" data-testid="approvals-empty">
        Nothing here.
      </p>
    );
  }
  return (
    <table data-testid="approval-list">
      <thead>
        <tr>
          <th>Action</th>
          <th>Tier</th>
          <th>Requested by</th>
          <th>Approvals</th>
          <th>Status</th>
          <th>Time left</th>
        </tr>
      </thead>
      <tbody>
        {inboxOrder(requests).map((r) => (
          <tr
            key={r.id}
            className={r.id === selected ? "selected" : undefined}
            data-testid="approval-row"
            data-id={r.id}
            data-can-decide={r.can_decide ? "true" : "false"}
            onClick={() => onSelect(r.id)}
          >
            <td>
              <button className="link" data-testid="approval-open">
                {r.action}
              </button>
              {r.can_decide && <span className="badge">yours to decide</span>}
            </td>
            <td>
              <span className={`tier tier-${r.tier}`}>{r.tier}</span>
            </td>
            <td>
              {r.on_behalf_of_name}
              {r.requester_kind === "agent" && <span className="muted"> (agent run)</span>}
            </td>
            <td>
              {r.approvals} / {r.quorum}
            </td>
            <td data-testid="approval-status">{r.status}</td>
            <td title={when(r.expires_at)}>{r.status === "pending" ? timeLeft(r.ms_left) : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
