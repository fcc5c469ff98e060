// Tools (tool.manage): the catalog of the current workspace with enable/disable toggles and
// tiers (policy.manage), which actions cross the trust boundary, and the configuration forms.
import { useCallback, useEffect, useState } from "react";
import { toolsApi, type Tier, type ToolsOverview } from "../../api/tools";
import { CAP, canInWorkspace } from "../../capabilities";
import { useAction, useShell } from "../../shell-context";
import { TierSelect } from "./TierSelect";
import { ToolConfigForms } from "./ToolConfigForms";

export function ToolsScreen() {
  const { workspace } = useShell();
  const action = useAction();
  const [overview, setOverview] = useState<ToolsOverview | null>(null);
  const workspaceId = workspace?.id ?? "";
  const canTier = canInWorkspace(workspace, CAP.policyManage);
  const { run } = action;

  const load = useCallback(() => run(async () => setOverview(await toolsApi.list(workspaceId))), [run, workspaceId]);

  useEffect(() => {
    void load();
  }, [load]);

  async function change(work: () => Promise<void>) {
    if (await action.run(work)) await load();
  }

  return (
    <section data-testid="tools-screen">
      <h1>Tools</h1>
      <p className="muted">Every action is disabled until an Admin enables it. Actions marked ⇄ leave the workspace.</p>
      {action.error && (
        <p className="error" role="alert" data-testid="tools-error">
          {action.error}
        </p>
      )}
      {overview && (
        <div className="panel">
          <h2>Catalog</h2>
          <table data-testid="tool-catalog">
            <thead>
              <tr>
                <th>Action</th>
                <th>What it does</th>
                <th>Boundary</th>
                <th>Enabled</th>
                <th>Tier</th>
              </tr>
            </thead>
            <tbody>
              {overview.actions.map((a) => (
                <tr key={a.name} data-testid="tool-row" data-name={a.name} data-enabled={a.enabled ? "true" : "false"}>
                  <td>
                    <code>{a.name}</code>
                  </td>
                  <td>{a.summary}</td>
                  <td data-testid="tool-boundary">{a.crosses_boundary ? <span title="crosses the trust boundary">⇄ crosses</span> : ""}</td>
                  <td>
                    <label className="inline">
                      <input
                        type="checkbox"
                        data-testid="tool-toggle"
                        checked={a.enabled}
                        disabled={action.busy}
                        onChange={(e) =>
                          void change(() =>
                            e.target.checked ? toolsApi.enable(workspaceId, a.name) : toolsApi.disable(workspaceId, a.name),
                          )
                        }
                      />
                      {a.enabled ? "on" : "off"}
                    </label>
                  </td>
                  <td>
                    <TierSelect
                      action={a.name}
                      tier={a.tier}
                      canChange={canTier}
                      busy={action.busy}
                      onChange={(tier: Tier) => void change(() => toolsApi.setTier(workspaceId, a.name, tier))}
                      testid="tool-tier"
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {overview && <ToolConfigForms workspaceId={workspaceId} config={overview.config} onSaved={load} />}
    </section>
  );
}
