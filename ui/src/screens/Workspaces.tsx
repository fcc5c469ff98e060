// Workspaces: create one (org.workspaces), rename or delete the current one (workspace.manage).
// Deleting destroys the workspace's keys and files, so it asks for the name to be typed.
import { useState, type FormEvent } from "react";
import { api } from "../api";
import { CAP, canInOrg, canInWorkspace } from "../capabilities";
import { useAction, useShell } from "../shell-context";

export function Workspaces() {
  const { me, workspace } = useShell();
  return (
    <section data-testid="workspaces-screen">
      <h1>Workspaces</h1>
      {canInOrg(me, CAP.orgWorkspaces) && <CreateWorkspace />}
      {workspace && canInWorkspace(workspace, CAP.workspaceManage) && (
        <ManageWorkspace key={workspace.id} id={workspace.id} name={workspace.name} />
      )}
    </section>
  );
}

function CreateWorkspace() {
  const { refresh } = useShell();
  const { busy, error, run } = useAction();
  const [name, setName] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    await run(async () => {
      const created = await api.createWorkspace(name);
      setName("");
      await refresh(created.id);
    });
  }

  return (
    <form className="panel" onSubmit={submit} data-testid="workspace-create-form">
      <h2>New workspace</h2>
      <div className="row">
        <label>
          Name
          <input data-testid="workspace-create-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit" disabled={busy} data-testid="workspace-create-submit">
          Create
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="workspace-create-error">
          {error}
        </p>
      )}
    </form>
  );
}

function ManageWorkspace({ id, name }: { id: string; name: string }) {
  const { refresh } = useShell();
  const rename = useAction();
  const remove = useAction();
  const [newName, setNewName] = useState(name);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");

  async function submitRename(event: FormEvent) {
    event.preventDefault();
    await rename.run(async () => {
      await api.renameWorkspace(id, newName);
      await refresh(id);
    });
  }

  async function submitDelete(event: FormEvent) {
    event.preventDefault();
    await remove.run(async () => {
      await api.deleteWorkspace(id);
      await refresh();
    });
  }

  return (
    <div className="panel" data-testid="workspace-manage">
      <h2>This workspace: {name}</h2>
      <form className="row" onSubmit={submitRename}>
        <label>
          New name
          <input data-testid="workspace-rename-name" value={newName} onChange={(e) => setNewName(e.target.value)} required />
        </label>
        <button type="submit" className="secondary" disabled={rename.busy} data-testid="workspace-rename-submit">
          Rename
        </button>
      </form>
      {rename.error && (
        <p className="error" role="alert" data-testid="workspace-rename-error">
          {rename.error}
        </p>
      )}
      {!confirming ? (
        <button className="danger" onClick={() => setConfirming(true)} data-testid="workspace-delete-start">
          Delete workspace…
        </button>
      ) : (
        <form className="confirm" onSubmit={submitDelete} data-testid="workspace-delete-form">
          <p>
            Deleting destroys this workspace&apos;s keys, members and data for good. Type <strong>{name}</strong> to
            confirm.
          </p>
          <input data-testid="workspace-delete-confirm" value={typed} onChange={(e) => setTyped(e.target.value)} />
          <div className="row">
            <button type="submit" className="danger" disabled={typed !== name || remove.busy} data-testid="workspace-delete-submit">
              Delete for good
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {remove.error && (
        <p className="error" role="alert" data-testid="workspace-delete-error">
          {remove.error}
        </p>
      )}
    </div>
  );
}
