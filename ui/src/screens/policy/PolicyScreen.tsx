// Policy of the current workspace: base tier per action, argument rules, own email domains,
// approval expiry per tier, and the history of every change. Anyone who reads the workspace
// sees it; changing it needs policy.manage.
import { useCallback, useEffect, useState } from "react";
import type { AuditEntry } from "../../api/audit";
import { toolsApi, type ToolsOverview } from "../../api/tools";
import { CAP, canInWorkspace } from "../../capabilities";
import { useAction, useShell } from "../../shell-context";
import { TierSelect } from "../tools/TierSelect";
import { PolicyHistory } from "./PolicyHistory";
import { PolicyRules } from "./PolicyRules";
import { PolicySettings } from "./PolicySettings";

export function PolicyScreen() {
  const { workspace } = useShell();
  const workspaceId = workspace?.id ?? "";
  const canManage = canInWorkspace(workspace, CAP.policyManage);
  const action = useAction();
  const [overview, setOverview] = useState<ToolsOverview | null>(null);
  const [history, setHistory] = useState<AuditEntry[] | null>(null);
  const { run } = action;

  const load = useCallback(
    () =>
      run(async () => {
        const [tools, changes] = await Promise.all([toolsApi.list(workspaceId), toolsApi.history(workspaceId)]);
        setOverview(tools);
        setHistory(changes);
      }),
    [run, workspaceId],
  );

  useEffect(() => {
    void load();
  }, [load]);

  /** Runs a change, then re-reads policy and history; false when the core refused. */
  const change = useCallback(
    async (work: () => Promise<unknown>) => {
      const ok = await run(async () => {
        await work();
      });
      if (ok) await load();
      return ok;
    },
    [run, load],
  );

  return (
    <section data-testid="policy-screen">
      <h1>Policy</h1>
      {!canManage && <p className="muted">Read only: changing the policy needs the policy.manage capability.</p>}
      {action.error && (
        <p className="error" role="alert" data-testid="policy-error">
          {action.error}
        </p>
      )}
      {overview && (
        <div className="panel">
          <h2>Tiers</h2>
          <p className="muted">Low runs at once; medium needs an Operator&apos;s confirmation; high one Approver; critical two.</p>
          <table data-testid="policy-tiers">
            <thead>
              <tr>
                <th>Action</th>
                <th>Enabled</th>
                <th>Tier</th>
              </tr>
            </thead>
            <tbody>
              {overview.actions.map((a) => (
                <tr key={a.name} data-testid="policy-tier-row" data-name={a.name}>
                  <td>
                    <code>{a.name}</code>
                  </td>
                  <td>{a.enabled ? "yes" : "no"}</td>
                  <td>
                    <TierSelect
                      action={a.name}
                      tier={a.tier}
                      canChange={canManage}
                      busy={action.busy}
                      onChange={(tier) => void change(() => toolsApi.setTier(workspaceId, a.name, tier))}
                      testid="policy-tier"
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {overview && (
        <PolicyRules
          rules={overview.rules}
          canManage={canManage}
          busy={action.busy}
          onAdd={(text) => change(() => toolsApi.addRule(workspaceId, text))}
          onRemove={(id) => change(() => toolsApi.removeRule(workspaceId, id))}
        />
      )}
      {overview && history && (
        <PolicySettings
          key={`${overview.own_domains.join(",")}|${history.length}`}
          ownDomains={overview.own_domains}
          history={history}
          canManage={canManage}
          busy={action.busy}
          onDomains={(domains) => change(() => toolsApi.setOwnDomains(workspaceId, domains))}
          onExpiry={(expiry) => change(() => toolsApi.setExpiry(workspaceId, expiry))}
        />
      )}
      {history && <PolicyHistory entries={history} />}
    </section>
  );
}
