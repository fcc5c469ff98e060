//! The maintenance worker: the core's full maintenance pass (`Instance::maintain`) at unlock,
//! then every hour, or at once when the window asks after a failed pass. It needs no screen
//! and no session: keys are rotated by age, interrupted rotations finished, old audit events
//! archived and due requests expired whether or not anyone opens the keys screen. Progress goes
//! to the main window as `key-rotation-progress` events under the `maintenance` scope, and the
//! outcome into `AppState::maintenance`, where `maintain_keys` reads it.

use std::time::Duration;

use headmaster_core::maintenance::Work;
use tauri::{AppHandle, Manager, Runtime};

use crate::dto::CommandError;
use crate::events;
use crate::state::{AppState, MaintenancePhase};

/// How often a pass runs after the first.
const EVERY: Duration = Duration::from_secs(60 * 60);
/// How soon a pass is tried again after one failed.
const RETRY: Duration = Duration::from_secs(5 * 60);

/// Runs passes for as long as the app runs.
pub async fn run<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    let mut pass = 0;
    loop {
        let instance = state.instance.read().await.clone();
        let mut wait = EVERY;
        if let Some(instance) = instance {
            pass += 1;
            state.maintenance.send_replace(MaintenancePhase::Running);
            // The pass runs in a task of its own, so that a panic in it ends as a failed
            // pass (and the window hears of it) instead of leaving the phase `running`.
            let task = {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let state = app.state::<AppState>();
                    let progress = events::maintenance_progress(&app);
                    let _work = state.key_work.lock().await;
                    instance
                        .maintain(&state.source(), Work::Full, &progress)
                        .await
                })
            };
            let outcome = match task.await {
                Ok(outcome) => outcome.map_err(CommandError::from),
                Err(error) => Err(CommandError::new(
                    "maintenance_failed",
                    format!("the maintenance pass stopped unexpectedly ({error}); it is tried again in a few minutes"),
                )),
            };
            let phase = match outcome {
                Ok(report) if !report.problems.is_empty() => {
                    wait = RETRY;
                    let message = report
                        .problems
                        .iter()
                        .map(|p| format!("{} ({}): {}", p.step, p.scope, p.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    tracing::warn!(%message, "a maintenance pass left work undone");
                    MaintenancePhase::Failed {
                        pass,
                        error: CommandError::new("maintenance_incomplete", &message),
                    }
                }
                Ok(report) => {
                    for r in &report.rotations {
                        tracing::info!(scope = %r.scope, version = r.data_version, rows = r.rows_reencrypted, "maintenance rotated keys");
                    }
                    MaintenancePhase::Done {
                        pass,
                        reports: report.rotations,
                    }
                }
                Err(error) => {
                    tracing::warn!(code = %error.code, message = %error.message, "a maintenance pass failed");
                    wait = RETRY;
                    MaintenancePhase::Failed { pass, error }
                }
            };
            state.maintenance.send_replace(phase);
        } else {
            // Not unlocked yet: look again soon.
            wait = Duration::from_secs(1);
        }
        // A schedule, not a wait on a condition: the next pass is due after `wait` (hourly, or
        // sooner after a failure), or at once when someone asks for one.
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.signals.maintenance.notified() => {}
        }
    }
}
