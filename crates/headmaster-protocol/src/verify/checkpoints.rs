//! The checkpoints a verification holds against the chain.
//!
//! Signatures are checked once, up front; only checkpoints that verify with a trusted key are
//! then compared with rows. They are kept sorted by sequence number so the streaming verifier
//! meets them with a cursor as rows go by, and finds one by binary search when a row shows up
//! out of order. Memory is proportional to the number of checkpoints (one per N events), not to
//! the number of events.

use ed25519_dalek::VerifyingKey;

use super::report::{Break, BreakKind};
use crate::chain::{Anchor, Hash};
use crate::checkpoint::{key_fingerprint, Checkpoint, CheckpointError, SignedCheckpoint};

/// Validly signed checkpoints of one scope, in sequence order, with what has been compared.
#[derive(Debug)]
pub(crate) struct CheckpointSet {
    accepted: Vec<Checkpoint>,
    compared: Vec<bool>,
    cursor: usize,
}

/// What comparing a row with the checkpoints at its sequence number found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    /// No checkpoint at this sequence number.
    None,
    /// Every checkpoint at this sequence number agrees with the row.
    Matched,
    /// A checkpoint disagrees; the chain at this row should have had this hash.
    Mismatched(Hash),
}

impl CheckpointSet {
    /// Checks signatures and scope, returning the accepted set, the breaks for rejected
    /// checkpoints and how many were rejected. Checkpoints before the anchor are outside the
    /// verified range and ignored; one at the anchor is compared with the anchor right away.
    pub(crate) fn new(
        scope: &str,
        anchor: &Anchor,
        signed: &[SignedCheckpoint],
        trusted: &[VerifyingKey],
    ) -> (Self, Vec<Break>, u64) {
        let trusted: Vec<(String, &VerifyingKey)> =
            trusted.iter().map(|k| (key_fingerprint(k), k)).collect();
        let mut accepted = Vec::new();
        let mut breaks = Vec::new();
        let mut examined = 0;
        for cp in signed.iter().filter(|cp| cp.checkpoint.seq >= anchor.seq) {
            let seq = cp.checkpoint.seq;
            examined += 1;
            let Some((_, key)) = trusted.iter().find(|(fp, _)| *fp == cp.key_fingerprint) else {
                breaks.push(Break {
                    seq,
                    kind: BreakKind::UnknownCheckpointKey {
                        fingerprint: cp.key_fingerprint.clone(),
                    },
                    detail: format!(
                        "checkpoint at seq {seq} is signed by {}, which is not a trusted key; \
                         it vouches for nothing until that key is pinned",
                        cp.key_fingerprint
                    ),
                });
                continue;
            };
            if let Err(err) = cp.verify(key) {
                debug_assert!(matches!(err, CheckpointError::BadSignature { .. }));
                breaks.push(Break {
                    seq,
                    kind: BreakKind::BadCheckpointSignature,
                    detail: err.to_string(),
                });
                continue;
            }
            if cp.checkpoint.scope != scope {
                breaks.push(Break {
                    seq,
                    kind: BreakKind::CheckpointMismatch,
                    detail: format!(
                        "checkpoint at seq {seq} is for scope {:?}, not {scope:?}",
                        cp.checkpoint.scope
                    ),
                });
                continue;
            }
            if seq == anchor.seq {
                if cp.checkpoint.hash != anchor.hash {
                    breaks.push(Break {
                        seq,
                        kind: BreakKind::CheckpointMismatch,
                        detail: format!(
                            "the anchor hash at seq {seq} differs from the signed checkpoint: \
                             the rows before the anchor were rewritten, or the anchor is wrong"
                        ),
                    });
                }
                continue;
            }
            accepted.push(cp.checkpoint.clone());
        }
        accepted.sort_by_key(|cp| cp.seq);
        let compared = vec![false; accepted.len()];
        let set = Self {
            accepted,
            compared,
            cursor: 0,
        };
        (set, breaks, examined)
    }

    /// Compares the row at `seq` (stored hash `hash`) as the chain moves forward to it. Returns
    /// the comparison and how many checkpoints it involved.
    pub(crate) fn advance_to(&mut self, seq: u64, hash: &Hash) -> Comparison {
        while self.cursor < self.accepted.len() && self.accepted[self.cursor].seq < seq {
            self.cursor += 1;
        }
        self.compare_from(self.cursor, seq, hash)
    }

    /// Compares a row that appeared out of order with any checkpoint at its sequence number
    /// that has not yet been compared.
    pub(crate) fn compare_out_of_order(&mut self, seq: u64, hash: &Hash) -> Comparison {
        let start = self.accepted.partition_point(|cp| cp.seq < seq);
        self.compare_from(start, seq, hash)
    }

    /// Checkpoints that vouch for rows after `last_seq`, which were never reached.
    pub(crate) fn beyond(&self, last_seq: u64) -> impl Iterator<Item = &Checkpoint> {
        self.accepted.iter().filter(move |cp| cp.seq > last_seq)
    }

    fn compare_from(&mut self, start: usize, seq: u64, hash: &Hash) -> Comparison {
        let mut result = Comparison::None;
        let mut i = start;
        while i < self.accepted.len() && self.accepted[i].seq == seq {
            if !self.compared[i] {
                self.compared[i] = true;
                if self.accepted[i].hash != *hash {
                    return Comparison::Mismatched(self.accepted[i].hash);
                }
                result = Comparison::Matched;
            }
            i += 1;
        }
        result
    }
}
