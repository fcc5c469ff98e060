//! The audit log: an append-only, hash-chained, signed record of everything that happens.
//!
//! Each database (the instance and every workspace) holds one chain. The chain format and its
//! verification live in `headmaster-protocol`, shared with the server; this module stores,
//! seals, signs and reads.

#[cfg(feature = "internals")]
pub mod append;
#[cfg(not(feature = "internals"))]
mod append;
mod archive;
mod change;
pub(crate) mod decode;
mod device;
pub mod event;
mod export;
mod query;
mod relay;
pub(crate) mod rows;
mod scan;
mod verify;

pub use archive::{ArchiveReport, DEFAULT_RETENTION_DAYS};
pub(crate) use change::Change;
pub use decode::AuditEntry;
pub use device::DeviceKey;
pub use event::{Actor, ActorKind, Correlation, NewEvent, Outcome, Source};
pub use export::ExportReport;
pub use query::{AuditFilter, AuditPage};
pub use verify::{VerifyBreak, VerifyOutcome};

/// Errors of the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The database refused the write or read.
    #[error("audit log database error: {0}; the action was not carried out")]
    Store(#[from] sqlx::Error),
    /// Sealing or opening failed.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// Malformed input or stored data.
    #[error("audit log: {0}")]
    Invalid(String),
}
