//! Credentials of a workspace (credential.manage): names and usage, create or replace, delete.
//! A value goes in and never comes out: no command returns one.

use headmaster_core::tools::CredentialSummary;
use tauri::State;
use zeroize::Zeroizing;

use crate::dto::{self, CommandResult};
use crate::state::AppState;

/// Names, creation, change and last use; never values.
#[tauri::command]
pub async fn list_credentials(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<Vec<CredentialSummary>> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.list_credentials(&session, workspace).await)
        .await
}

/// Creates or replaces a credential. Returns nothing, so the value cannot travel back.
#[tauri::command]
pub async fn set_credential(
    state: State<'_, AppState>,
    workspace_id: String,
    name: String,
    value: String,
) -> CommandResult<()> {
    // The shell's copy of the value is wiped when the command ends, whatever the outcome.
    let value = Zeroizing::new(value);
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .set_credential(&session, workspace, &name, value.as_str())
                .await,
        )
        .await
}

/// Deletes a credential.
#[tauri::command]
pub async fn delete_credential(
    state: State<'_, AppState>,
    workspace_id: String,
    name: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.delete_credential(&session, workspace, &name).await)
        .await
}
