//! Storage: SQLite through sqlx.
//!
//! One instance database (`instance.db`) and one database file per workspace
//! (`workspaces/<id>.db`). Each kind has its own migration set, embedded at build time. Every
//! connection runs in WAL mode with foreign keys on, `synchronous = FULL` (an audit append that
//! returned is on disk), `secure_delete` (deleted key material is overwritten, which
//! crypto-shredding relies on) and a busy timeout, so the desktop app and the CLI can share a
//! data directory.
//!
//! This module opens the databases and holds what several domains share (the layout, the
//! registry of sealed columns, sealed settings, stored-body encoding in `body`). The SQL itself
//! lives with the domain that owns the tables: each domain module (`access`, `approvals`,
//! `runtime`, …) runs its own queries, through sqlx's runtime `query`/`query_as` API, which
//! needs no database at build time; the one exception is the audit chain's bulk scan
//! (`audit::scan`, rusqlite; see ARCHITECTURE.md).

pub(crate) mod body;
mod paths;
pub mod sealed;
mod settings;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use paths::{default_home, Layout};

/// Errors opening or migrating a database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or is not a database.
    #[error("cannot open database {path}: {source}; check the data directory's permissions, or restore it from a backup")]
    Open {
        /// The file.
        path: String,
        /// The cause.
        source: sqlx::Error,
    },
    /// Migrations failed (a corrupt file, or one written by a newer Headmaster).
    #[error("database {path} could not be migrated: {source}; it may be corrupt or from a newer Headmaster version")]
    Migrate {
        /// The file.
        path: String,
        /// The cause.
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// The data directory cannot be used.
    #[error("data directory {path}: {reason}")]
    Directory {
        /// The directory.
        path: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A body Headmaster stored itself opens but no longer decodes (or an in-memory value
    /// cannot be encoded for storage): damage or a bug, never a person's input.
    #[error("{what} {id} is corrupt ({detail}); verify the audit log with `headmaster audit verify` and restore the data directory from a backup (if the log verifies, this is a bug: please report it)")]
    Corrupt {
        /// What the body is ("run checkpoint", "approval result").
        what: String,
        /// The row it belongs to.
        id: String,
        /// Where it breaks, never its content.
        detail: String,
    },
}

/// Which migration set a database uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// `instance.db`.
    Instance,
    /// A workspace's own database.
    Workspace,
}

/// Opens (creating if asked) and migrates a database of the given kind.
pub async fn open(path: &Path, kind: DbKind, create: bool) -> Result<SqlitePool, StoreError> {
    let display = path.display().to_string();
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|source| StoreError::Open {
            path: display.clone(),
            source,
        })?
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(15))
        .pragma("secure_delete", "on");
    // A local file connection cannot drop like a network one: pinging it before every
    // acquire (sqlx's default) only adds a round trip to its worker thread per statement.
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Open {
            path: display.clone(),
            source,
        })?;
    let migrator = match kind {
        DbKind::Instance => sqlx::migrate!("./migrations/instance"),
        DbKind::Workspace => sqlx::migrate!("./migrations/workspace"),
    };
    migrator
        .run(&pool)
        .await
        .map_err(|source| StoreError::Migrate {
            path: display,
            source,
        })?;
    Ok(pool)
}

/// Folds the write-ahead log back into the main file and truncates it, so that rows deleted
/// with `secure_delete` (destroyed keys) leave no copy in the WAL either.
pub async fn checkpoint_truncate(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    Ok(())
}
