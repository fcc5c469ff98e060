//! Events the shell pushes to the UI while a command is still running.
//!
//! Key rotation re-encrypts rows in batches and reports after each one; the shell forwards every
//! report to the calling window as a `key-rotation-progress` event so the UI can draw a
//! progress bar before the command returns its final report.

use headmaster_core::vault::rotation::Progress;
use serde::Serialize;
use tauri::{Emitter, EventTarget, Runtime, WebviewWindow};

/// The name of the key-rotation progress event.
pub const KEY_PROGRESS: &str = "key-rotation-progress";

/// The scope name progress events carry during start-up maintenance, which may walk several
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
        let target = EventTarget::webview_window(window.label());
        // A lost progress event only stalls the bar until the next one; the command's own result
        // still reports the outcome, so the work goes on and the failure is logged.
        if let Err(error) = window.emit_to(target, KEY_PROGRESS, payload) {
            tracing::warn!(%error, "could not send key rotation progress to the window");
        }
    }
}
