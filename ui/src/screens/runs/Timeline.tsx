// A run's timeline: each tool call with the agent's reasoning, each decision the gate or a
// person made, each result, delegation, and the end.
import type { RunStep } from "../../api/runtime";
import { json, when } from "../../format";

function text(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

/** A step's body is a JSON object; anything else reads as empty. */
function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function StepBody({ step }: { step: RunStep }) {
  const body = asRecord(step.body);
  switch (step.kind) {
    case "tool_call":
      return (
        <>
          <p>
            Proposes <code>{text(body, "action")}</code>
            {text(body, "reasoning") && <span className="muted"> — {text(body, "reasoning")}</span>}
          </p>
          <pre className="payload">{json(body["args"])}</pre>
        </>
      );
    case "decision":
      return (
        <p>
          Approval {text(body, "status")}
          {text(body, "tier") && ` (${text(body, "tier")}, needs ${text(body, "quorum")})`}
          <span className="muted"> · request {text(body, "approval_id")}</span>
        </p>
      );
    case "result":
      return (
        <>
          <p>
            Result: <strong>{text(body, "status")}</strong>
            {text(body, "reason") && ` — ${text(body, "reason")}`}
          </p>
          {body["output"] != null && <pre className="payload">{json(body["output"])}</pre>}
        </>
      );
    case "delegation":
      return (
        <p>
          Delegates to <code>{text(body, "agent")}</code> (sub-run {text(body, "child_run")})
        </p>
      );
    case "finish":
      return <p className="ok">{text(body, "summary")}</p>;
    case "error":
      return <p className="error">{text(body, "error")}</p>;
    default:
      return <pre className="payload">{json(body)}</pre>;
  }
}

export function Timeline({ steps }: { steps: RunStep[] }) {
  if (steps.length === 0) return <p className="muted">No steps yet.</p>;
  return (
    <ol className="timeline" data-testid="run-timeline">
      {steps.map((step) => (
        <li key={step.seq} data-testid="timeline-step" data-kind={step.kind}>
          <div className="timeline-head">
            <span className={`step-kind step-${step.kind}`}>{step.kind.replace("_", " ")}</span>
            {text(asRecord(step.body), "step") && <code>{text(asRecord(step.body), "step")}</code>}
            <span className="muted">{when(step.at)}</span>
          </div>
          <StepBody step={step} />
        </li>
      ))}
    </ol>
  );
}
