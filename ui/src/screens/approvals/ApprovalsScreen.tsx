// The approvals inbox: pending requests (those the signed-in person may decide first) and the
// decided history, one request's full context beside the list, and standing grants for people
// with grant.manage. The list follows `approvals-changed` from the shell's watcher, so requests
// filed by the CLI or an agent appear without a reload.
import { useCallback, useEffect, useState } from "react";
import { approvalsApi, type PageRequest } from "../../api/approvals";
import { CAP, canInWorkspace } from "../../capabilities";
import { APPROVALS_CHANGED_EVENT, RUN_UPDATED_EVENT, useShellEvent } from "../../events";
import { ShowMore } from "../../components/ShowMore";
import { usePagedList } from "../../paging";
import { useAction, useShell } from "../../shell-context";
import { ApprovalDetail } from "./ApprovalDetail";
import { ApprovalList } from "./ApprovalList";
import { GrantsPanel } from "./GrantsPanel";

type Tab = "pending" | "decided";

/** Requests per page of the inbox. */
const PAGE_SIZE = 50;

export function ApprovalsScreen() {
  const { workspace } = useShell();
  const workspaceId = workspace?.id ?? "";
  const action = useAction();
  const [tab, setTab] = useState<Tab>("pending");
  const [selected, setSelected] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const { run } = action;
  const fetchPage = useCallback((page: PageRequest) => approvalsApi.list(workspaceId, tab, page), [workspaceId, tab]);
  const list = usePagedList(`${workspaceId}:${tab}`, PAGE_SIZE, fetchPage, run);
  const requests = list.page;
  const { reload } = list;

  const load = useCallback(async () => {
    await reload();
    setVersion((v) => v + 1);
  }, [reload]);

  useEffect(() => {
    void load();
  }, [load]);
  useShellEvent(APPROVALS_CHANGED_EVENT, () => void load());
  useShellEvent(RUN_UPDATED_EVENT, () => void load());

  return (
    <section data-testid="approvals-screen">
      <h1>Approvals</h1>
      <div className="row tabs">
        {(["pending", "decided"] as Tab[]).map((t) => (
          <button
            key={t}
            className={t === tab ? "" : "secondary"}
            aria-pressed={t === tab}
            onClick={() => {
              setTab(t);
              setSelected(null);
            }}
            data-testid={`approvals-tab-${t}`}
          >
            {t === "pending" ? "Pending" : "Decided"}
          </button>
        ))}
      </div>
      {action.error && (
        <p className="error" role="alert" data-testid="approvals-error">
          {action.error}
        </p>
      )}
      {requests === null && !action.error && (
        <p className="muted" role="status">
          Loading requests…
        </p>
      )}
      {requests && <ApprovalList requests={requests.items} selected={selected} onSelect={setSelected} />}
      <ShowMore page={requests} busy={action.busy} onMore={() => void list.more()} testId="approvals" />
      {selected && (
        <ApprovalDetail key={selected} workspaceId={workspaceId} id={selected} version={version} onDecided={() => void load()} />
      )}
      {canInWorkspace(workspace, CAP.grantManage) && <GrantsPanel workspaceId={workspaceId} />}
    </section>
  );
}
