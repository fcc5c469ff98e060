//! Audit ingest: where an uploaded segment goes in the chain the server holds, and what the
//! server does about it. One rule for both storage backends.
//!
//! [`plan`] is pure: given the held head and the held hashes over the segment's range, it says
//! whether the segment appends, is a replay, leaves a gap, forks the chain or rolls it back.
//! [`run`] carries the plan out inside a backend transaction that has locked the chain's head
//! row ([`ChainTx`]), so two replicas receiving the same segment at the same moment take turns:
//! the second one sees the first one's head and answers "replay", storing nothing.
//!
//! - **append**: the segment links to the held row before it, and every row it shares with what
//!   is held has the held hash. The new rows are stored, the head moves, a receipt is signed.
//! - **replay**: every row is already held with the same hash. Success, nothing stored, the
//!   latest receipt is returned.
//! - **gap**: the segment starts after the next expected seq. Refused with that seq.
//! - **fork**: the segment differs from the held chain at some seq and goes beyond the held
//!   head: the device presents another history. Refused, quarantined, recorded.
//! - **rollback**: the segment differs at some seq and ends at or before the held head: the
//!   device presents a shorter, rewritten history (a restore from an old backup, a truncated
//!   chain). Refused, quarantined, recorded.

use std::collections::BTreeMap;

use async_trait::async_trait;
use headmaster_protocol::chain::{genesis, Anchor, Hash};
use headmaster_protocol::json::CheckpointJson;
use headmaster_protocol::receipt::{Receipt, ReceiptJson, SignedReceipt};
use headmaster_protocol::segment::Segment;

use crate::keys::{DataKey, ServerKey};
use crate::store::{DeviceRow, RefusalRow, StoreError};

/// What the server holds of one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The last seq held (0 when nothing is).
    pub seq: u64,
    /// Its hash (the genesis value of the scope when nothing is held).
    pub hash: Hash,
    /// The latest receipt, JSON.
    pub receipt: Option<String>,
}

/// Where a segment goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Rows from this index on are new; those before it are held identically.
    Append { from_index: usize },
    /// Every row is held identically.
    Replay,
    /// The segment starts after `expected`.
    Gap { expected: u64 },
    /// Another history from `seq` on, going beyond the held head.
    Fork { seq: u64 },
    /// Another history from `seq` on, ending at or before the held head.
    Rollback { seq: u64 },
}

/// Decides where `segment` goes, given the `head` held and the held hashes for every seq from
/// the segment's first seq minus one up to the lower of its last seq and the head.
pub fn plan(scope: &str, segment: &Segment, head: &Head, held: &BTreeMap<u64, Hash>) -> Plan {
    let first = segment.first_seq();
    let (last, _) = segment.last();
    if first > head.seq + 1 {
        return Plan::Gap {
            expected: head.seq + 1,
        };
    }
    let before = first - 1;
    let anchor_hash = if before == 0 {
        Some(genesis(scope))
    } else {
        held.get(&before).copied()
    };
    let diverged = |seq| {
        if last <= head.seq {
            Plan::Rollback { seq }
        } else {
            Plan::Fork { seq }
        }
    };
    match anchor_hash {
        Some(hash) if segment.links_to(&Anchor { seq: before, hash }) => {}
        _ => return diverged(first),
    }
    for (index, row) in segment.rows.iter().enumerate() {
        let seq = row.event.seq;
        if seq > head.seq {
            return Plan::Append { from_index: index };
        }
        if held.get(&seq) != Some(&row.hash) {
            return diverged(seq);
        }
    }
    Plan::Replay
}

