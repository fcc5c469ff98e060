//! Sync with the shared server: join (enroll this installation's device key under a pinned
//! certificate), upload every audit chain in signed segments, keep the server's signed receipt
//! per chain and catch a server that lost or rewrote what it receipted.
//!
//! Local-first: nothing here changes local history. The server's answers only decide what is
//! uploaded next; a chain the server refuses as a fork stops syncing and says so.

mod backoff;
mod chain;
mod client;
mod link;
mod rows;
mod tls;
mod upload;

use serde::Serialize;

pub use backoff::{Backoff, Retry, FIRST_RETRY, MAX_RETRY, ONLINE_EVERY};
pub use tls::spki_pin;
pub use upload::{ChainSyncReport, SyncReport, DEFAULT_SEGMENT_ROWS};

/// Why talking to the server failed. Each kind has a stable [`code`](Self::code).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    /// No server joined.
    #[error("this installation has not joined a server; run `headmaster server join URL --pin sha256//… --token …` (an Admin)")]
    NotJoined,
    /// A server is joined already.
    #[error("this installation has joined {url} already; run `headmaster server leave` first to join another")]
    AlreadyJoined {
        /// The server joined.
        url: String,
    },
    /// The server's certificate has none of the pinned keys.
    #[error("the server at {url} presented a certificate whose pin is {presented}, not a pinned one; nothing was sent and sync stops. If the server's certificate was replaced on purpose, check its new pin with `headmaster-server status` on the server and run `headmaster server repin --pin <new pin>`; otherwise someone may be intercepting the connection")]
    PinMismatch {
        /// The server's URL.
        url: String,
        /// The pin the server presented.
        presented: String,
    },
    /// No TLS 1.3 connection could be made.
    #[error("cannot reach the server at {url} ({reason}); local work goes on and sync retries later (the server must be up and speak TLS 1.3)")]
    Unreachable {
        /// The server's URL.
        url: String,
        /// The transport's reason.
        reason: String,
    },
    /// The server answered with an error.
    #[error("the server refused ({code}, HTTP {status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's stable code.
        code: String,
        /// The server's message.
        message: String,
        /// With `chain.gap`: the seq the server expects next.
        expected_seq: Option<u64>,
    },
    /// The server answered something this desktop cannot trust or use.
    #[error("the server's answer cannot be trusted: {0}. Nothing local was changed; the next sync tries again, and if this persists an Admin should check the server (`headmaster-server status`)")]
    BadAnswer(String),
    /// A chain's sync is stopped until an Admin resumes it.
    #[error("sync of chain {scope} is stopped: {why}. Nothing local was changed; compare with the server (`headmaster-server status` lists quarantined uploads), then run `headmaster server resume {scope}`")]
    ChainStopped {
        /// The chain.
        scope: String,
        /// Why.
        why: String,
    },
}

impl SyncError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::NotJoined => "sync.not_joined",
            SyncError::AlreadyJoined { .. } => "sync.already_joined",
            SyncError::PinMismatch { .. } => "sync.pin_mismatch",
            SyncError::Unreachable { .. } => "sync.unreachable",
            SyncError::Refused { .. } => "sync.refused",
            SyncError::BadAnswer(_) => "sync.bad_answer",
            SyncError::ChainStopped { .. } => "sync.chain_stopped",
        }
    }

    /// Whether the server could not be reached over a pinned connection (offline), as
    /// opposed to answering.
    pub fn is_offline(&self) -> bool {
        match self {
            SyncError::Unreachable { .. } | SyncError::PinMismatch { .. } => true,
            SyncError::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// What joining did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct JoinReport {
    /// The server's URL.
    pub url: String,
    /// The device id the server gave this installation.
    pub device_id: String,
    /// This installation's device key fingerprint (the server's `device list` shows it).
    pub device_fingerprint: String,
    /// The server's signing key fingerprint (its `status` shows it).
    pub server_fingerprint: String,
}

/// One chain's sync state as stored (no server contact).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ChainSyncStatus {
    /// `instance` or a workspace id.
    pub scope: String,
    /// The organisation's name (the instance chain) or the workspace's.
    pub name: String,
    /// The last seq held locally.
    pub local_seq: u64,
    /// The last seq the server signed a receipt for.
    pub receipted_seq: u64,
    /// Events not yet receipted.
    pub pending: u64,
    /// Time of the receipt.
    pub last_receipt: Option<String>,
    /// When a sync of this chain last succeeded.
    pub last_success: Option<String>,
    /// The last problem, if the last attempt failed.
    pub last_error: Option<String>,
    /// Whether this chain is stopped (the server refused it as a fork or rollback).
    pub stopped: bool,
}

/// The server joined and every chain's state.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ServerStatus {
    /// The server's URL.
    pub url: String,
    /// The pinned certificate keys.
    pub pins: Vec<String>,
    /// The device id.
    pub device_id: String,
    /// This installation's device key fingerprint.
    pub device_fingerprint: String,
    /// The server's signing key fingerprint.
    pub server_fingerprint: String,
    /// When this installation joined.
    pub joined_at: String,
    /// Whether the last sync reached the server.
    pub online: bool,
    /// Per chain.
    pub chains: Vec<ChainSyncStatus>,
}

/// What leaving did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LeaveReport {
    /// The server left.
    pub url: String,
    /// Whether the server revoked the device (it was reachable).
    pub revoked_on_server: bool,
    /// Why it was not, when it was not.
    pub server_error: Option<String>,
}
