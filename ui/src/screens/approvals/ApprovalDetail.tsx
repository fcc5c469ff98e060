// One request with everything a reviewer needs: who asks and why, what it would touch, the
// tier and the policy's reasons, quorum progress, time left, decisions so far, the result once
// executed — and, for someone who may decide it, approve or reject with a comment.
import { useCallback, useEffect, useState } from "react";
import { approvalsApi, type ApprovalDetail as Detail, type Decision } from "../../api/approvals";
import { json, timeLeft, when } from "../../format";
import { useAction } from "../../shell-context";
import { Affected } from "./Affected";

export interface ApprovalDetailProps {
  workspaceId: string;
  id: string;
  /** Bumped by the screen when the inbox changed, to read the request again. */
  version: number;
  onDecided: () => void;
}

export function ApprovalDetail({ workspaceId, id, version, onDecided }: ApprovalDetailProps) {
  const action = useAction();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [comment, setComment] = useState("");
  const [outcome, setOutcome] = useState<string | null>(null);
  const { run } = action;

  const load = useCallback(() => run(async () => setDetail(await approvalsApi.show(workspaceId, id))), [run, workspaceId, id]);

  useEffect(() => {
    void load();
  }, [load, version]);

  async function decide(decision: Decision) {
    setOutcome(null);
    const ok = await action.run(async () => {
      const result = await approvalsApi.decide(workspaceId, id, decision, comment.trim() || null);
      setOutcome(`${decision === "approve" ? "Approved" : "Rejected"}: the request is now ${result.status}.`);
    });
    if (ok) {
      setComment("");
      await load();
      onDecided();
    }
  }

  if (!detail) {
    return action.error ? (
      <p className="error" role="alert" data-testid="approval-error">
        {action.error}
      </p>
    ) : null;
  }
  return (
    <div className="panel" data-testid="approval-detail" data-id={detail.id} data-status={detail.status}>
      <h2>
        {detail.action} <span className={`tier tier-${detail.tier}`} data-testid="approval-tier">{detail.tier}</span>
      </h2>
      <dl className="facts">
        <dt>Requested by</dt>
        <dd data-testid="approval-requester">
          {detail.on_behalf_of_name}
          {detail.requester_kind === "agent" && ` (an agent run${detail.run_id ? ` ${detail.run_id}` : ""})`}
        </dd>
        <dt>Status</dt>
        <dd data-testid="approval-detail-status">{detail.status}</dd>
        <dt>Quorum</dt>
        <dd data-testid="approval-quorum">
          <progress value={detail.approvals} max={detail.quorum} aria-label="Approvals so far" /> {detail.approvals} /{" "}
          {detail.quorum} approvals
        </dd>
        <dt>Time left</dt>
        <dd data-testid="approval-time-left" title={when(detail.expires_at)}>
          {detail.status === "pending" ? timeLeft(detail.ms_left) : "—"}
        </dd>
      </dl>
      <h3>Reasoning</h3>
      <p data-testid="approval-reasoning">{detail.reasoning ?? <span className="muted">No reasoning given.</span>}</p>
      <h3>Affected resources</h3>
      <Affected affected={detail.affected} />
      <h3>Why it needs a decision</h3>
      <ul data-testid="approval-reasons">
        {detail.reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      <details>
        <summary>Arguments (SHA-256 {detail.args_sha256.slice(0, 16)}…)</summary>
        <pre className="payload" data-testid="approval-args">
          {json(detail.args)}
        </pre>
      </details>
      {detail.decisions.length > 0 && (
        <>
          <h3>Decisions</h3>
          <ul data-testid="approval-decisions">
            {detail.decisions.map((d) => (
              <li key={`${d.decider}-${d.decided_at}`}>
                {d.decider} {d.decision === "approve" ? "approved" : "rejected"} at {when(d.decided_at)}
                {d.comment && `: “${d.comment}”`}
              </li>
            ))}
          </ul>
        </>
      )}
      {detail.result != null && (
        <>
          <h3>Result</h3>
          <pre className="payload" data-testid="approval-result">
            {json(detail.result)}
          </pre>
        </>
      )}
      {!detail.can_decide && detail.cannot_decide && detail.status === "pending" && (
        <p className="muted" data-testid="approval-cannot-decide">
          You cannot decide this request: {detail.cannot_decide}.
        </p>
      )}
      {detail.can_decide && (
        <div className="confirm" data-testid="approval-decision-form">
          <label>
            Comment (sent back to whoever proposed it)
            <textarea data-testid="approval-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
          </label>
          <div className="row">
            <button disabled={action.busy} onClick={() => void decide("approve")} data-testid="approval-approve">
              Approve
            </button>
            <button className="danger" disabled={action.busy} onClick={() => void decide("reject")} data-testid="approval-reject">
              Reject
            </button>
          </div>
        </div>
      )}
      {outcome && (
        <p className="ok" data-testid="approval-outcome">
          {outcome}
        </p>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="approval-error">
          {action.error}
        </p>
      )}
    </div>
  );
}
