//! Roles: the four built-in ones and the organisation's custom roles.

use headmaster_core::access::RoleSummary;
use tauri::State;

use crate::dto::CommandResult;
use crate::state::AppState;

/// The built-in and custom roles with their capabilities.
#[tauri::command]
pub async fn list_roles(state: State<'_, AppState>) -> CommandResult<Vec<RoleSummary>> {
    let (instance, session) = state.signed_in().await?;
    state.settle(instance.list_roles(&session).await).await
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
