//! The shared server: join it (an Admin, with its URL, certificate pin and a one-time token),
//! see each chain's sync state, sync now (with `sync-progress` events), re-pin a replaced
//! certificate, resume a stopped chain, leave. The background sync is `worker::sync`.

use headmaster_core::sync::{
    JoinReport, LeaveReport, ServerStatus, SyncReport, DEFAULT_SEGMENT_ROWS,
};
use tauri::{Runtime, State, WebviewWindow};

use crate::dto::CommandResult;
use crate::events;
use crate::state::AppState;

/// The joined server and every chain's sync state as last seen (`sync.not_joined` when none).
#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> CommandResult<ServerStatus> {
    let (instance, session) = state.signed_in().await?;
    state.settle(instance.server_status(&session).await).await
}

/// Joins the server at `url`: its certificate must have one of `pins` before anything is sent.
#[tauri::command]
pub async fn join_server(
    state: State<'_, AppState>,
    url: String,
    pins: Vec<String>,
    token: String,
    name: String,
) -> CommandResult<JoinReport> {
    let (instance, session) = state.signed_in().await?;
    let pins: Vec<String> = pins
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let name = if name.trim().is_empty() {
        whoami::fallible::hostname().unwrap_or_else(|_| "headmaster".into())
    } else {
        name.trim().to_owned()
    };
    let joined = instance
        .join_server(&session, url.trim(), &pins, &token, &name)
        .await;
    state.signals.sync.notify_one();
    state.settle(joined).await
}

/// Uploads every chain's new events now, emitting `sync-progress` (done, total) to the window.
#[tauri::command]
pub async fn sync_server<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
) -> CommandResult<SyncReport> {
    let (instance, session) = state.signed_in().await?;
    let progress = events::audit_progress(&window, "sync", "server");
    state
        .settle(
            instance
                .sync_server(&session, DEFAULT_SEGMENT_ROWS, &progress)
                .await,
        )
        .await
}

/// Pins the server's new certificate key(s).
#[tauri::command]
pub async fn repin_server(state: State<'_, AppState>, pins: Vec<String>) -> CommandResult<()> {
    let (instance, session) = state.signed_in().await?;
    let pins: Vec<String> = pins.iter().map(|p| p.trim().to_owned()).collect();
    let done = instance.repin_server(&session, &pins).await;
    state.signals.sync.notify_one();
    state.settle(done).await
}

/// Lets a stopped chain sync again.
#[tauri::command]
pub async fn resume_sync_chain(state: State<'_, AppState>, scope: String) -> CommandResult<()> {
    let (instance, session) = state.signed_in().await?;
    let done = instance.resume_chain(&session, &scope).await;
    state.signals.sync.notify_one();
    state.settle(done).await
}

/// Stops syncing; revokes this device on the server when it is reachable.
#[tauri::command]
pub async fn leave_server(state: State<'_, AppState>) -> CommandResult<LeaveReport> {
    let (instance, session) = state.signed_in().await?;
    state.settle(instance.leave_server(&session).await).await
}
