// The configuration forms of the configurable tools. Each form sends `key=value` settings for
// one tool; the core validates the whole configuration and keeps it sealed. Secrets are never
// typed here: the email password is a reference to a stored credential.
import { useEffect, useState, type ReactNode } from "react";
import { credentialsApi, toolsApi, type Setting, type ToolConfig } from "../../api/tools";
import { CAP, canInWorkspace } from "../../capabilities";
import { useAction, useShell } from "../../shell-context";
import { EmailConfigForm } from "./EmailConfigForm";
import { HttpConfigForm, ShellConfigForm } from "./NetworkForms";

export interface ToolConfigFormsProps {
  workspaceId: string;
  config: ToolConfig;
  onSaved: () => Promise<unknown>;
}

export function ToolConfigForms({ workspaceId, config, onSaved }: ToolConfigFormsProps) {
  const { workspace } = useShell();
  const credentials = useCredentialNames(workspaceId, canInWorkspace(workspace, CAP.credentialManage));

  return (
    <>
      <ConfigPanel tool="email" title="Email (SMTP)" workspaceId={workspaceId} onSaved={onSaved}>
        {(save, busy) => <EmailConfigForm config={config.email} credentials={credentials} busy={busy} onSave={save} />}
      </ConfigPanel>
      <ConfigPanel tool="http" title="HTTP requests" workspaceId={workspaceId} onSaved={onSaved}>
        {(save, busy) => <HttpConfigForm config={config.http} busy={busy} onSave={save} />}
      </ConfigPanel>
      <ConfigPanel tool="shell" title="Shell sandbox" workspaceId={workspaceId} onSaved={onSaved}>
        {(save, busy) => <ShellConfigForm config={config.shell} busy={busy} onSave={save} />}
      </ConfigPanel>
    </>
  );
}

interface ConfigPanelProps {
  tool: string;
  title: string;
  workspaceId: string;
  onSaved: () => Promise<unknown>;
  children: (save: (settings: Setting[]) => Promise<boolean>, busy: boolean) => ReactNode;
}

function ConfigPanel({ tool, title, workspaceId, onSaved, children }: ConfigPanelProps) {
  const action = useAction();
  const [saved, setSaved] = useState(false);

  async function save(settings: Setting[]): Promise<boolean> {
    setSaved(false);
    const ok = await action.run(() => toolsApi.configure(workspaceId, tool, settings));
    if (ok) {
      setSaved(true);
      await onSaved();
    }
    return ok;
  }

  return (
    <div className="panel" data-testid={`tool-config-${tool}`}>
      <h2>{title}</h2>
      {children(save, action.busy)}
      {saved && (
        <p className="ok" data-testid={`tool-config-${tool}-saved`}>
          Saved.
        </p>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid={`tool-config-${tool}-error`}>
          {action.error}
        </p>
      )}
    </div>
  );
}

/** Credential names to offer as references; empty when the role may not list them. */
function useCredentialNames(workspaceId: string, allowed: boolean): string[] | null {
  const [names, setNames] = useState<string[] | null>(null);
  useEffect(() => {
    if (!allowed) return;
    let live = true;
    credentialsApi
      .list(workspaceId)
      .then((list) => live && setNames(list.map((c) => c.name)))
      // Without the list the form falls back to typing the name.
      .catch(() => live && setNames(null));
    return () => {
      live = false;
    };
  }, [workspaceId, allowed]);
  return names;
}
