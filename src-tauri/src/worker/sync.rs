//! The sync worker: while the installation has joined a shared server, it uploads every
//! chain's new events in the background (`Instance::sync_in_background`), every few seconds
//! and 100 ms after a commit (`changes` wakes it) while the server answers, and on an
//! exponential, jittered schedule while it does not
//! (`headmaster_core::sync::Backoff`). The window hears `sync-updated` after every try (the
//! Server screen, the home screen and the shell's offline badge re-read the status), and a
//! native notification says once per outage that sync has failed for longer than
//! `HEADMASTER_SYNC_ALERT_MINUTES` (default 15).

use std::time::Duration;

use headmaster_core::sync::{Backoff, SyncError, ONLINE_EVERY};
use headmaster_core::Error;
use tauri::{AppHandle, Manager, Runtime};

use super::approvals::post;
use super::notice::Notice;
use crate::events;
use crate::state::AppState;

/// How long to wait while nothing is joined or unlocked before looking again.
const IDLE: Duration = Duration::from_secs(5);
/// A burst of local commits is uploaded by one quick pass after this pause.
const SETTLE: Duration = Duration::from_millis(100);

/// The configured alert delay.
fn alert_after() -> Duration {
    let minutes = std::env::var("HEADMASTER_SYNC_ALERT_MINUTES")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|m| *m >= 0.0)
        .unwrap_or(15.0);
    Duration::from_secs_f64(minutes * 60.0)
}

/// Syncs for as long as the app runs; `AppState::signals::sync` starts a try at once.
pub async fn run<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    let mut backoff = Backoff::new(alert_after());
    loop {
        let instance = state.instance.read().await.clone();
        let wait = match instance {
            None => IDLE,
            Some(instance) => match instance.sync_in_background(&state.source()).await {
                Err(Error::Sync(SyncError::NotJoined)) => {
                    backoff.succeeded();
                    IDLE
                }
                Ok(report) if report.online && report.chains.iter().all(|c| c.error.is_none()) => {
                    events::to_main(&app, "sync-updated", true);
                    backoff.succeeded()
                }
                outcome => {
                    let why = match &outcome {
                        Ok(report) => report
                            .chains
                            .iter()
                            .find_map(|c| c.error.clone())
                            .unwrap_or_default(),
                        Err(e) => e.to_string(),
                    };
                    let online = outcome.as_ref().is_ok_and(|r| r.online);
                    events::to_main(&app, "sync-updated", online);
                    let retry = backoff.failed(now_ms(), jitter());
                    if retry.alert {
                        post(
                            &app,
                            Notice {
                                title: "Audit sync is failing".into(),
                                body: format!(
                                    "The shared server has not taken this desktop's audit events for {} min: {why}",
                                    retry.failing_for.as_secs() / 60
                                ),
                            },
                        );
                    }
                    retry.wait
                }
            },
        };
        let online = wait == ONLINE_EVERY;
        // Local commits wake a quick pass while the server answers; while it does not, only
        // the schedule (or an Admin's join, re-pin or resume) does.
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = state.signals.sync.notified() => {}
            _ = state.signals.chains.notified(), if online => {
                // Not a synchronisation: a run's steps or a batch of changes commit in quick
                // succession, and one pass after they settle uploads them together instead of
                // one pass (and one request per chain) for each.
                tokio::time::sleep(SETTLE).await;
            }
        }
    }
}

fn since_epoch() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

fn now_ms() -> i64 {
    since_epoch().as_millis() as i64
}

/// A value in `[0, 1)` that differs between desktops and tries (the clock's nanoseconds).
fn jitter() -> f64 {
    f64::from(since_epoch().subsec_nanos() % 1_000_000) / 1_000_000.0
}
