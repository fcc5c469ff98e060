//! Bulk sequential reads of a chain's hot rows, for verify and export.
//!
//! Everything else in the core reads through sqlx. Walking a million rows that way costs several
//! microseconds of async machinery per row — most of the time `verify` took — while SQLite
//! itself walks them in well under a microsecond. These scans therefore open their own
//! read-only connection with `rusqlite` (over the same bundled SQLite) on a blocking thread and
//! hand rows over in batches. The connection sees one consistent snapshot (WAL), only reads,
//! and decodes rows exactly as `rows::chain_row` does.

use std::path::PathBuf;

use headmaster_protocol::chain::{ChainRow, StoredEvent};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::mpsc;

use super::rows::ROW_COLUMNS;
use super::AuditError;

/// Rows per batch handed to the async side.
const BATCH: usize = 8_192;

/// Streams every hot row of the chain in `db`, in seq order, in batches. The receiver gets
/// `Err` once and nothing more if the database cannot be read.
pub(crate) fn hot_rows(db: PathBuf) -> mpsc::Receiver<Result<Vec<ChainRow>, AuditError>> {
    let (tx, rx) = mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = scan(&db, &tx) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

fn scan(
    db: &PathBuf,
    tx: &mpsc::Sender<Result<Vec<ChainRow>, AuditError>>,
) -> Result<(), AuditError> {
    let fail = |e: rusqlite::Error| AuditError::Invalid(format!("reading {}: {e}", db.display()));
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(std::time::Duration::from_secs(15))
        .map_err(fail)?;
    let mut statement = conn
        .prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM audit_events ORDER BY seq"
        ))
        .map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(row) = rows.next().map_err(fail)? {
        let hash: Vec<u8> = row.get(12).map_err(fail)?;
        batch.push(ChainRow {
            event: StoredEvent {
                seq: row.get::<_, i64>(0).map_err(fail)? as u64,
                time: row.get(1).map_err(fail)?,
                actor_kind: row.get(2).map_err(fail)?,
                actor_id: row.get(3).map_err(fail)?,
                action: row.get(4).map_err(fail)?,
                target: row.get(5).map_err(fail)?,
                outcome: row.get(6).map_err(fail)?,
                run_id: row.get(7).map_err(fail)?,
                step_id: row.get(8).map_err(fail)?,
                approval_id: row.get(9).map_err(fail)?,
                source: row.get(10).map_err(fail)?,
                payload: row.get(11).map_err(fail)?,
            },
            hash: super::append::to_hash(&hash)?,
        });
        if batch.len() == BATCH
            && tx
                .blocking_send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))))
                .is_err()
        {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Ok(batch));
    }
    Ok(())
}
