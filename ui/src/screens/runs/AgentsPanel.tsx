// The workspace's agents, the example playbooks to install (agent.manage), and the form that
// starts a run (run.start).
import { useState } from "react";
import type { AgentSummary, ExamplePlaybook } from "../../api/runtime";
import { onSubmit } from "../../forms";

export interface AgentsPanelProps {
  agents: AgentSummary[];
  examples: ExamplePlaybook[];
  canInstall: boolean;
  canStart: boolean;
  busy: boolean;
  onInstall: (file: string) => Promise<boolean>;
  onStart: (agent: string, task: string) => Promise<boolean>;
}

export function AgentsPanel({ agents, examples, canInstall, canStart, busy, onInstall, onStart }: AgentsPanelProps) {
  const [agent, setAgent] = useState("");
  const [task, setTask] = useState("");
  const chosen = agents.some((a) => a.name === agent) ? agent : (agents[0]?.name ?? "");
  const installable = examples.filter((e) => !agents.some((a) => a.name === e.name));

  async function start() {
    if (await onStart(chosen, task.trim())) setTask("");
  }

  return (
    <div className="panel" data-testid="agents-panel">
      <h2>Agents</h2>
      {agents.length === 0 ? (
        <p className="muted">No agents yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Provider</th>
              <th>Tools it may propose</th>
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.id} data-testid="agent-row" data-name={a.name}>
                <td>{a.name}</td>
                <td>
                  {a.provider}
                  {a.model && ` (${a.model})`}
                </td>
                <td>{a.tools.join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canInstall && installable.length > 0 && (
        <div className="row">
          {installable.map((e) => (
            <button
              key={e.file}
              className="secondary"
              disabled={busy}
              title={e.description ?? undefined}
              onClick={() => void onInstall(e.file)}
              data-testid="install-example"
              data-name={e.name}
            >
              Install example: {e.name}
            </button>
          ))}
        </div>
      )}
      {canStart && agents.length > 0 && (
        <form className="row" onSubmit={onSubmit(() => void start())} data-testid="run-start-form">
          <label>
            Agent
            <select data-testid="run-agent" value={chosen} onChange={(e) => setAgent(e.target.value)}>
              {agents.map((a) => (
                <option key={a.id} value={a.name}>
                  {a.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Task
            <input data-testid="run-task" value={task} onChange={(e) => setTask(e.target.value)} size={40} required />
          </label>
          <button type="submit" disabled={busy} data-testid="run-start">
            Start run
          </button>
        </form>
      )}
    </div>
  );
}
