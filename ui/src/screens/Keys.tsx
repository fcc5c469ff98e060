// Keys & security: how the key-encryption key is protected and whether the keychain answers,
// the KEK version, and per key scope (the organisation, each workspace you manage keys of) the
// data and audit key versions with their row counts, rotation and retirement.
// The organisation view needs org.security; without it, the current workspace's keys are shown
// to holders of key.manage there.
import { useCallback, useEffect, useState } from "react";
import { api, type KeysStatus } from "../api";
import { CAP, canInOrg } from "../capabilities";
import { when } from "../format";
import { useShell } from "../shell-context";
import { KekRotation } from "./KekRotation";
import { KeyScopeCard } from "./KeyScopeCard";

export function Keys() {
  const { me, workspace, describeError } = useShell();
  const orgView = canInOrg(me, CAP.orgSecurity);
  const workspaceId = orgView ? null : (workspace?.id ?? null);
  const [status, setStatus] = useState<KeysStatus | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setStatus(await api.keysStatus(workspaceId));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [workspaceId, describeError]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section data-testid="keys-screen">
      <h1>Keys &amp; security</h1>
      {error && (
        <p className="error" role="alert" data-testid="keys-error">
          {error}
        </p>
      )}
      {status && (
        <>
          <dl className="facts">
            <dt>Key protection</dt>
            <dd data-testid="keys-protection">{status.protection}</dd>
            {status.keychain_available !== null && (
              <>
                <dt>OS keychain</dt>
                <dd data-testid="keys-keychain">{status.keychain_available ? "available" : "unavailable"}</dd>
              </>
            )}
            <dt>Key-encryption key</dt>
            <dd data-testid="keys-kek">
              version {status.kek_version}, last rotated {when(status.kek_rotated_at)}
            </dd>
            <dt>Automatic rotation</dt>
            <dd data-testid="keys-period">data keys older than {status.rotation_period_days} days</dd>
          </dl>
          {orgView && <KekRotation protection={status.protection} onChanged={load} />}
          {status.scopes.map((scope) => (
            <KeyScopeCard key={scope.scope} scope={scope} onChanged={load} />
          ))}
        </>
      )}
    </section>
  );
}
