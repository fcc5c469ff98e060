// The number of pending requests in the current workspace that the signed-in person may
// decide, shown on the Approvals navigation item. It is read again whenever the shell's
// approval watcher reports a change, a run changes state, or the workspace changes.
import { useCallback, useEffect, useState } from "react";
import { approvalsApi } from "../api/approvals";
import { APPROVALS_CHANGED_EVENT, RUN_UPDATED_EVENT, useShellEvent } from "../events";

/** Pending decidable requests in `workspaceId`; null until known or when it cannot be read. */
export function usePendingApprovals(workspaceId: string | null): number | null {
  const [count, setCount] = useState<number | null>(null);
  const load = useCallback(async () => {
    if (!workspaceId) {
      setCount(null);
      return;
    }
    try {
      const pending = await approvalsApi.listAll(workspaceId, "pending");
      setCount(pending.filter((r) => r.can_decide).length);
    } catch {
      // The badge is a hint; the Approvals screen shows the error when opened.
      setCount(null);
    }
  }, [workspaceId]);

  useEffect(() => {
    void load();
  }, [load]);
  useShellEvent(APPROVALS_CHANGED_EVENT, () => void load());
  useShellEvent(RUN_UPDATED_EVENT, () => void load());
  return count;
}

export function PendingBadge({ count }: { count: number | null }) {
  if (!count) return null;
  return (
    <span className="badge" data-testid="approvals-badge" aria-label={`${count} approvals waiting for you`}>
      {count}
    </span>
  );
}
