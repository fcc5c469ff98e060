//! What the shell holds between commands: the data directory, the unlocked instance, the
//! signed-in session, the lock that keeps key work one at a time, and the signals that wake the
//! background workers. The session lives only in memory: closing the app signs nobody in later.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use headmaster_core::audit::Source;
use headmaster_core::store::{default_home, Layout};
use headmaster_core::vault::RotationReport;
use headmaster_core::{Error, Instance, Session};
use tauri::{AppHandle, Runtime};
use tokio::sync::{watch, Mutex, Notify, RwLock};

use crate::dto::{CommandError, CommandResult};

/// The desktop's user agent, recorded with every audited action.
pub const USER_AGENT: &str = concat!("headmaster-desktop/", env!("CARGO_PKG_VERSION"));

/// Managed state.
#[derive(Debug)]
pub struct AppState {
    /// The data directory (`HEADMASTER_HOME` or the platform data dir).
    pub layout: Layout,
    /// The unlocked instance.
    pub instance: RwLock<Option<Arc<Instance>>>,
    /// The signed-in session.
    pub session: RwLock<Option<Session>>,
    /// Held by every key operation of this app (rotation, retirement, KEK rotation, the
    /// maintenance worker's pass), so they run one after the other here; the core's rotation
    /// lease keeps other processes out.
    pub key_work: Mutex<()>,
    /// Where the background maintenance worker stands (`worker::maintenance`).
    pub maintenance: watch::Sender<MaintenancePhase>,
    /// Wakes the background workers before their next scheduled pass.
    pub signals: Signals,
    /// Whether the background workers were started (once per run of the app).
    workers: AtomicBool,
}

/// Signals that wake the background workers (`worker`) early. A signal sent while a worker is
/// busy is kept, so the worker runs again as soon as it is done.
#[derive(Debug, Default)]
pub struct Signals {
    /// A run was started or a decision was made: drive runs now rather than at the next tick.
    pub runs: Notify,
    /// An approval request was filed or decided: look at the inbox now.
    pub approvals: Notify,
    /// Someone asked for maintenance now (the UI's retry after a failed pass).
    pub maintenance: Notify,
    /// The server was joined, re-pinned or a chain resumed: sync now.
    pub sync: Notify,
    /// A workspace database was written (its audit chain may have grown): upload soon.
    pub chains: Notify,
}

/// The maintenance worker's latest pass. `pass` counts the passes started in this run of the
/// app (0: none yet).
#[derive(Debug, Clone)]
pub enum MaintenancePhase {
    /// No pass started yet (the instance is not unlocked).
    NotYet,
    /// A pass is running.
    Running,
    /// Pass number `pass` finished.
    Done {
        /// Its number.
        pass: u64,
        /// What it rotated.
        reports: Vec<RotationReport>,
    },
    /// Pass number `pass` failed; the worker tries again at its next pass or when asked.
    Failed {
        /// Its number.
        pass: u64,
        /// Why.
        error: CommandError,
    },
}

impl AppState {
    /// State for the data directory named by `--home DIR` on the command line, else by
    /// `HEADMASTER_HOME`, else the platform data dir.
    pub fn from_env() -> Self {
        let mut args = std::env::args().skip(1);
        let mut home = None;
        while let Some(arg) = args.next() {
            if arg == "--home" {
                home = args.next().map(std::path::PathBuf::from);
            } else if let Some(value) = arg.strip_prefix("--home=") {
                home = Some(std::path::PathBuf::from(value));
            }
        }
        Self::new(Layout::new(home.unwrap_or_else(default_home)))
    }

    /// State for the data directory `layout`, locked and signed out.
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            instance: RwLock::new(None),
            session: RwLock::new(None),
            key_work: Mutex::new(()),
            maintenance: watch::channel(MaintenancePhase::NotYet).0,
            signals: Signals::default(),
            workers: AtomicBool::new(false),
        }
    }

    /// Keeps the instance just unlocked (or created) and starts the background workers, which
    /// drive runs and watch the inbox from now on.
    pub async fn unlocked<R: Runtime>(&self, app: &AppHandle<R>, instance: Arc<Instance>) {
        *self.instance.write().await = Some(instance);
        if !self.workers.swap(true, Ordering::SeqCst) {
            crate::worker::start(app.clone());
        }
    }

    /// The request source of this desktop app.
    pub fn source(&self) -> Source {
        Source::local("desktop", USER_AGENT)
    }

    /// The unlocked instance, or an error telling the UI to unlock first.
    pub async fn instance(&self) -> CommandResult<Arc<Instance>> {
        self.instance
            .read()
            .await
            .clone()
            .ok_or_else(|| CommandError::new("locked", "the instance is locked; unlock it first"))
    }

    /// The instance and the signed-in session.
    pub async fn signed_in(&self) -> CommandResult<(Arc<Instance>, Session)> {
        let instance = self.instance().await?;
        let session = self
            .session
            .read()
            .await
            .clone()
            .ok_or_else(|| CommandError::from(Error::NotSignedIn))?;
        Ok((instance, session))
    }

    /// Forgets the session when the core says it is over.
    pub async fn forget_session_if_over(&self, error: &Error) {
        if matches!(error, Error::SessionExpired | Error::AccountDisabled) {
            *self.session.write().await = None;
        }
    }

    /// Maps a core result to a command result. An expired session or a disabled account is
    /// forgotten here, so the next `app_status` sends the UI back to sign-in.
    pub async fn settle<T>(&self, result: headmaster_core::Result<T>) -> CommandResult<T> {
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                self.forget_session_if_over(&error).await;
                Err(error.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use headmaster_core::access::Role;
    use headmaster_core::ids::{SessionId, UserId};

    use super::*;

    fn signed_in_state() -> AppState {
        let state = AppState::new(Layout::new(
            std::env::temp_dir().join("headmaster-state-test"),
        ));
        *state.session.try_write().expect("nobody holds the lock") = Some(Session {
            id: SessionId::new(),
            user_id: UserId::new(),
            username: "alice".into(),
            org_role: Role::Admin,
            expires_at: i64::MAX,
            source: Source::default(),
        });
        state
    }

    #[tokio::test]
    async fn an_ended_session_is_forgotten_with_its_code_kept() {
        for (error, code) in [
            (Error::SessionExpired, "session_expired"),
            (Error::AccountDisabled, "account_disabled"),
        ] {
            let state = signed_in_state();
            let result: CommandResult<()> = state.settle(Err(error)).await;
            assert_eq!(result.unwrap_err().code, code);
            assert!(
                state.session.read().await.is_none(),
                "{code} kept the session"
            );
        }
    }

    #[tokio::test]
    async fn a_refusal_or_a_success_keeps_the_session() {
        let state = signed_in_state();
        let refused: CommandResult<()> = state
            .settle(Err(Error::Forbidden {
                action: "user.list".into(),
                capability: "org.users".into(),
                role: "Operator".into(),
            }))
            .await;
        assert_eq!(refused.unwrap_err().code, "forbidden");
        assert_eq!(state.settle(Ok(7)).await.unwrap(), 7);
        assert!(state.session.read().await.is_some());
    }
}
