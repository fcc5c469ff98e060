// Events the shell pushes to this window:
// - `key-rotation-progress` after every batch of re-encrypted rows during key rotation;
// - `audit-progress` while an audit chain is verified or exported;
// - `run-updated` when a run changes state, whoever drives it in this app;
// - `approvals-changed` when the requests waiting for the signed-in person change;
// - `open-approvals` when the person clicked an approval notification.
import { listen } from "@tauri-apps/api/event";
import { useEffect, useRef, useState } from "react";

export interface KeyProgress {
  /** `instance`, a workspace id, or `maintenance` (start-up key maintenance). */
  scope: string;
  done: number;
  total: number;
}

export interface AuditProgress {
  operation: "verify" | "export" | "sync";
  /** `instance` or a workspace id. */
  scope: string;
  done: number;
  total: number;
}

export interface RunUpdate {
  workspace_id: string;
  run_id: string;
  status: string;
}

export interface ApprovalsChanged {
  /** Requests in every workspace the signed-in person may decide now. */
  pending: number;
  /** Requests first seen (and notified) in this pass. */
  new: string[];
}

export const KEY_PROGRESS_EVENT = "key-rotation-progress";
export const AUDIT_PROGRESS_EVENT = "audit-progress";
export const RUN_UPDATED_EVENT = "run-updated";
/** After every try of the background sync (payload: whether the server was reached). */
export const SYNC_UPDATED_EVENT = "sync-updated";
export const APPROVALS_CHANGED_EVENT = "approvals-changed";
export const OPEN_APPROVALS_EVENT = "open-approvals";
/** The window label from tauri.conf.json; the shell addresses its events to it. */
const MAIN_WINDOW = "main";

/** Calls the latest `handler` with every payload of `name` while the component is mounted. */
export function useShellEvent<T>(name: string, handler: (payload: T) => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    void listen<T>(name, (event) => latest.current(event.payload), { target: MAIN_WINDOW }).then((unlisten) => {
      if (cancelled) unlisten();
      else stop = unlisten;
    });
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [name]);
}

/** The latest progress report for `scope` (null before the first one, or after `reset`). */
export function useKeyProgress(scope: string): { progress: KeyProgress | null; reset: () => void } {
  const [progress, setProgress] = useState<KeyProgress | null>(null);
  useShellEvent<KeyProgress>(KEY_PROGRESS_EVENT, (p) => {
    if (p.scope === scope) setProgress(p);
  });
  return { progress, reset: () => setProgress(null) };
}

/** The latest audit progress report of `operation` on `scope`. */
export function useAuditProgress(
  operation: AuditProgress["operation"],
  scope: string,
): { progress: AuditProgress | null; reset: () => void } {
  const [progress, setProgress] = useState<AuditProgress | null>(null);
  useShellEvent<AuditProgress>(AUDIT_PROGRESS_EVENT, (p) => {
    if (p.operation === operation && p.scope === scope) setProgress(p);
  });
  return { progress, reset: () => setProgress(null) };
}
