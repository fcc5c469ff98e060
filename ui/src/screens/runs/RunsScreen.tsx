// Agents & runs: agents and the example playbooks, starting a run, the runs list (live through
// `run-updated`), the selected run's detail, and workspace memory.
import { useCallback, useEffect, useState } from "react";
import { runtimeApi, type AgentSummary, type ExamplePlaybook, type RunSummary } from "../../api/runtime";
import { CAP, canInWorkspace } from "../../capabilities";
import { RUN_UPDATED_EVENT, useShellEvent } from "../../events";
import { useAction, useShell } from "../../shell-context";
import { AgentsPanel } from "./AgentsPanel";
import { MemoryPanel } from "./MemoryPanel";
import { RunDetail } from "./RunDetail";
import { RunList } from "./RunList";

export function RunsScreen() {
  const { workspace } = useShell();
  const workspaceId = workspace?.id ?? "";
  const action = useAction();
  const [agents, setAgents] = useState<AgentSummary[]>([]);
  const [examples, setExamples] = useState<ExamplePlaybook[]>([]);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const canInstall = canInWorkspace(workspace, CAP.agentManage);
  const { run } = action;

  const loadRuns = useCallback(() => run(async () => setRuns(await runtimeApi.listRuns(workspaceId))), [run, workspaceId]);
  const loadAgents = useCallback(
    () =>
      run(async () => {
        const [list, shipped] = await Promise.all([runtimeApi.listAgents(workspaceId), canInstall ? runtimeApi.examples() : []]);
        setAgents(list);
        setExamples(shipped);
      }),
    [run, workspaceId, canInstall],
  );

  useEffect(() => {
    void loadAgents();
    void loadRuns();
  }, [loadAgents, loadRuns]);
  useShellEvent(RUN_UPDATED_EVENT, () => void loadRuns());

  async function install(file: string) {
    const ok = await action.run(async () => void (await runtimeApi.installExample(workspaceId, file)));
    if (ok) await loadAgents();
    return ok;
  }

  async function start(agent: string, task: string) {
    const ok = await action.run(async () => {
      const started = await runtimeApi.startRun(workspaceId, agent, task);
      setSelected(started.id);
    });
    if (ok) await loadRuns();
    return ok;
  }

  return (
    <section data-testid="runs-screen">
      <h1>Agents &amp; runs</h1>
      {action.error && (
        <p className="error" role="alert" data-testid="runs-error">
          {action.error}
        </p>
      )}
      <AgentsPanel
        agents={agents}
        examples={examples}
        canInstall={canInstall}
        canStart={canInWorkspace(workspace, CAP.runStart)}
        busy={action.busy}
        onInstall={install}
        onStart={start}
      />
      <div className="panel">
        <h2>Runs</h2>
        {runs && <RunList runs={runs} selected={selected} onSelect={setSelected} />}
      </div>
      {selected && (
        <RunDetail
          key={selected}
          workspaceId={workspaceId}
          runId={selected}
          canControl={canInWorkspace(workspace, CAP.runControl)}
          onOpenRun={setSelected}
          onChanged={() => void loadRuns()}
        />
      )}
      <MemoryPanel workspaceId={workspaceId} canWrite={canInWorkspace(workspace, CAP.memoryWrite)} />
    </section>
  );
}
