// Standing grants (grant.manage): allow one action, with arguments matching patterns, for one
// person or agent, for at most 24 hours. Listed with their state; revocable at any time.
import { useCallback, useEffect, useState } from "react";
import { approvalsApi, type PageRequest } from "../../api/approvals";
import { ShowMore } from "../../components/ShowMore";
import { usePagedList } from "../../paging";
import { onSubmit } from "../../forms";
import { json, when } from "../../format";
import { useAction } from "../../shell-context";

/** Longest grant the core accepts, in minutes. */
export const MAX_GRANT_MINUTES = 1440;

/** `name=pattern` lines as the argument patterns of a grant; blank lines are skipped. */
export function parsePatterns(text: string): Record<string, string> {
  const patterns: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) patterns[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return patterns;
}

/** Grants per page. */
const PAGE_SIZE = 50;

export function GrantsPanel({ workspaceId }: { workspaceId: string }) {
  const action = useAction();
  const [form, setForm] = useState({ action: "", principal: "", patterns: "", minutes: "60" });
  const { run } = action;
  const fetchPage = useCallback((page: PageRequest) => approvalsApi.listGrants(workspaceId, page), [workspaceId]);
  const list = usePagedList(workspaceId, PAGE_SIZE, fetchPage, run);
  const page = list.page;
  const grants = page?.items ?? null;
  const load = list.reload;

  useEffect(() => {
    void load();
  }, [load]);

  async function create() {
    const ok = await action.run(async () => {
      await approvalsApi.createGrant(workspaceId, {
        action: form.action.trim(),
        principal: form.principal.trim(),
        args: parsePatterns(form.patterns),
        minutes: Number(form.minutes),
      });
    });
    if (ok) {
      setForm({ action: "", principal: "", patterns: "", minutes: "60" });
      await load();
    }
  }

  async function revoke(id: string) {
    if (await action.run(() => approvalsApi.revokeGrant(workspaceId, id))) await load();
  }

  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
  });

  return (
    <div className="panel" data-testid="grants-panel">
      <h2>Standing grants</h2>
      {grants && grants.length === 0 && <p className="muted">No grants.</p>}
      {grants && grants.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Action</th>
              <th>For</th>
              <th>Arguments</th>
              <th>Expires</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {grants.map((g) => (
              <tr key={g.id} data-testid="grant-row" data-id={g.id} data-active={g.active ? "true" : "false"}>
                <td>
                  <code>{g.action}</code>
                </td>
                <td>{g.principal}</td>
                <td>
                  <code className="compact">{json(g.args).replace(/\s+/g, " ")}</code>
                </td>
                <td>{when(g.expires_at)}</td>
                <td>{g.active ? "active" : g.revoked_at ? "revoked" : "expired"}</td>
                <td>
                  {g.active && (
                    <button className="secondary" disabled={action.busy} onClick={() => void revoke(g.id)} data-testid="grant-revoke">
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ShowMore page={page} busy={action.busy} onMore={() => void list.more()} testId="grants" />
      <form className="confirm" onSubmit={onSubmit(() => void create())} data-testid="grant-form">
        <div className="row">
          <label>
            Action
            <input data-testid="grant-action" placeholder="email.send" required {...field("action")} />
          </label>
          <label>
            For (username or agent:ID)
            <input data-testid="grant-principal" required {...field("principal")} />
          </label>
          <label>
            Minutes (at most {MAX_GRANT_MINUTES})
            <input data-testid="grant-minutes" type="number" min={1} max={MAX_GRANT_MINUTES} required {...field("minutes")} />
          </label>
        </div>
        <label>
          Argument patterns, one name=pattern per line (exact value, or like:GLOB)
          <textarea data-testid="grant-args" rows={2} placeholder="to=like:*@acme.com" {...field("patterns")} />
        </label>
        <button type="submit" disabled={action.busy} data-testid="grant-create">
          Create grant
        </button>
      </form>
      {action.error && (
        <p className="error" role="alert" data-testid="grants-error">
          {action.error}
        </p>
      )}
    </div>
  );
}
