//! Audit segments: the unit in which a desktop uploads a chain to the shared server.
//!
//! A segment is a contiguous seq range of one chain's rows (in the `chain.jsonl` form), the OCSF
//! event of each row, and the device's signed checkpoint over the last row. On the wire it is one
//! JSON object ([`SegmentJson`]); [`Segment::check`] turns it into a segment whose every part is
//! consistent with the others and signed by the given device key, or says exactly what is wrong.
//!
//! What `check` cannot know is where the segment sits in the chain the server already holds:
//! the first row's hash depends on the row before it. The server asks [`Segment::links_to`] with
//! the anchor it holds; only a segment that links there continues the chain. Until then nothing
//! about the first row's content is trusted beyond its stored hash.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::chain::{Anchor, ChainRow};
use crate::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::json::{write_chain_row, ChainRowJson, CheckpointJson, JsonError};
use crate::ocsf::{write_ocsf, AuditRecord, EventLine, OcsfError};

/// The most rows one segment may carry; a desktop cuts longer stretches into several segments.
pub const MAX_SEGMENT_ROWS: usize = 10_000;
/// The longest scope name accepted (workspace ids are UUIDs; `instance` is the other scope).
pub const MAX_SCOPE_LEN: usize = 128;

/// One segment as it travels: rows, their OCSF events (kept byte for byte), and the checkpoint.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentJson {
    /// The chain's scope: a workspace id, or `instance`.
    pub scope: String,
    /// The rows, in order.
    pub rows: Vec<ChainRowJson>,
    /// One OCSF event per row, in the same order.
    pub events: Vec<Box<RawValue>>,
    /// The device's checkpoint over the last row.
    pub checkpoint: CheckpointJson,
}

/// A segment whose parts agree with each other and whose checkpoint the device key signed.
#[derive(Debug)]
pub struct Segment {
    /// The chain's scope.
    pub scope: String,
    /// The rows, contiguous and chained to each other.
    pub rows: Vec<ChainRow>,
    /// The OCSF event of each row, exactly as uploaded.
    pub events: Vec<Box<RawValue>>,
    /// The OCSF class of each event (for filtering without opening it).
    pub classes: Vec<u32>,
    /// The checkpoint over the last row.
    pub checkpoint: SignedCheckpoint,
}

/// Why a segment was refused before it was compared with what the server holds. Each kind has a
/// stable [`code`](Self::code).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SegmentError {
    /// The segment has no rows.
    #[error("the segment has no rows; send at least one row with its checkpoint")]
    Empty,
    /// The segment has more rows than one upload may carry.
    #[error(
        "the segment has {rows} rows, more than {MAX_SEGMENT_ROWS}; cut it into smaller segments"
    )]
    TooLarge {
        /// Rows sent.
        rows: usize,
    },
    /// The scope is empty or too long.
    #[error("the scope {scope:?} is not a chain scope (a workspace id or `instance`, at most {MAX_SCOPE_LEN} characters)")]
    BadScope {
        /// The scope sent.
        scope: String,
    },
    /// The number of events differs from the number of rows.
    #[error("the segment has {rows} rows but {events} OCSF events; send one event per row")]
    EventCount {
        /// Rows sent.
        rows: usize,
        /// Events sent.
        events: usize,
    },
    /// A row does not decode.
    #[error("row {index} does not decode: {source}")]
    BadRow {
        /// Position in the segment, from 0.
        index: usize,
        /// What is wrong with it.
        source: JsonError,
    },
    /// The sequence numbers do not increase by one.
    #[error("row {index} has seq {found} where seq {expected} must follow; send rows in order without gaps")]
    NotContiguous {
        /// Position in the segment, from 0.
        index: usize,
        /// The seq that must come next.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// A row's stored hash is not the hash of its event after the row before it.
    #[error("the chain breaks at seq {seq}: its stored hash is not the hash of its event after the previous row")]
    BrokenChain {
        /// The row that does not chain.
        seq: u64,
    },
    /// An OCSF event does not describe the row it stands beside.
    #[error("the OCSF event for seq {seq} does not describe its chain row: {detail}")]
    EventMismatch {
        /// The row's seq.
        seq: u64,
        /// The differences found.
        detail: String,
    },
    /// The checkpoint does not decode.
    #[error("the checkpoint does not decode: {0}")]
    BadCheckpoint(JsonError),
    /// The checkpoint is not over the segment's last row of this scope.
    #[error("the checkpoint is over {scope:?} seq {seq}, not over this segment's last row; sign a checkpoint over the last row sent")]
    CheckpointMismatch {
        /// The checkpoint's scope.
        scope: String,
        /// The checkpoint's seq.
        seq: u64,
    },
    /// The checkpoint's signature does not verify with the device key.
    #[error("the checkpoint is not signed by this device's key: {0}")]
    BadSignature(CheckpointError),
}

