// A draft with every version's body, newest first.
import { useEffect, useState } from "react";
import { runtimeApi, type DraftDetail } from "../../api/runtime";
import { when } from "../../format";
import { useAction } from "../../shell-context";

export interface DraftViewProps {
  workspaceId: string;
  draftKey: string;
  onClose: () => void;
}

export function DraftView({ workspaceId, draftKey, onClose }: DraftViewProps) {
  const action = useAction();
  const [draft, setDraft] = useState<DraftDetail | null>(null);
  const { run } = action;

  useEffect(() => {
    void run(async () => setDraft(await runtimeApi.showDraft(workspaceId, draftKey)));
  }, [run, workspaceId, draftKey]);

  return (
    <div className="panel draft" data-testid="draft-view" data-key={draftKey}>
      <div className="row">
        <h3>Draft {draftKey}</h3>
        <button className="link" onClick={onClose} data-testid="draft-close">
          Close
        </button>
      </div>
      {draft?.versions.map(([version, body]) => (
        <article key={version.id} data-testid="draft-version" data-version={version.version}>
          <h4>
            v{version.version}: {version.title}
          </h4>
          <p className="muted">
            {when(version.created_at)} · {version.author}
          </p>
          <pre className="payload" data-testid="draft-body">
            {body}
          </pre>
        </article>
      ))}
      {action.error && (
        <p className="error" role="alert" data-testid="draft-error">
          {action.error}
        </p>
      )}
    </div>
  );
}