/// Why an upload was refused after comparing it with what is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A gap: the seq the server expects next.
    Gap { expected: u64 },
    /// A fork, quarantined under `quarantine_id`.
    Fork { seq: u64, quarantine_id: String },
    /// A rollback, quarantined under `quarantine_id`.
    Rollback { seq: u64, quarantine_id: String },
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Gap { .. } => "chain.gap",
            Self::Fork { .. } => "chain.fork",
            Self::Rollback { .. } => "chain.rollback",
        }
    }

    /// What happened and what to do.
    pub fn message(&self) -> String {
        match self {
            Self::Gap { expected } => format!(
                "the segment does not continue the held chain: the server expects seq {expected} next; upload from there"
            ),
            Self::Fork { seq, quarantine_id } => format!(
                "the segment differs from the chain the server holds at seq {seq}: the device presents another history. \
                 It was quarantined as {quarantine_id} and nothing was overwritten; an Admin must look at it"
            ),
            Self::Rollback { seq, quarantine_id } => format!(
                "the segment rewrites the held chain from seq {seq} and ends before its head: the device's chain went back \
                 (restored from an old backup?). It was quarantined as {quarantine_id} and nothing was overwritten; an Admin must look at it"
            ),
        }
    }
}

/// The result of one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (new rows stored, or a replay that stored none).
    Accepted {
        /// The latest receipt for the chain.
        receipt: ReceiptJson,
        /// Rows stored by this upload.
        stored: u64,
    },
    /// Refused and recorded.
    Refused(Refusal),
}

/// One row ready to store: clear columns and sealed bodies.
#[derive(Debug)]
pub struct SealedRow {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub time_ms: i64,
    pub class_uid: i32,
    pub actor_id: String,
    pub row_sealed: Vec<u8>,
    pub event_sealed: Vec<u8>,
}

/// A quarantined upload.
#[derive(Debug)]
pub struct Quarantined<'a> {
    pub id: String,
    pub kind: &'static str,
    pub seq: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub segment_sealed: Vec<u8>,
    pub device_id: &'a str,
    pub scope: &'a str,
    pub now_ms: i64,
}

/// An upload to carry out.
#[derive(Debug)]
pub struct Upload<'a> {
    pub device: &'a DeviceRow,
    pub segment: &'a Segment,
    /// The request body as received (quarantined as is).
    pub body: &'a [u8],
    pub data_key: &'a DataKey,
    pub server_key: &'a ServerKey,
    pub now_ms: i64,
}

