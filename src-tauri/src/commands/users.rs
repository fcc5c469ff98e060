//! Accounts of the organisation: list, add, disable, enable.

use headmaster_core::identity::UserSummary;
use headmaster_core::vault::keys::SecretBytes;
use tauri::State;

use crate::dto::{self, CommandResult};
use crate::state::AppState;

/// Every account.
#[tauri::command]
pub async fn list_users(state: State<'_, AppState>) -> CommandResult<Vec<UserSummary>> {
    let (instance, session) = state.signed_in().await?;
    state.settle(instance.list_users(&session).await).await
}

/// Adds an account with an organisation role.
#[tauri::command]
pub async fn add_user(
    state: State<'_, AppState>,
    username: String,
    password: String,
    org_role: String,
) -> CommandResult<UserSummary> {
    let role = dto::org_role(&org_role)?;
    let (instance, session) = state.signed_in().await?;
    let password = SecretBytes::from(password);
    state
        .settle(
            instance
                .add_user(&session, &username, &password, role)
                .await,
        )
        .await
}

/// Disables an account and ends its sessions.
#[tauri::command]
pub async fn disable_user(state: State<'_, AppState>, username: String) -> CommandResult<()> {
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.disable_user(&session, &username).await)
        .await
}

/// Re-enables an account.
#[tauri::command]
pub async fn enable_user(state: State<'_, AppState>, username: String) -> CommandResult<()> {
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.enable_user(&session, &username).await)
        .await
}
