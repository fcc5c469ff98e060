//! What the shell holds between commands: the data directory, the unlocked instance and the
//! signed-in session. The session lives only in memory: closing the app signs nobody in later.

use std::sync::Arc;

use headmaster_core::audit::Source;
use headmaster_core::store::{default_home, Layout};
use headmaster_core::{Error, Instance, Session};
use tokio::sync::RwLock;

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
        Self {
            layout: Layout::new(home.unwrap_or_else(default_home)),
            instance: RwLock::new(None),
            session: RwLock::new(None),
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
}
