//! Agents and runs of a workspace: agents (and the example playbooks to install), starting a
//! run, the runs list, a run's timeline, tree and drafts, cancel and resume; drafts; memory.
//!
//! A run started here is not driven inside the command: the runtime worker (`worker`) is woken
//! and drives it in the background, so the command returns the queued run at once and the UI
//! follows it through `run-updated` events.

use headmaster_core::runtime::{
    AgentSummary, DraftDetail, DraftSummary, MemoryEntry, RunDetail, RunSummary,
};
use tauri::State;

use crate::dto::{self, CommandResult, ExamplePlaybook};
use crate::state::AppState;

/// The workspace's agents.
#[tauri::command]
pub async fn list_agents(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<Vec<AgentSummary>> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.list_agents(&session, workspace).await)
        .await
}

/// The example playbooks shipped with Headmaster.
#[tauri::command]
pub async fn example_playbooks() -> CommandResult<Vec<ExamplePlaybook>> {
    Ok(dto::example_playbooks())
}

/// Installs an example playbook (by file name) as an agent of the workspace.
#[tauri::command]
pub async fn install_example_playbook(
    state: State<'_, AppState>,
    workspace_id: String,
    file: String,
) -> CommandResult<AgentSummary> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let playbook = dto::example_playbook(&file)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .create_playbook_agent(&session, workspace, playbook)
                .await,
        )
        .await
}

/// Starts a run of `agent` on `task`; the runtime worker drives it.
#[tauri::command]
pub async fn start_run(
    state: State<'_, AppState>,
    workspace_id: String,
    agent: String,
    task: String,
) -> CommandResult<RunSummary> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    let run = state
        .settle(
            instance
                .start_run(&session, workspace, &agent, &task, false)
                .await,
        )
        .await?;
    state.signals.runs.notify_one();
    Ok(run)
}

/// Runs, newest first, with stalled runs flagged.
#[tauri::command]
pub async fn list_runs(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<Vec<RunSummary>> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.list_runs(&session, workspace).await)
        .await
}

/// One run with its timeline, sub-runs and drafts.
#[tauri::command]
pub async fn show_run(
    state: State<'_, AppState>,
    workspace_id: String,
    run_id: String,
) -> CommandResult<RunDetail> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.show_run(&session, workspace, &run_id).await)
        .await
}

/// Cancels an unfinished run.
#[tauri::command]
pub async fn cancel_run(
    state: State<'_, AppState>,
    workspace_id: String,
    run_id: String,
) -> CommandResult<RunSummary> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.cancel_run(&session, workspace, &run_id).await)
        .await
}

/// Continues a waiting or stalled run until it finishes or has to wait again.
#[tauri::command]
pub async fn resume_run(
    state: State<'_, AppState>,
    workspace_id: String,
    run_id: String,
) -> CommandResult<RunSummary> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.resume_run(&session, workspace, &run_id).await)
        .await
}

/// Drafts: the latest version of each.
#[tauri::command]
pub async fn list_drafts(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<Vec<DraftSummary>> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.list_drafts(&session, workspace).await)
        .await
}

/// A draft (by key or version id) with every version's body.
#[tauri::command]
pub async fn show_draft(
    state: State<'_, AppState>,
    workspace_id: String,
    id: String,
) -> CommandResult<DraftDetail> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.show_draft(&session, workspace, &id).await)
        .await
}

/// Every memory entry, newest first.
#[tauri::command]
pub async fn list_memory(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<Vec<MemoryEntry>> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.list_memory(&session, workspace).await)
        .await
}

/// Writes a memory entry as the signed-in person.
#[tauri::command]
pub async fn write_memory(
    state: State<'_, AppState>,
    workspace_id: String,
    key: String,
    value: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .write_memory(&session, workspace, &key, &value)
                .await,
        )
        .await
}
