//! Roles: the four built-in ones and the organisation's custom roles.

use headmaster_core::access::RoleSummary;
use tauri::State;

use crate::dto::{self, CommandResult};
use crate::state::AppState;

/// The built-in and custom roles with their capabilities: for the organisation's role managers,
/// or (with `workspace_id`) for whoever manages that workspace's members.
#[tauri::command]
pub async fn list_roles(
    state: State<'_, AppState>,
    workspace_id: Option<String>,
) -> CommandResult<Vec<RoleSummary>> {
    let workspace = workspace_id.as_deref().map(dto::workspace_id).transpose()?;
    let (instance, session) = state.signed_in().await?;
    let roles = match workspace {
        Some(w) => instance.assignable_roles(&session, w).await,
        None => instance.list_roles(&session).await,
    };
    state.settle(roles).await
}

/// Defines a custom role as a set of capability names.
#[tauri::command]
pub async fn create_role(
    state: State<'_, AppState>,
    name: String,
    capabilities: Vec<String>,
) -> CommandResult<RoleSummary> {
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.create_role(&session, &name, &capabilities).await)
        .await
}

/// Deletes a custom role no membership uses.
#[tauri::command]
pub async fn delete_role(state: State<'_, AppState>, name: String) -> CommandResult<()> {
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.delete_role(&session, &name).await)
        .await
}
