//! Keys & security: status, data-key rotation with live progress, retirement of unused
//! versions, KEK rotation, and what the background maintenance worker did.
//!
//! Every operation that changes keys takes the shell's key lock first, so a rotation started
//! from the screen waits for a maintenance pass instead of racing it over the same scope.

use headmaster_core::vault::keys::SecretBytes;
use headmaster_core::vault::{KeysStatus, RotationReport};
use tauri::{Runtime, State, WebviewWindow};

use crate::dto::{self, CommandError, CommandResult, MaintenanceOutcome};
use crate::events;
use crate::state::{AppState, MaintenancePhase};

/// Key status: the organisation and every workspace the caller manages keys of when
/// `workspace_id` is absent, else that one workspace.
#[tauri::command]
pub async fn keys_status(
    state: State<'_, AppState>,
    workspace_id: Option<String>,
) -> CommandResult<KeysStatus> {
    let workspace = workspace_id.as_deref().map(dto::workspace_id).transpose()?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.keys_status(&session, workspace).await)
        .await
}

/// Rotates the keys of `scope` (`instance` or a workspace id) and re-encrypts its rows,
/// emitting `key-rotation-progress` events to the calling window after every batch.
#[tauri::command]
pub async fn rotate_keys<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    scope: String,
) -> CommandResult<RotationReport> {
    let key_scope = dto::key_scope(&scope)?;
    let (instance, session) = state.signed_in().await?;
    let progress = events::key_progress(&window, &scope);
    let _work = state.key_work.lock().await;
    state
        .settle(instance.rotate_keys(&session, key_scope, &progress).await)
        .await
}

/// Destroys the old data-key versions of `scope` that no row uses, once their grace period
/// passed; returns the versions destroyed.
#[tauri::command]
pub async fn retire_unused_keys(
    state: State<'_, AppState>,
    scope: String,
) -> CommandResult<Vec<u32>> {
    let key_scope = dto::key_scope(&scope)?;
    let (instance, session) = state.signed_in().await?;
    let _work = state.key_work.lock().await;
    state
        .settle(instance.retire_unused_keys(&session, key_scope).await)
        .await
}

/// Re-wraps every key under a new KEK: a random one in the keychain, or one derived from
/// `new_passphrase` in passphrase mode. Returns the new KEK version.
#[tauri::command]
pub async fn rotate_kek(
    state: State<'_, AppState>,
    new_passphrase: Option<String>,
) -> CommandResult<u32> {
    let (instance, session) = state.signed_in().await?;
    let passphrase = new_passphrase.map(SecretBytes::from);
    let _work = state.key_work.lock().await;
    state
        .settle(instance.rotate_kek(&session, passphrase).await)
        .await
}

/// The background maintenance worker's latest finished pass (finishing rotations a crash
/// interrupted, rotating keys older than the rotation period, archiving old audit events):
/// waits while the first pass runs; after a failed pass, asks the worker for a new one and
/// waits for it. Maintenance runs whether or not anyone calls this; the command is how the
/// window shows it.
#[tauri::command]
pub async fn maintain_keys(state: State<'_, AppState>) -> CommandResult<MaintenanceOutcome> {
    // The work needs no session (it is the system's), but what it did is shown to signed-in
    // people only.
    state.signed_in().await?;
    let mut phases = state.maintenance.subscribe();
    let retry_after = match &*phases.borrow_and_update() {
        MaintenancePhase::Failed { pass, .. } => Some(*pass),
        _ => None,
    };
    if retry_after.is_some() {
        state.signals.maintenance.notify_one();
    }
    loop {
        match &*phases.borrow_and_update() {
            MaintenancePhase::Done { pass, reports } if Some(*pass) > retry_after => {
                return Ok(MaintenanceOutcome {
                    pass: *pass,
                    reports: reports.clone(),
                })
            }
            MaintenancePhase::Failed { pass, error } if Some(*pass) > retry_after => {
                return Err(error.clone())
            }
            _ => {}
        }
        phases
            .changed()
            .await
            .map_err(|_| CommandError::new("locked", "the app is shutting down"))?;
    }
}
