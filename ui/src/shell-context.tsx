// What every signed-in screen needs from the frame around it: who is signed in, the current
// workspace, a way to re-read both after a change, and one place that turns errors into text
// (and notices when the session is over).
import { createContext, useCallback, useContext, useState } from "react";
import type { WhoAmI, WorkspaceSummary } from "./api";

export interface ShellContextValue {
  me: WhoAmI;
  workspace: WorkspaceSummary | null;
  /** Re-reads who-am-I (roles, workspaces); `select` switches to that workspace first. */
  refresh: (select?: string) => Promise<void>;
  /** The text to show for an error; sends the UI back to sign-in when the session is over. */
  describeError: (error: unknown) => string;
}

export const ShellContext = createContext<ShellContextValue | null>(null);

export function useShell(): ShellContextValue {
  const value = useContext(ShellContext);
  if (!value) throw new Error("useShell() is only available inside the signed-in shell");
  return value;
}

/** Busy flag and error text around one user action at a time. */
export function useAction() {
  const { describeError } = useShell();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (work: () => Promise<void>): Promise<boolean> => {
      setBusy(true);
      setError(null);
      try {
        await work();
        return true;
      } catch (e) {
        setError(describeError(e));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [describeError],
  );
  return { busy, error, run, setError };
}
