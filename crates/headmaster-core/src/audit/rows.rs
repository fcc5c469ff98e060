//! Reading stored chain rows and checkpoints, from the database and from archive segments.

use std::path::Path;

use headmaster_protocol::chain::{ChainRow, StoredEvent};
use headmaster_protocol::checkpoint::{Checkpoint, SignedCheckpoint};
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, SqlitePool};

use super::append::to_hash;
use super::AuditError;

/// The columns of a chain row, in `row` order.
pub(crate) const ROW_COLUMNS: &str = "seq, time, actor_kind, actor_id, action, target, outcome, \
    run_id, step_id, approval_id, source, payload, hash";

/// What `chain_row` reads: the columns of [`ROW_COLUMNS`].
#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    time: String,
    actor_kind: String,
    actor_id: String,
    action: String,
    target: String,
    outcome: String,
    run_id: String,
    step_id: String,
    approval_id: String,
    source: Vec<u8>,
    payload: Vec<u8>,
    hash: Vec<u8>,
}

/// Decodes a row selected with [`ROW_COLUMNS`].
pub(crate) fn chain_row(row: &SqliteRow) -> Result<ChainRow, AuditError> {
    let row = EventRow::from_row(row)?;
    Ok(ChainRow {
        event: StoredEvent {
            seq: row.seq as u64,
            time: row.time,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            action: row.action,
            target: row.target,
            outcome: row.outcome,
            run_id: row.run_id,
            step_id: row.step_id,
            approval_id: row.approval_id,
            source: row.source,
            payload: row.payload,
        },
        hash: to_hash(&row.hash)?,
    })
}

/// What `checkpoints` reads.
#[derive(sqlx::FromRow)]
struct CheckpointRow {
    seq: i64,
    hash: Vec<u8>,
    time: String,
    key_fingerprint: String,
    signature: Vec<u8>,
}

/// Every signed checkpoint of a chain.
pub(crate) async fn checkpoints(
    pool: &SqlitePool,
    scope: &str,
) -> Result<Vec<SignedCheckpoint>, AuditError> {
    let rows = sqlx::query_as::<_, CheckpointRow>(
        "SELECT seq, hash, time, key_fingerprint, signature FROM audit_checkpoints ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(SignedCheckpoint {
                checkpoint: Checkpoint {
                    scope: scope.to_string(),
                    seq: row.seq as u64,
                    hash: to_hash(&row.hash)?,
                    time: row.time,
                },
                key_fingerprint: row.key_fingerprint,
                // A malformed signature is kept (zeroed) so the verifier reports it as bad
                // rather than the read failing.
                signature: row.signature.as_slice().try_into().unwrap_or([0u8; 64]),
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

/// What `segments` reads.
#[derive(sqlx::FromRow)]
struct SegmentRow {
    id: String,
    first_seq: i64,
    last_seq: i64,
    file_name: String,
    sha256: Vec<u8>,
}

/// The archive segments of a chain, oldest first.
pub(crate) async fn segments(pool: &SqlitePool) -> Result<Vec<Segment>, AuditError> {
    let rows = sqlx::query_as::<_, SegmentRow>(
        "SELECT id, first_seq, last_seq, file_name, sha256 FROM audit_segments ORDER BY first_seq",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Segment {
            id: row.id,
            first_seq: row.first_seq as u64,
            last_seq: row.last_seq as u64,
            file_name: row.file_name,
            sha256: row.sha256,
        })
        .collect())
}

/// Whether a path is an existing regular file (archives are plain files in the data dir).
pub(crate) fn is_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}
