// Verifies a chain with live progress and reports like CloudTrail's validate-logs: the valid
// seq ranges, then every break with its seq, kind and meaning.
import { useState } from "react";
import { auditApi, type VerifyOutcome } from "../../api/audit";
import { ProgressBar } from "../../components/ProgressBar";
import { useAuditProgress } from "../../events";
import { useAction } from "../../shell-context";

export function AuditVerify({ scope }: { scope: string }) {
  const action = useAction();
  const { progress, reset } = useAuditProgress("verify", scope);
  const [outcome, setOutcome] = useState<VerifyOutcome | null>(null);

  async function verify() {
    reset();
    setOutcome(null);
    await action.run(async () => setOutcome(await auditApi.verify(scope)));
  }

  return (
    <div className="panel" data-testid="audit-verify-panel">
      <h2>Verify the chain</h2>
      <p className="muted">Recomputes every hash and checks every signed checkpoint, archive segments included.</p>
      <button disabled={action.busy} onClick={() => void verify()} data-testid="audit-verify">
        Verify
      </button>
      {progress && (
        <ProgressBar
          done={progress.done}
          total={progress.total}
          unit="events checked"
          label="Verifying the audit chain"
          testid="audit-verify-progress"
        />
      )}
      {outcome && <VerifyResult outcome={outcome} />}
      {action.error && (
        <p className="error" role="alert" data-testid="audit-verify-error">
          {action.error}
        </p>
      )}
    </div>
  );
}

function VerifyResult({ outcome }: { outcome: VerifyOutcome }) {
  const ranges = outcome.valid_ranges.map(([from, to]) => `${from}–${to}`).join(", ") || "none";
  const first = outcome.breaks[0];
  return (
    <div data-testid="audit-verify-result" data-valid={outcome.valid ? "true" : "false"}>
      <p className={outcome.valid ? "ok" : "error"} data-testid="audit-verify-verdict">
        {outcome.valid
          ? `Valid: ${outcome.events_checked} events and ${outcome.checkpoints_checked} checkpoints verified.`
          : `Broken: ${outcome.breaks.length} break(s) in ${outcome.events_checked} events.`}
      </p>
      <p className="muted" data-testid="audit-verify-ranges">
        Valid ranges: {ranges}
      </p>
      {first && (
        <p className="error" data-testid="audit-verify-first-break">
          First break at seq {first.seq} ({first.kind}): {first.detail}
        </p>
      )}
      {outcome.breaks.length > 1 && (
        <ul data-testid="audit-verify-breaks">
          {outcome.breaks.slice(1).map((b) => (
            <li key={`${b.seq}-${b.kind}`}>
              seq {b.seq} ({b.kind}): {b.detail}
            </li>
          ))}
        </ul>
      )}
      {outcome.segment_problems.length > 0 && (
        <ul className="error" data-testid="audit-verify-segments">
          {outcome.segment_problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
