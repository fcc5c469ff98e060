//! Data that crosses the IPC boundary. Domain types stay in the core; these are the shapes the
//! UI sees.

use headmaster_core::Error;
use serde::Serialize;

/// Every command's error: a stable code and a message for people.
#[derive(Debug, Serialize)]
pub struct CommandError {
    /// Stable machine code (`forbidden`, `auth_failed`, …).
    pub code: String,
    /// What happened and what to do.
    pub message: String,
}

impl From<Error> for CommandError {
    fn from(error: Error) -> Self {
        Self {
            code: error.code().to_string(),
            message: error.to_string(),
        }
    }
}

impl CommandError {
    /// An error raised by the shell itself.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Result type of every command.
pub type CommandResult<T> = Result<T, CommandError>;

/// The app's state as the UI routes on it.
#[derive(Debug, Serialize)]
pub struct AppStatus {
    /// `setup`, `locked`, `signed_out` or `signed_in`.
    pub state: &'static str,
    /// `keychain` or `passphrase`, once set up.
    pub protection: Option<&'static str>,
    /// The organisation, once unlocked.
    pub org_name: Option<String>,
    /// The data directory.
    pub home: String,
}
