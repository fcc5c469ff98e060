// One run, live: its state, the timeline, the run tree (sub-runs it delegated to), its drafts,
// and cancel/resume for people with run.control. It re-reads the run on every `run-updated`
// event and, while the run is unfinished, every few seconds (a run driven by another process
// sends no events here).
import { useCallback, useEffect, useState } from "react";
import { isFinal, runtimeApi, type RunDetail as Detail } from "../../api/runtime";
import { RUN_UPDATED_EVENT, useShellEvent, type RunUpdate } from "../../events";
import { when } from "../../format";
import { useAction } from "../../shell-context";
import { DraftView } from "./DraftView";
import { RunStatus } from "./RunList";
import { Timeline } from "./Timeline";

/** How often an unfinished run is re-read without events. */
export const REFRESH_MS = 2000;

export interface RunDetailProps {
  workspaceId: string;
  runId: string;
  canControl: boolean;
  onOpenRun: (id: string) => void;
  onChanged: () => void;
}

export function RunDetail({ workspaceId, runId, canControl, onOpenRun, onChanged }: RunDetailProps) {
  const action = useAction();
  const control = useAction();
  const [run, setRun] = useState<Detail | null>(null);
  const [draft, setDraft] = useState<string | null>(null);
  const { run: perform } = action;

  const load = useCallback(() => perform(async () => setRun(await runtimeApi.showRun(workspaceId, runId))), [perform, workspaceId, runId]);

  useEffect(() => {
    void load();
  }, [load]);
  useShellEvent<RunUpdate>(RUN_UPDATED_EVENT, (update) => {
    if (update.run_id === runId || run?.children.some((c) => c.id === update.run_id)) void load();
  });
  const unfinished = run !== null && !isFinal(run.status);
  useEffect(() => {
    if (!unfinished) return;
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [unfinished, load]);

  async function act(work: () => Promise<unknown>) {
    if (await control.run(async () => void (await work()))) {
      await load();
      onChanged();
    }
  }

  if (!run) {
    return action.error ? (
      <p className="error" role="alert" data-testid="run-error">
        {action.error}
      </p>
    ) : null;
  }
  return (
    <div className="panel" data-testid="run-detail" data-id={run.id} data-status={run.status}>
      <h2>
        {run.agent_name}: {run.task}
      </h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <RunStatus run={run} />
          {run.waiting_on && <span className="muted"> · waiting for {run.waiting_on}</span>}
        </dd>
        <dt>Started</dt>
        <dd>
          {when(run.created_at)} by {run.started_by}
        </dd>
        {run.parent_run_id && (
          <>
            <dt>Delegated by</dt>
            <dd>
              <button className="link" onClick={() => onOpenRun(run.parent_run_id ?? "")}>
                {run.parent_run_id}
              </button>
            </dd>
          </>
        )}
        {run.outcome && (
          <>
            <dt>Outcome</dt>
            <dd data-testid="run-outcome">{run.outcome}</dd>
          </>
        )}
      </dl>
      {canControl && unfinished && (
        <div className="row">
          <button className="secondary" disabled={control.busy} onClick={() => void act(() => runtimeApi.resumeRun(workspaceId, run.id))} data-testid="run-resume">
            Resume
          </button>
          <button className="danger" disabled={control.busy} onClick={() => void act(() => runtimeApi.cancelRun(workspaceId, run.id))} data-testid="run-cancel">
            Cancel run
          </button>
        </div>
      )}
      {control.error && (
        <p className="error" role="alert" data-testid="run-control-error">
          {control.error}
        </p>
      )}
      <h3>Timeline</h3>
      <Timeline steps={run.timeline} />
      {run.children.length > 0 && (
        <>
          <h3>Sub-runs</h3>
          <ul data-testid="run-children">
            {run.children.map((child) => (
              <li key={child.id} data-testid="run-child" data-id={child.id}>
                <button className="link" onClick={() => onOpenRun(child.id)}>
                  {child.agent_name}: {child.task}
                </button>{" "}
                <RunStatus run={child} />
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Drafts</h3>
      {run.drafts.length === 0 ? (
        <p className="muted">No drafts.</p>
      ) : (
        <ul data-testid="run-drafts">
          {run.drafts.map((d) => (
            <li key={d.id}>
              <button className="link" onClick={() => setDraft(d.key)} data-testid="run-draft" data-key={d.key}>
                {d.title} (v{d.version})
              </button>
            </li>
          ))}
        </ul>
      )}
      {draft && <DraftView key={`${draft}-${run.drafts.length}`} workspaceId={workspaceId} draftKey={draft} onClose={() => setDraft(null)} />}
    </div>
  );
}
