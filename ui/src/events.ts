// Events the shell pushes while a command runs. Key rotation reports progress after every batch
// of re-encrypted rows as `key-rotation-progress`, sent to this window only.
import { listen } from "@tauri-apps/api/event";
import { useEffect, useState } from "react";

export interface KeyProgress {
  /** `instance`, a workspace id, or `maintenance` (start-up key maintenance). */
  scope: string;
  done: number;
  total: number;
}

export const KEY_PROGRESS_EVENT = "key-rotation-progress";
/** The window label from tauri.conf.json; the shell addresses progress events to it. */
const MAIN_WINDOW = "main";

/** Calls `handler` with every progress report; resolves to the function that stops listening. */
export function onKeyProgress(handler: (progress: KeyProgress) => void): Promise<() => void> {
  return listen<KeyProgress>(KEY_PROGRESS_EVENT, (event) => handler(event.payload), { target: MAIN_WINDOW });
}

/** The latest progress report for `scope` (null before the first one, or after `reset`). */
export function useKeyProgress(scope: string): { progress: KeyProgress | null; reset: () => void } {
  const [progress, setProgress] = useState<KeyProgress | null>(null);
  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    void onKeyProgress((p) => {
      if (p.scope === scope) setProgress(p);
    }).then((unlisten) => {
      if (cancelled) unlisten();
      else stop = unlisten;
    });
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [scope]);
  return { progress, reset: () => setProgress(null) };
}
