//! Reading stored chain rows and checkpoints, from the database and from archive segments.

use std::path::Path;

use headmaster_protocol::chain::{ChainRow, StoredEvent};
use headmaster_protocol::checkpoint::{Checkpoint, SignedCheckpoint};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::append::to_hash;
use super::AuditError;

/// The columns of a chain row, in `row` order.
pub(crate) const ROW_COLUMNS: &str = "seq, time, actor_kind, actor_id, action, target, outcome, \
    run_id, step_id, approval_id, source, payload, hash";

/// Decodes a row selected with [`ROW_COLUMNS`].
pub(crate) fn chain_row(row: &SqliteRow) -> Result<ChainRow, AuditError> {
    let hash: Vec<u8> = row.get(12);
    Ok(ChainRow {
        event: StoredEvent {
            seq: row.get::<i64, _>(0) as u64,
            time: row.get(1),
            actor_kind: row.get(2),
            actor_id: row.get(3),
            action: row.get(4),
            target: row.get(5),
            outcome: row.get(6),
            run_id: row.get(7),
            step_id: row.get(8),
            approval_id: row.get(9),
            source: row.get(10),
            payload: row.get(11),
        },
        hash: to_hash(&hash)?,
    })
}

/// Every signed checkpoint of a chain.
pub(crate) async fn checkpoints(
    pool: &SqlitePool,
    scope: &str,
) -> Result<Vec<SignedCheckpoint>, AuditError> {
    let rows = sqlx::query(
        "SELECT seq, hash, time, key_fingerprint, signature FROM audit_checkpoints ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let hash: Vec<u8> = row.get(1);
            let signature: Vec<u8> = row.get(4);
            Ok(SignedCheckpoint {
                checkpoint: Checkpoint {
                    scope: scope.to_string(),
                    seq: row.get::<i64, _>(0) as u64,
                    hash: to_hash(&hash)?,
                    time: row.get(2),
                },
                key_fingerprint: row.get(3),
                // A malformed signature is kept (zeroed) so the verifier reports it as bad
                // rather than the read failing.
                signature: signature.as_slice().try_into().unwrap_or([0u8; 64]),
            })
        })
        .collect()
}

/// An archive segment as registered in `audit_segments`.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub id: String,
    pub first_seq: u64,
    pub last_seq: u64,
    pub file_name: String,
    pub sha256: Vec<u8>,
}

/// The archive segments of a chain, oldest first.
pub(crate) async fn segments(pool: &SqlitePool) -> Result<Vec<Segment>, AuditError> {
    let rows = sqlx::query(
        "SELECT id, first_seq, last_seq, file_name, sha256 FROM audit_segments ORDER BY first_seq",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|row| Segment {
            id: row.get(0),
            first_seq: row.get::<i64, _>(1) as u64,
            last_seq: row.get::<i64, _>(2) as u64,
            file_name: row.get(3),
            sha256: row.get(4),
        })
        .collect())
}

/// Whether a path is an existing regular file (archives are plain files in the data dir).
pub(crate) fn is_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}
