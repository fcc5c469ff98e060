// The sync state the shell shows beside the navigation (an offline badge while the joined
// server cannot be reached) and the home screen summarises. Read again after every try of the
// background sync (`sync-updated`) and when the screen asks.
import { useCallback, useEffect, useState } from "react";
import { isApiError } from "../api";
import { serverApi, type ServerStatus } from "../api/server";
import { SYNC_UPDATED_EVENT, useShellEvent } from "../events";

/** The server status; `null` while unknown, `"not_joined"` when no server is joined. */
export type SyncState = ServerStatus | "not_joined" | null;

export function useSyncState(enabled: boolean): { state: SyncState; reload: () => Promise<void> } {
  const [state, setState] = useState<SyncState>(null);
  const reload = useCallback(async () => {
    if (!enabled) {
      setState(null);
      return;
    }
    try {
      setState(await serverApi.status());
    } catch (e) {
      // Not joined is a state; anything else leaves the badge alone (the Server screen shows it).
      if (isApiError(e) && e.code === "sync.not_joined") setState("not_joined");
    }
  }, [enabled]);
  useEffect(() => {
    void reload();
  }, [reload]);
  useShellEvent(SYNC_UPDATED_EVENT, () => void reload());
  return { state, reload };
}

/** Shown while a joined server has not been reached on the last try. */
export function OfflineBadge({ state, testid = "offline-badge" }: { state: SyncState; testid?: string }) {
  if (state === null || state === "not_joined" || state.online) return null;
  return (
    <span className="badge offline" data-testid={testid} title={`Cannot reach ${state.url}; audit events wait on this desktop`}>
      offline
    </span>
  );
}

/** Events of every chain the server has not receipted yet. */
export function pendingEvents(state: ServerStatus): number {
  return state.chains.reduce((sum, c) => sum + Number(c.pending), 0);
}
