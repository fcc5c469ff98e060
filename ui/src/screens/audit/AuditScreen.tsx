// Audit: the current workspace's chain (audit.read) or the organisation's (org.security) —
// filtered, paged entries, verification with progress, and export of a signed bundle
// (audit.manage, or org.security for the organisation's chain).
import { useState } from "react";
import { CAP, canInOrg, canInWorkspace } from "../../capabilities";
import { useShell } from "../../shell-context";
import { AuditExport } from "./AuditExport";
import { AuditLog } from "./AuditLog";
import { AuditVerify } from "./AuditVerify";

interface ChainChoice {
  id: string;
  label: string;
  canManage: boolean;
}

export function AuditScreen() {
  const { me, workspace } = useShell();
  const choices: ChainChoice[] = [];
  if (workspace && canInWorkspace(workspace, CAP.auditRead)) {
    choices.push({ id: workspace.id, label: `Workspace: ${workspace.name}`, canManage: canInWorkspace(workspace, CAP.auditManage) });
  }
  if (canInOrg(me, CAP.orgSecurity)) {
    choices.push({ id: "instance", label: `Organisation: ${me.org_name}`, canManage: true });
  }
  const [picked, setPicked] = useState<string | null>(null);
  const chain = choices.find((c) => c.id === picked) ?? choices[0];

  return (
    <section data-testid="audit-screen">
      <h1>Audit</h1>
      {chain ? (
        <>
          <label className="inline">
            Chain
            <select data-testid="audit-scope" value={chain.id} onChange={(e) => setPicked(e.target.value)}>
              {choices.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
          <AuditLog key={`log-${chain.id}`} scope={chain.id} />
          <AuditVerify key={`verify-${chain.id}`} scope={chain.id} />
          {chain.canManage && <AuditExport key={`export-${chain.id}`} scope={chain.id} />}
        </>
      ) : (
        <p className="muted">Your role may not read an audit log here.</p>
      )}
    </section>
  );
}
