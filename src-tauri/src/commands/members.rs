//! Workspace membership: list, add, change role, remove.

use headmaster_core::access::MemberSummary;
use tauri::State;

use crate::dto::{self, CommandResult};
use crate::state::AppState;

/// The members of a workspace with their roles.
#[tauri::command]
pub async fn list_members(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<Vec<MemberSummary>> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.list_members(&session, workspace).await)
        .await
}

/// Adds a user to a workspace with a built-in or custom role.
#[tauri::command]
pub async fn add_member(
    state: State<'_, AppState>,
    workspace_id: String,
    username: String,
    role: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .add_member(&session, workspace, &username, &role)
                .await,
        )
        .await
}

/// Changes a member's role.
#[tauri::command]
pub async fn set_member_role(
    state: State<'_, AppState>,
    workspace_id: String,
    username: String,
    role: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .set_member_role(&session, workspace, &username, &role)
                .await,
        )
        .await
}

/// Removes a member from a workspace.
#[tauri::command]
pub async fn remove_member(
    state: State<'_, AppState>,
    workspace_id: String,
    username: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.remove_member(&session, workspace, &username).await)
        .await
}
