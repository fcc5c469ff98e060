// Typed calls of the shared server: join, status, sync now, re-pin, resume a chain, leave.
import { invoke } from "@tauri-apps/api/core";
export type { ChainSyncReport, ChainSyncStatus, JoinReport, LeaveReport, ServerStatus, SyncReport } from "./generated";
import type { JoinReport, LeaveReport, ServerStatus, SyncReport } from "./generated";

export const serverApi = {
  /** Rejects with `sync.not_joined` when this installation has joined no server. */
  status: () => invoke<ServerStatus>("server_status"),
  join: (url: string, pins: string[], token: string, name: string) =>
    invoke<JoinReport>("join_server", { url, pins, token, name }),
  /** Emits `audit-progress` with operation `sync` and scope `server`. */
  sync: () => invoke<SyncReport>("sync_server"),
  repin: (pins: string[]) => invoke<void>("repin_server", { pins }),
  resume: (scope: string) => invoke<void>("resume_sync_chain", { scope }),
  leave: () => invoke<LeaveReport>("leave_server"),
};
