//! Background work of the desktop app, started once per run of the app when the instance is
//! unlocked (`AppState::unlocked`):
//!
//! - the runtime worker calls the core's `dispatch_runs` every second, or at once when a
//!   command signals it (a run started, a decision made). That hands queued runs, runs whose
//!   request was decided (here, in the CLI or in another app) and runs to continue after a
//!   restart to their own tasks (a bounded number at once, see `runtime::pass` in the core),
//!   and flags stalled ones;
//! - the event forwarder turns the core's in-process events into `run-updated` events for the
//!   window and wakes the approval watcher when a request is filed or decided;
//! - the change watcher (`changes`) wakes both when a workspace database is written, which is
//!   how requests and decisions made by another process (the CLI) arrive within milliseconds;
//! - the maintenance worker (`maintenance`) runs the core's full maintenance pass at unlock and
//!   every hour: key rotation by age, interrupted rotations, audit archiving, expiry;
//! - the sync worker (`sync`) uploads the audit chains to the joined server in the background,
//!   backing off while it cannot be reached, and notifies once per long outage;
//! - the approval watcher (`approvals`) looks at the signed-in person's inbox every second or
//!   when woken, posts a native notification for each new request they may decide (including
//!   requests another process filed), and keeps the tray and the window's badge up to date.

mod approvals;
mod changes;
mod maintenance;
mod notice;
mod sync;

use std::sync::Arc;
use std::time::Duration;

use headmaster_core::events::CoreEvent;
use headmaster_core::Instance;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

use crate::events::{self, RunUpdate};

use crate::state::AppState;
pub use notice::pending_text;

/// How often runs are ticked and the inbox is read when nothing signals earlier.
const PERIOD: Duration = Duration::from_secs(1);

/// Starts the background workers on Tauri's async runtime. They read the instance and the
/// session from the app state on every pass, so signing in and out needs no restart.
pub fn start<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(drive_runs(app.clone()));
    tauri::async_runtime::spawn(maintenance::run(app.clone()));
    tauri::async_runtime::spawn(sync::run(app.clone()));
    tauri::async_runtime::spawn(approvals::watch(app));
}

/// The runtime worker: one `dispatch_runs` pass per period or signal. It also starts the event
/// forwarder for each instance it sees (there is one per run of the app once unlocked).
async fn drive_runs<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    let mut forwarded: Option<Arc<Instance>> = None;
    let mut problems: Vec<String> = Vec::new();
    loop {
        let instance = state.instance.read().await.clone();
        if let Some(instance) = instance {
            if !forwarded
                .as_ref()
                .is_some_and(|f| Arc::ptr_eq(f, &instance))
            {
                tauri::async_runtime::spawn(forward_events(app.clone(), instance.subscribe()));
                tauri::async_runtime::spawn(changes::watch(
                    app.clone(),
                    instance.layout().home().to_path_buf(),
                ));
                forwarded = Some(Arc::clone(&instance));
            }
            // A pass hands each ready run to its own task and returns: a run whose model call
            // hangs holds one slot, not the worker. A failing pass (the instance database
            // cannot be read) or a workspace it had to skip must not stop the worker either:
            // the next pass tries again. A workspace's problem is logged when it appears or
            // changes, not every second.
            match instance.dispatch_runs().await {
                Ok(pass) => {
                    let now: Vec<String> = pass
                        .problems
                        .iter()
                        .map(|p| format!("{}: {}", p.workspace, p.error))
                        .collect();
                    for problem in now.iter().filter(|p| !problems.contains(*p)) {
                        tracing::error!(%problem, "the runs of a workspace cannot be driven");
                    }
                    problems = now;
                }
                Err(error) => tracing::warn!(%error, "a pass of the runtime worker failed"),
            }
        }
        // Periodic pass: stalls and expiries are noticed by time, not by any signal.
        tokio::select! {
            () = tokio::time::sleep(PERIOD) => {}
            () = state.signals.runs.notified() => {}
        }
    }
}

/// Forwards the core's in-process events until the instance goes away.
async fn forward_events<R: Runtime>(app: AppHandle<R>, mut events: Receiver<CoreEvent>) {
    let state = app.state::<AppState>();
    loop {
        match events.recv().await {
            Ok(CoreEvent::RunUpdated {
                workspace,
                run_id,
                status,
                stalled,
            }) => {
                let update = RunUpdate {
                    workspace_id: workspace.to_string(),
                    run_id,
                    status,
                    stalled,
                };
                events::to_main(&app, events::RUN_UPDATED, update);
            }
            Ok(CoreEvent::ApprovalRequested { .. }) => state.signals.approvals.notify_one(),
            Ok(CoreEvent::ApprovalDecided { .. }) => {
                // A decision may let a waiting run go on, wherever it was made in this process.
                state.signals.runs.notify_one();
                state.signals.approvals.notify_one();
            }
            // Missed events only mean the workers should look now; they read the database.
            Err(RecvError::Lagged(_)) => {
                state.signals.runs.notify_one();
                state.signals.approvals.notify_one();
            }
            Err(RecvError::Closed) => break,
        }
    }
}