impl SegmentError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "segment.empty",
            Self::TooLarge { .. } => "segment.too_large",
            Self::BadScope { .. } => "segment.bad_scope",
            Self::EventCount { .. } => "segment.event_count",
            Self::BadRow { .. } => "segment.malformed",
            Self::NotContiguous { .. } => "segment.not_contiguous",
            Self::BrokenChain { .. } => "segment.broken_chain",
            Self::EventMismatch { .. } => "segment.event_mismatch",
            Self::BadCheckpoint(_) => "segment.malformed",
            Self::CheckpointMismatch { .. } => "segment.checkpoint_mismatch",
            Self::BadSignature(_) => "segment.bad_signature",
        }
    }
}

impl Segment {
    /// Checks that the segment's parts agree and that `device_key` signed its checkpoint.
    pub fn check(
        json: SegmentJson,
        device_key: &ed25519_dalek::VerifyingKey,
    ) -> Result<Self, SegmentError> {
        let SegmentJson {
            scope,
            rows,
            events,
            checkpoint,
        } = json;
        if scope.is_empty() || scope.len() > MAX_SCOPE_LEN || scope.chars().any(char::is_control) {
            return Err(SegmentError::BadScope { scope });
        }
        if rows.is_empty() {
            return Err(SegmentError::Empty);
        }
        if rows.len() > MAX_SEGMENT_ROWS {
            return Err(SegmentError::TooLarge { rows: rows.len() });
        }
        if rows.len() != events.len() {
            return Err(SegmentError::EventCount {
                rows: rows.len(),
                events: events.len(),
            });
        }
        let mut checked: Vec<ChainRow> = Vec::with_capacity(rows.len());
        for (index, row) in rows.into_iter().enumerate() {
            let row =
                ChainRow::try_from(row).map_err(|source| SegmentError::BadRow { index, source })?;
            if let Some(prev) = checked.last() {
                let expected = prev.event.seq + 1;
                if row.event.seq != expected {
                    return Err(SegmentError::NotContiguous {
                        index,
                        expected,
                        found: row.event.seq,
                    });
                }
                if row.event.chain_hash(&prev.hash) != row.hash {
                    return Err(SegmentError::BrokenChain { seq: row.event.seq });
                }
            }
            checked.push(row);
        }
        let mut classes = Vec::with_capacity(events.len());
        for (row, event) in checked.iter().zip(&events) {
            let seq = row.event.seq;
            let line = EventLine::parse(event.get().as_bytes()).map_err(|e| {
                SegmentError::EventMismatch {
                    seq,
                    detail: format!("not a Headmaster OCSF event: {e}"),
                }
            })?;
            let differences = line.differences(&row.event, Some(&scope));
            if !differences.is_empty() {
                return Err(SegmentError::EventMismatch {
                    seq,
                    detail: differences.join(", "),
                });
            }
            classes.push(line.class_uid);
        }
        let checkpoint =
            SignedCheckpoint::try_from(checkpoint).map_err(SegmentError::BadCheckpoint)?;
        let last = checked
            .last()
            .expect("checked above that rows is not empty");
        let cp = &checkpoint.checkpoint;
        if cp.scope != scope || cp.seq != last.event.seq || cp.hash != last.hash {
            return Err(SegmentError::CheckpointMismatch {
                scope: cp.scope.clone(),
                seq: cp.seq,
            });
        }
        checkpoint
            .verify(device_key)
            .map_err(SegmentError::BadSignature)?;
        Ok(Self {
            scope,
            rows: checked,
            events,
            classes,
            checkpoint,
        })
    }

    /// Sequence number of the first row.
    pub fn first_seq(&self) -> u64 {
        self.rows[0].event.seq
    }

    /// Sequence number and hash of the last row.
    pub fn last(&self) -> (u64, crate::chain::Hash) {
        let last = self.rows.last().expect("a checked segment has rows");
        (last.event.seq, last.hash)
    }

    /// Whether the first row continues the chain right after `anchor`: the next seq, and a
    /// stored hash that is the hash of its event after the anchor's.
    pub fn links_to(&self, anchor: &Anchor) -> bool {
        let first = &self.rows[0];
        first.event.seq == anchor.seq + 1 && first.event.chain_hash(&anchor.hash) == first.hash
    }
}

/// Writes the wire form of a segment of `scope`: `rows` with their opened records, and the
/// checkpoint over the last row. The output is what [`SegmentJson`] parses.
pub fn write_segment(
    scope: &str,
    rows: &[(ChainRow, AuditRecord<'_>)],
    checkpoint: &SignedCheckpoint,
) -> Result<Vec<u8>, OcsfError> {
    let mut out = Vec::with_capacity(rows.len() * 1024 + 512);
    out.extend_from_slice(b"{\"scope\":");
    serde_json::to_writer(&mut out, scope).expect("writing JSON to a Vec cannot fail");
    out.extend_from_slice(b",\"rows\":[");
    for (i, (row, _)) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_chain_row(row, &mut out);
    }
    out.extend_from_slice(b"],\"events\":[");
    for (i, (_, record)) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_ocsf(record, &mut out)?;
    }
    out.extend_from_slice(b"],\"checkpoint\":");
    serde_json::to_writer(&mut out, &CheckpointJson::from(checkpoint))
        .expect("writing JSON to a Vec cannot fail");
    out.push(b'}');
    Ok(out)
}
