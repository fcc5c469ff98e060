// Workspace memory: what agents may load into their context. Anyone who reads the workspace
// sees it; memory.write adds or replaces an entry.
import { useCallback, useEffect, useState } from "react";
import { runtimeApi, type MemoryEntry } from "../../api/runtime";
import { onSubmit } from "../../forms";
import { when } from "../../format";
import { useAction } from "../../shell-context";

export function MemoryPanel({ workspaceId, canWrite }: { workspaceId: string; canWrite: boolean }) {
  const action = useAction();
  const [entries, setEntries] = useState<MemoryEntry[] | null>(null);
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const { run } = action;

  const load = useCallback(() => run(async () => setEntries(await runtimeApi.listMemory(workspaceId))), [run, workspaceId]);

  useEffect(() => {
    void load();
  }, [load]);

  async function save() {
    if (await action.run(() => runtimeApi.writeMemory(workspaceId, key.trim(), value))) {
      setKey("");
      setValue("");
      await load();
    }
  }

  return (
    <div className="panel" data-testid="memory-panel">
      <h2>Memory</h2>
      {entries && entries.length === 0 && <p className="muted">Nothing remembered yet.</p>}
      {entries && entries.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>By</th>
              <th>Changed</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.key} data-testid="memory-row" data-key={e.key}>
                <td>
                  <code>{e.key}</code>
                </td>
                <td className="clip">{e.value}</td>
                <td>{e.author}</td>
                <td>{when(e.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form className="row" onSubmit={onSubmit(() => void save())} data-testid="memory-form">
          <label>
            Key
            <input data-testid="memory-key" value={key} onChange={(e) => setKey(e.target.value)} required />
          </label>
          <label>
            Value
            <textarea data-testid="memory-value" rows={2} value={value} onChange={(e) => setValue(e.target.value)} required />
          </label>
          <button type="submit" disabled={action.busy} data-testid="memory-save">
            Remember
          </button>
        </form>
      )}
      {action.error && (
        <p className="error" role="alert" data-testid="memory-error">
          {action.error}
        </p>
      )}
    </div>
  );
}
