//! Keys & security: status, data-key rotation with live progress, retirement of unused
//! versions, KEK rotation, and the key maintenance the UI starts once after sign-in.
//!
//! Every operation that changes keys takes the shell's key lock first, so a rotation started
//! from the screen waits for start-up maintenance instead of racing it over the same scope.

use headmaster_core::vault::keys::SecretBytes;
use headmaster_core::vault::{KeysStatus, RotationReport};
use tauri::{Runtime, State, WebviewWindow};

use crate::dto::{self, CommandResult, MaintenanceOutcome};
use crate::events;
use crate::state::AppState;

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

/// Finishes rotations a crash interrupted, rotates keys older than the rotation period and
/// archives audit events past the retention period, once per run of the app, emitting progress under the scope `maintenance`. Later calls do
/// nothing and say so; a failed run is retried by the next call.
#[tauri::command]
pub async fn maintain_keys<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
) -> CommandResult<MaintenanceOutcome> {
    // Maintenance is the system's work, not the user's, so the core takes no session; the
    // shell still requires one so that a page script cannot start it before anyone signed in.
    let (instance, _session) = state.signed_in().await?;
    let mut work = state.key_work.lock().await;
    if work.maintained {
        return Ok(MaintenanceOutcome {
            ran: false,
            reports: Vec::new(),
        });
    }
    let progress = events::key_progress(&window, events::MAINTENANCE_SCOPE);
    let reports = state
        .settle(instance.maintain_keys(&state.source(), &progress).await)
        .await?;
    // The audit log's retention is maintained at the same moment.
    state
        .settle(instance.maintain_audit(&state.source()).await)
        .await?;
    work.maintained = true;
    Ok(MaintenanceOutcome { ran: true, reports })
}
