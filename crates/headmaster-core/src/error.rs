//! The error every public core operation returns.
//!
//! Each variant has a stable machine code ([`Error::code`]) for the UI and `--json` output;
//! nobody matches on message text. Messages say what happened and what to do.

use crate::audit::AuditError;
use crate::identity::password::CredentialRuleError;
use crate::store::StoreError;
use crate::vault::VaultError;

/// Result alias for core operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A core error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No installation in the data directory.
    #[error("no Headmaster instance in {home}; run `headmaster init --org NAME --admin USER` (or start the desktop app) to create one")]
    NotInitialized {
        /// The data directory.
        home: String,
    },
    /// `init` on an existing installation.
    #[error("an instance already exists in {home}; nothing was changed (use another --home to create a second one)")]
    AlreadyInitialized {
        /// The data directory.
        home: String,
    },
    /// A username or password rule was broken.
    #[error(transparent)]
    CredentialRule(#[from] CredentialRuleError),
    /// Malformed or out-of-range input.
    #[error("{0}")]
    InvalidInput(String),
    /// Wrong username or password (deliberately the same for both).
    #[error("sign-in failed: unknown user or wrong password; check both and try again (after {threshold} failures in a row the account is locked for {})", lock_span(*lock_ms))]
    AuthFailed {
        /// Failures in a row that lock the account.
        threshold: u32,
        /// How long the lock lasts (ms, the configured `lockout_ms`).
        lock_ms: i64,
    },
    /// Too many failures.
    #[error("account locked after repeated failed sign-ins; try again after {until} (UTC) or ask an Admin")]
    AccountLocked {
        /// RFC 3339 time the lock ends.
        until: String,
    },
    /// The account was disabled by an Admin.
    #[error("this account is disabled; ask an Admin to re-enable it")]
    AccountDisabled,
    /// The session is over.
    #[error("your session has expired or was signed out; sign in again")]
    SessionExpired,
    /// The CLI has no session.
    #[error(
        "not signed in; run `headmaster login` or set HEADMASTER_USER and HEADMASTER_PASSWORD"
    )]
    NotSignedIn,
    /// The caller lacks the capability.
    #[error("permission denied: {action} needs the `{capability}` capability, which your role ({role}) does not have; ask an Admin")]
    Forbidden {
        /// What was attempted.
        action: String,
        /// The missing capability.
        capability: String,
        /// The caller's role in that scope.
        role: String,
    },
    /// Refused for a reason other than a missing capability (self-approval, changed arguments).
    #[error("permission denied: {0}")]
    NotAllowed(String),
    /// A named thing does not exist (or is not visible to the caller).
    #[error("{kind} {name:?} not found{hint}")]
    NotFound {
        /// What kind of thing.
        kind: &'static str,
        /// Its name or id.
        name: String,
        /// Extra advice, starting with "; ".
        hint: String,
    },
    /// The name is taken.
    #[error("{kind} {name:?} already exists; choose another name")]
    AlreadyExists {
        /// What kind of thing.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// The change would break an invariant (last Admin, …).
    #[error("{0}")]
    Conflict(String),
    /// A tool ran and failed (the message never contains a credential value).
    #[error("{action} failed: {message}")]
    ToolFailed {
        /// The action.
        action: String,
        /// The tool's stable error code.
        code: String,
        /// What happened.
        message: String,
    },
    /// Key store problems.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Storage problems.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Audit log problems (the action did not happen).
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// Talking to the shared server failed (local data is unchanged).
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
}

/// A lock's length in words: "15 minutes", "1 hour", "90 seconds".
fn lock_span(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    let (n, unit) = if seconds % 3600 == 0 && seconds >= 3600 {
        (seconds / 3600, "hour")
    } else if seconds % 60 == 0 && seconds >= 60 {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(StoreError::Query(e))
    }
}

impl Error {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotInitialized { .. } => "not_initialized",
            Error::AlreadyInitialized { .. } => "already_initialized",
            Error::CredentialRule(_) => "invalid_credentials_format",
            Error::InvalidInput(_) => "invalid_input",
            Error::AuthFailed { .. } => "auth_failed",
            Error::AccountLocked { .. } => "account_locked",
            Error::AccountDisabled => "account_disabled",
            Error::SessionExpired => "session_expired",
            Error::NotSignedIn => "not_signed_in",
            Error::Forbidden { .. } | Error::NotAllowed(_) => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::AlreadyExists { .. } => "already_exists",
            Error::Conflict(_) => "conflict",
            Error::ToolFailed { .. } => "tool_failed",
            Error::Vault(v) | Error::Audit(AuditError::Vault(v)) => match v {
                VaultError::KeychainUnavailable(_) => "keychain_unavailable",
                VaultError::KeychainEntryMissing => "keychain_entry_missing",
                VaultError::WrongPassphrase => "wrong_passphrase",
                VaultError::PassphraseRequired => "passphrase_required",
                VaultError::WeakPassphrase(_) => "weak_passphrase",
                VaultError::WrongKek => "wrong_key",
                VaultError::Decrypt | VaultError::UnknownKeyVersion(_) => "decrypt_failed",
                VaultError::Erased => "erased",
                VaultError::Corrupt(_) => "key_store_corrupt",
                VaultError::Store(_) => "storage",
            },
            Error::Store(StoreError::Corrupt { .. }) => "corrupt_data",
            Error::Store(_) => "storage",
            Error::Audit(_) => "audit_failed",
            Error::Sync(e) => e.code(),
        }
    }

    /// A not-found error without a hint.
    pub fn not_found(kind: &'static str, name: impl ToString) -> Self {
        Error::NotFound {
            kind,
            name: name.to_string(),
            hint: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_failure_names_the_configured_lock() {
        for (lock_ms, words) in [
            (15 * 60 * 1000, "locked for 15 minutes"),
            (60 * 60 * 1000, "locked for 1 hour"),
            (90 * 1000, "locked for 90 seconds"),
            (2 * 60 * 60 * 1000, "locked for 2 hours"),
        ] {
            let message = Error::AuthFailed {
                threshold: 3,
                lock_ms,
            }
            .to_string();
            assert!(message.contains(words), "{lock_ms}: {message}");
            assert!(message.contains("after 3 failures"), "{message}");
        }
    }
}
