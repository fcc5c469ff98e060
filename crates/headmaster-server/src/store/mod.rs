//! Storage behind one trait, [`Store`], with two backends on sqlx: SQLite (the default, a file
//! in the data directory) and PostgreSQL (several server replicas sharing one database). Each
//! backend has its own migrations under `migrations/<backend>/`.
//!
//! The rules live above this trait (`ingest.rs`, `api/`, `admin.rs`); a backend only moves rows. Where
//! two replicas can race (an enrollment token used twice, one segment uploaded to both, one
//! nonce replayed to both), a uniqueness constraint or a row lock in the database decides, never
//! a check in the process.

mod postgres;
pub mod sink;
mod sqlite;

use async_trait::async_trait;

use crate::access::{AccessRow, AccessTx};
use crate::ingest::ChainTx;

pub use postgres::PostgresStore;
pub use sink::SinkStore;
pub use sqlite::SqliteStore;

/// A database error. The message says what to do; the request stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or failed the statement.
    #[error("the database is unavailable ({0}); nothing was stored, retry when it is back")]
    Unavailable(sqlx::Error),
    /// The database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL `disk_full`).
    #[error("the server's disk is full ({0}); nothing was stored: free space where the database lives, then retry")]
    Full(sqlx::Error),
    /// The migrations could not be applied.
    #[error("the database schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL is not one this server speaks.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    Url(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_disk_full(&e) {
            Self::Full(e)
        } else {
            Self::Unavailable(e)
        }
    }
}

/// SQLite's `SQLITE_FULL` (result code 13) or PostgreSQL's `disk_full` (SQLSTATE 53100).
fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("13") | Some("53100")),
        _ => false,
    }
}

/// An enrolled device as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub id: String,
    pub name_sealed: Vec<u8>,
    pub fingerprint: String,
    pub public_key: String,
    pub enrolled_ms: i64,
    pub last_seen_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// A device to enroll.
#[derive(Debug)]
pub struct NewDevice {
    pub id: String,
    pub name_sealed: Vec<u8>,
    pub fingerprint: String,
    pub public_key: String,
}

/// Why an enrollment token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No such token.
    Unknown,
    /// The token expired.
    Expired,
    /// The token was used already.
    Used,
    /// The device key is enrolled already.
    KeyTaken,
}

/// One chain as held.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChainRowStatus {
    pub device_id: String,
    pub scope: String,
    pub last_seq: i64,
    pub last_hash: Vec<u8>,
    pub receipt: Option<String>,
    pub last_upload_ms: Option<i64>,
}

/// A quarantined upload, without its body.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuarantineRow {
    pub id: String,
    pub device_id: String,
    pub scope: String,
    pub kind: String,
    pub seq: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub received_ms: i64,
}

/// A refused upload, as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefusalRow {
    pub device_id: Option<String>,
    pub scope: Option<String>,
    pub code: String,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub detail: String,
    pub time_ms: i64,
}

/// One stored event, sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub device_id: String,
    pub scope: String,
    pub seq: i64,
    pub hash: Vec<u8>,
    pub row_sealed: Vec<u8>,
    pub event_sealed: Vec<u8>,
}

/// One event of the SIEM feed, sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiemRow {
    pub device_id: String,
    pub scope: String,
    pub seq: i64,
    pub event_sealed: Vec<u8>,
}

/// A read-only API token as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub id: String,
    pub hash: Vec<u8>,
    pub scope: String,
    pub name: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

/// One page of the SIEM feed.
#[derive(Debug)]
pub struct SiemPage {
    pub rows: Vec<SiemRow>,
    /// Where the next page starts (the same cursor when nothing new has committed).
    pub next: String,
}

