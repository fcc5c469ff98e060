//! Events the shell pushes to the UI, always addressed to the main window only.
//!
//! - `key-rotation-progress`: key rotation re-encrypts rows in batches and reports after each
//!   one, so the UI can draw a progress bar before the command returns its final report.
//! - `audit-progress`: the same for verifying and exporting an audit chain.
//! - `run-updated`: a run changed state (from the core's in-process events, whoever drove it).
//! - `approvals-changed`: the number of pending requests the signed-in person may decide
//!   changed, or new ones arrived (from the approval watcher in `worker`);
//! - `open-approvals`: the person clicked an approval notification; the UI shows the inbox.

use headmaster_core::vault::rotation::Progress;
use serde::Serialize;
use tauri::{AppHandle, Emitter, EventTarget, Runtime, WebviewWindow};

/// The label of the app's only window (`tauri.conf.json`).
pub const MAIN_WINDOW: &str = "main";

/// The name of the key-rotation progress event.
pub const KEY_PROGRESS: &str = "key-rotation-progress";

/// The name of the audit verify/export progress event.
pub const AUDIT_PROGRESS: &str = "audit-progress";

/// The name of the run update event.
pub const RUN_UPDATED: &str = "run-updated";

/// The name of the inbox change event.
pub const APPROVALS_CHANGED: &str = "approvals-changed";

/// The name of the event that asks the UI to show the inbox.
pub const OPEN_APPROVALS: &str = "open-approvals";

/// The scope name progress events carry during a maintenance pass, which may walk several
/// scopes one after the other.
pub const MAINTENANCE_SCOPE: &str = "maintenance";

/// One progress report, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyProgress {
    /// `instance`, a workspace id, or `maintenance`.
    pub scope: String,
    /// Rows re-encrypted so far.
    pub done: u64,
    /// Rows to re-encrypt.
    pub total: u64,
}

/// Progress of an audit verification or export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProgress {
    /// `verify` or `export`.
    pub operation: &'static str,
    /// `instance` or a workspace id.
    pub scope: String,
    /// Events handled so far.
    pub done: u64,
    /// Events in the chain.
    pub total: u64,
}

/// A run's new state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RunUpdate {
    /// The run's workspace.
    pub workspace_id: String,
    /// The run.
    pub run_id: String,
    /// Its status now.
    pub status: headmaster_core::states::RunStatus,
    /// Whether the update is the run being flagged as stalled.
    pub stalled: bool,
}

/// The inbox as the approval watcher last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ApprovalsChanged {
    /// Pending requests, in every workspace, that the signed-in person may decide.
    pub pending: usize,
    /// Requests first seen in this pass (a notification was posted for them).
    pub new: Vec<String>,
}

/// A progress callback for background key work (the maintenance worker): each report goes to
/// the main window under [`MAINTENANCE_SCOPE`].
pub fn maintenance_progress<R: Runtime>(app: &AppHandle<R>) -> impl Fn(Progress) + Send + Sync {
    let app = app.clone();
    move |progress: Progress| {
        let payload = KeyProgress {
            scope: MAINTENANCE_SCOPE.to_string(),
            done: progress.done,
            total: progress.total,
        };
        to_main(&app, KEY_PROGRESS, payload);
    }
}

/// A progress callback for the core that emits each report to `window` only.
pub fn key_progress<R: Runtime>(
    window: &WebviewWindow<R>,
    scope: &str,
) -> impl Fn(Progress) + Send + Sync {
    let window = window.clone();
    let scope = scope.to_string();
    move |progress: Progress| {
        let payload = KeyProgress {
            scope: scope.clone(),
            done: progress.done,
            total: progress.total,
        };
        to_window(&window, KEY_PROGRESS, payload);
    }
}

/// A `(done, total)` callback for audit verification or export that emits each report to
/// `window` only.
pub fn audit_progress<R: Runtime>(
    window: &WebviewWindow<R>,
    operation: &'static str,
    scope: &str,
) -> impl Fn(u64, u64) + Send + Sync {
    let window = window.clone();
    let scope = scope.to_string();
    move |done, total| {
        let payload = AuditProgress {
            operation,
            scope: scope.clone(),
            done,
            total,
        };
        to_window(&window, AUDIT_PROGRESS, payload);
    }
}

/// Sends an event to the main window from background work that has no calling window.
pub fn to_main<R: Runtime>(app: &AppHandle<R>, event: &str, payload: impl Serialize + Clone) {
    // A lost update only leaves the screen stale until the next one or the screen's own
    // refresh; the work it reports goes on, so the failure is logged, not raised.
    if let Err(error) = app.emit_to(EventTarget::webview_window(MAIN_WINDOW), event, payload) {
        tracing::warn!(%error, event, "could not send an event to the main window");
    }
}

fn to_window<R: Runtime>(window: &WebviewWindow<R>, event: &str, payload: impl Serialize + Clone) {
    // Progress lost on the way only stalls the bar until the next report; the command's own
    // result still reports the outcome.
    let target = EventTarget::webview_window(window.label());
    if let Err(error) = window.emit_to(target, event, payload) {
        tracing::warn!(%error, event, "could not send progress to the window");
    }
}