/// A backend transaction on one chain whose head row is locked.
#[async_trait]
pub trait ChainTx: Send {
    /// The held head (creating the chain's row at seq 0 if there is none) and the hashes held
    /// for `from..=to`.
    async fn head(&mut self, from: u64, to: u64)
        -> Result<(Head, BTreeMap<u64, Hash>), StoreError>;
    /// Stores new rows.
    async fn insert_rows(&mut self, rows: &[SealedRow], now_ms: i64) -> Result<(), StoreError>;
    /// Moves the head and stores its checkpoint and receipt.
    async fn set_head(
        &mut self,
        seq: u64,
        hash: &Hash,
        checkpoint: &str,
        receipt: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// Keeps a refused segment.
    async fn quarantine(&mut self, q: Quarantined<'_>) -> Result<(), StoreError>;
    /// Records a refusal.
    async fn refusal(&mut self, r: &RefusalRow) -> Result<(), StoreError>;
    /// Commits.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Carries out `upload` in `tx`.
pub async fn run(mut tx: Box<dyn ChainTx>, upload: Upload<'_>) -> Result<Outcome, StoreError> {
    let segment = upload.segment;
    let scope = &segment.scope;
    let first = segment.first_seq();
    let (last, last_hash) = segment.last();
    let (head, held) = tx.head(first.saturating_sub(1).max(1), last).await?;
    let plan = plan(scope, segment, &head, &held);
    let device_id = &upload.device.id;
    let refusal = match plan {
        Plan::Append { from_index } => {
            let rows = seal_rows(&upload, from_index);
            tx.insert_rows(&rows, upload.now_ms).await?;
            let receipt = sign_receipt(&upload, last, &last_hash);
            let receipt_json = serde_json::to_string(&receipt).expect("a receipt serialises");
            let checkpoint = serde_json::to_string(&CheckpointJson::from(&segment.checkpoint))
                .expect("a checkpoint serialises");
            tx.set_head(last, &last_hash, &checkpoint, &receipt_json, upload.now_ms)
                .await?;
            tx.commit().await?;
            return Ok(Outcome::Accepted {
                receipt,
                stored: rows.len() as u64,
            });
        }
        Plan::Replay => {
            let receipt = match head
                .receipt
                .as_deref()
                .map(serde_json::from_str::<ReceiptJson>)
            {
                Some(Ok(receipt)) => receipt,
                // A head without a readable receipt is re-signed rather than failing a replay.
                _ => sign_receipt(&upload, head.seq, &head.hash),
            };
            tx.commit().await?;
            return Ok(Outcome::Accepted { receipt, stored: 0 });
        }
        Plan::Gap { expected } => Refusal::Gap { expected },
        Plan::Fork { seq } | Plan::Rollback { seq } => {
            let id = uuid::Uuid::now_v7().to_string();
            let kind = if matches!(plan, Plan::Fork { .. }) {
                "fork"
            } else {
                "rollback"
            };
            tx.quarantine(Quarantined {
                segment_sealed: upload
                    .data_key
                    .seal(quarantine_place(&id).as_bytes(), upload.body),
                id: id.clone(),
                kind,
                seq: seq as i64,
                first_seq: first as i64,
                last_seq: last as i64,
                device_id,
                scope,
                now_ms: upload.now_ms,
            })
            .await?;
            if kind == "fork" {
                Refusal::Fork {
                    seq,
                    quarantine_id: id,
                }
            } else {
                Refusal::Rollback {
                    seq,
                    quarantine_id: id,
                }
            }
        }
    };
    tx.refusal(&RefusalRow {
        device_id: Some(device_id.clone()),
        scope: Some(scope.clone()),
        code: refusal.code().to_owned(),
        first_seq: Some(first as i64),
        last_seq: Some(last as i64),
        detail: refusal.message(),
        time_ms: upload.now_ms,
    })
    .await?;
    tx.commit().await?;
    Ok(Outcome::Refused(refusal))
}

/// Where a stored chain row or OCSF event is sealed: its table, device, scope and seq.
pub fn row_place(kind: &str, device_id: &str, scope: &str, seq: u64) -> String {
    format!("{kind}|{device_id}|{scope}|{seq}")
}

/// Where a quarantined segment is sealed.
pub fn quarantine_place(id: &str) -> String {
    format!("quarantine|{id}")
}

fn seal_rows(upload: &Upload<'_>, from_index: usize) -> Vec<SealedRow> {
    let segment = upload.segment;
    let device_id = &upload.device.id;
    let mut line = Vec::with_capacity(1024);
    segment.rows[from_index..]
        .iter()
        .zip(&segment.events[from_index..])
        .zip(&segment.classes[from_index..])
        .map(|((row, event), class)| {
            let e = &row.event;
            line.clear();
            headmaster_protocol::json::write_chain_row(row, &mut line);
            SealedRow {
                seq: e.seq as i64,
                hash: row.hash.to_vec(),
                time_ms: chrono::DateTime::parse_from_rfc3339(&e.time)
                    .map(|t| t.timestamp_millis())
                    .unwrap_or_default(),
                class_uid: *class as i32,
                actor_id: e.actor_id.clone(),
                row_sealed: upload.data_key.seal(
                    row_place("row", device_id, &segment.scope, e.seq).as_bytes(),
                    &line,
                ),
                event_sealed: upload.data_key.seal(
                    row_place("event", device_id, &segment.scope, e.seq).as_bytes(),
                    event.get().as_bytes(),
                ),
            }
        })
        .collect()
}

fn sign_receipt(upload: &Upload<'_>, seq: u64, hash: &Hash) -> ReceiptJson {
    let signed: SignedReceipt = Receipt {
        device: upload.device.fingerprint.clone(),
        scope: upload.segment.scope.clone(),
        seq,
        hash: *hash,
        time: crate::clock::rfc3339(upload.now_ms),
    }
    .sign(upload.server_key.signing());
    ReceiptJson::from(&signed)
}