/// What the server stores.
#[async_trait]
pub trait Store: SinkStore + Send + Sync + std::fmt::Debug + 'static {
    /// Which backend this is, for `status`.
    fn backend(&self) -> &'static str;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new enrollment token's hash.
    async fn add_enroll_token(
        &self,
        hash: &[u8],
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError>;
    /// Uses the token `hash` to enroll `device`, both or neither. A key already enrolled is
    /// `KeyTaken`, except a revoked one enrolling again under its own id (`device.id`): it
    /// comes back un-revoked with the new name, and its chains continue.
    async fn enroll(
        &self,
        hash: &[u8],
        device: &NewDevice,
        now_ms: i64,
    ) -> Result<Result<(), TokenProblem>, StoreError>;

    /// The device with this key fingerprint.
    async fn device_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<DeviceRow>, StoreError>;
    /// Every device, oldest first.
    async fn devices(&self) -> Result<Vec<DeviceRow>, StoreError>;
    /// Revokes the device with this id or fingerprint; returns it, or `None` if there is none.
    async fn revoke_device(
        &self,
        id_or_fingerprint: &str,
        now_ms: i64,
    ) -> Result<Option<DeviceRow>, StoreError>;
    /// Records the use of a request nonce: `false` when it was used before (a replay). Also marks
    /// the device as seen.
    async fn use_nonce(
        &self,
        device_id: &str,
        nonce: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Forgets nonces whose window has passed.
    async fn prune_nonces(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// Opens a transaction on the chain (device, scope) with its head row locked.
    async fn chain_tx(&self, device_id: &str, scope: &str) -> Result<Box<dyn ChainTx>, StoreError>;
    /// The chains held, of one device or of all.
    async fn chains(&self, device_id: Option<&str>) -> Result<Vec<ChainRowStatus>, StoreError>;
    /// Stored events of one chain with seq in `from..=to`, in order.
    async fn events(
        &self,
        device_id: &str,
        scope: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<EventRow>, StoreError>;
    /// Records a refusal that happened outside a chain transaction (a bad signature, say).
    async fn record_refusal(&self, r: &RefusalRow) -> Result<(), StoreError>;
    /// Refusals, newest first, at most `limit`.
    async fn refusals(&self, limit: i64) -> Result<Vec<RefusalRow>, StoreError>;
    /// Quarantined uploads, newest first.
    async fn quarantined(&self) -> Result<Vec<QuarantineRow>, StoreError>;

    /// Stores a new API token.
    async fn add_api_token(&self, token: &ApiTokenRow) -> Result<(), StoreError>;
    /// The token with this hash, marking it used (at most once a minute).
    async fn use_api_token(
        &self,
        hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<ApiTokenRow>, StoreError>;
    /// Every API token, oldest first.
    async fn api_tokens(&self) -> Result<Vec<ApiTokenRow>, StoreError>;
    /// Revokes a token by id; false when there is no such unrevoked token.
    async fn revoke_api_token(&self, id: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// A page of the SIEM feed after `cursor` (`None`: from the start); `Ok(None)` when the
    /// cursor is not one this backend made.
    async fn siem_page(
        &self,
        filter: &crate::siem::EventFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Option<SiemPage>, StoreError>;
    /// How many events of the feed lie after `cursor`; `Ok(None)` for a cursor not of this backend.
    async fn siem_backlog(&self, cursor: Option<&str>) -> Result<Option<i64>, StoreError>;
    /// The cursor at the end of the feed as it stands (where a sink added `--from-now` starts).
    async fn siem_end(&self) -> Result<String, StoreError>;

    /// Opens a transaction on the access chain with its head locked.
    async fn access_tx(&self) -> Result<Box<dyn AccessTx>, StoreError>;
    /// Access rows with seq after `after`, in order, at most `limit`.
    async fn access_rows(&self, after: i64, limit: i64) -> Result<Vec<AccessRow>, StoreError>;
    /// The access chain's signed checkpoints (JSON), in seq order.
    async fn access_checkpoints(&self) -> Result<Vec<String>, StoreError>;
}

/// Opens the store a database URL names, creating and migrating it as needed.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Url(url.to_owned()))
    }
}
