//! Workspaces: create, rename, delete. The list comes with `whoami` (the switcher).

use headmaster_core::access::WorkspaceSummary;
use tauri::State;

use crate::dto::{self, CommandResult};
use crate::state::AppState;

/// Creates a workspace; the caller becomes its Admin.
#[tauri::command]
pub async fn create_workspace(
    state: State<'_, AppState>,
    name: String,
) -> CommandResult<WorkspaceSummary> {
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.create_workspace(&session, &name).await)
        .await
}

/// Renames a workspace.
#[tauri::command]
pub async fn rename_workspace(
    state: State<'_, AppState>,
    workspace_id: String,
    name: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.rename_workspace(&session, workspace, &name).await)
        .await
}

/// Deletes a workspace with its keys and files.
#[tauri::command]
pub async fn delete_workspace(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.delete_workspace(&session, workspace).await)
        .await
}
