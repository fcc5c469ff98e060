// The top-level state machine: first-run setup, unlock (passphrase mode), sign-in, then the
// signed-in shell. State comes from the core on every transition; nothing is assumed.
import { useCallback, useEffect, useState } from "react";
import { api, errorMessage, isSessionOver, type AppStatus, type WhoAmI } from "./api";
import { Setup } from "./screens/Setup";
import { Unlock } from "./screens/Unlock";
import { SignIn } from "./screens/SignIn";
import { Shell } from "./screens/Shell";

export function App() {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [me, setMe] = useState<WhoAmI | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const next = await api.status();
      setStatus(next);
      setMe(next.state === "signed_in" ? await api.whoami() : null);
    } catch (e) {
      setFatal(errorMessage(e));
    }
  }, []);

  // After a change to roles or workspaces; an ended session sends the UI back to sign-in.
  const reloadMe = useCallback(async () => {
    try {
      setMe(await api.whoami());
    } catch (e) {
      if (!isSessionOver(e)) throw e;
      await refresh();
    }
  }, [refresh]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (fatal) {
    return (
      <main className="centered">
        <div className="card" role="alert" data-testid="fatal-error">
          <h1>Headmaster cannot start</h1>
          <p className="error">{fatal}</p>
        </div>
      </main>
    );
  }
  if (!status) {
    return <main className="centered" aria-busy="true">Loading…</main>;
  }
  switch (status.state) {
    case "setup":
      return <Setup onDone={setStatus} />;
    case "locked":
      return <Unlock orgName={status.org_name} onUnlocked={setStatus} />;
    case "signed_out":
      return (
        <SignIn
          orgName={status.org_name}
          onSignedIn={(who) => {
            setMe(who);
            setStatus({ ...status, state: "signed_in" });
          }}
        />
      );
    case "signed_in":
      return me ? <Shell me={me} onSignedOut={refresh} onSessionLost={refresh} onReload={reloadMe} /> : null;
  }
}
