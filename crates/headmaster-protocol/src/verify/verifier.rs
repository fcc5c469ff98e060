//! The streaming verifier: rows go in one at a time, in storage order; a report comes out.
//!
//! State is a handful of values (the expected next sequence number, the hash to chain from, the
//! open valid range) plus the checkpoints and a bounded list of open gaps, so memory does not
//! grow with the number of events.
//!
//! After a break the verifier resynchronises on the stored hash of the offending row (or on the
//! signed hash when a checkpoint disagrees), so every later intact stretch is still reported as
//! a valid range, the way CloudTrail reports each log file valid or invalid on its own.
//!
//! Missing sequence numbers are held as open gaps rather than reported at once: if a missing
//! row turns up later in storage order it was moved, not deleted, and is reported as reordered.

use std::collections::VecDeque;

use ed25519_dalek::VerifyingKey;

use super::checkpoints::{CheckpointSet, Comparison};
use super::report::{Break, BreakKind, VerifyReport, MAX_LISTED};
use crate::chain::{Anchor, ChainRow, Hash, RowRef};
use crate::checkpoint::SignedCheckpoint;

/// How many gaps are remembered for reclassification as reordered rows. Older gaps are
/// reported as missing rows straight away.
const MAX_OPEN_GAPS: usize = 256;

/// Verifies one chain piece by piece. Feed it rows with [`push`](Self::push) in storage order,
/// across as many sources as the chain spans (archive segments, then hot rows), then
/// [`finish`](Self::finish).
#[derive(Debug)]
pub struct ChainVerifier {
    anchor: Anchor,
    prev_hash: Hash,
    last_seq: u64,
    open_range: Option<(u64, u64)>,
    /// The highest sequence number a matching checkpoint (or the anchor) vouches for.
    pinned_seq: u64,
    checkpoints: CheckpointSet,
    gaps: VecDeque<Gap>,
    report: VerifyReport,
}

/// Sequence numbers `from..=to` that were skipped when `found` was read.
#[derive(Debug, Clone, Copy)]
struct Gap {
    from: u64,
    to: u64,
    found: u64,
}

impl ChainVerifier {
    /// Starts verifying the chain of `scope` after `anchor`, holding it against `checkpoints`
    /// signed by any of `trusted_keys`.
    pub fn new(
        scope: &str,
        anchor: Anchor,
        checkpoints: &[SignedCheckpoint],
        trusted_keys: &[VerifyingKey],
    ) -> Self {
        let (checkpoints, breaks, examined) =
            CheckpointSet::new(scope, &anchor, checkpoints, trusted_keys);
        let mut verifier = Self {
            anchor,
            prev_hash: anchor.hash,
            last_seq: anchor.seq,
            open_range: None,
            pinned_seq: anchor.seq,
            checkpoints,
            gaps: VecDeque::new(),
            report: VerifyReport {
                scope: scope.to_owned(),
                events_checked: 0,
                checkpoints_checked: examined,
                valid_ranges: Vec::new(),
                breaks: Vec::new(),
                breaks_omitted: 0,
                ranges_omitted: 0,
                end: anchor,
            },
        };
        for b in breaks {
            verifier.push_break(b);
        }
        verifier
    }

    /// Rows read so far.
    pub fn rows_done(&self) -> u64 {
        self.report.events_checked
    }

    /// Checks the next row in storage order.
    pub fn push(&mut self, row: &ChainRow) {
        self.push_borrowed(row.borrowed());
    }

    /// Checks the next row in storage order, borrowed from wherever it is being read.
    pub fn push_borrowed(&mut self, row: RowRef<'_>) {
        self.report.events_checked += 1;
        let seq = row.event.seq;
        let expected = self.last_seq.saturating_add(1);
        if seq == expected {
            self.in_order(row);
        } else if self.is_renumbered(row, expected) {
            self.close_range();
            self.push_break(Break {
                seq: expected,
                kind: BreakKind::HashMismatch,
                detail: format!(
                    "the row stored as seq {seq} is seq {expected} with its sequence number \
                     edited: with {expected} it hashes to its stored hash"
                ),
            });
            self.advance(expected, row.hash);
        } else if seq > expected {
            self.after_gap(expected, row);
        } else {
            self.out_of_order(row);
        }
    }

    /// Ends the verification and returns the report.
    pub fn finish(mut self) -> VerifyReport {
        self.close_range();
        while let Some(gap) = self.gaps.pop_front() {
            self.report_gap(gap);
        }
        let last_seq = self.last_seq;
        let beyond: Vec<u64> = self.checkpoints.beyond(last_seq).map(|cp| cp.seq).collect();
        if let Some(&highest) = beyond.iter().max() {
            self.push_break(Break {
                seq: last_seq + 1,
                kind: BreakKind::CheckpointBeyondEnd {
                    checkpoint_seq: highest,
                    chain_end: last_seq,
                },
                detail: format!(
                    "{} signed checkpoint(s) vouch for rows up to seq {highest}, but the chain \
                     ends at seq {last_seq}: rows {}..={highest} were deleted",
                    beyond.len(),
                    last_seq + 1
                ),
            });
        }
        self.report.end = Anchor {
            seq: self.last_seq,
            hash: self.prev_hash,
        };
        // Breaks are found in storage order; a reader wants them in chain order. The sort is
        // stable, so breaks at the same sequence number keep the order they were found in.
        self.report.breaks.sort_by_key(|b| b.seq);
        self.report
    }

    /// True when `row` is really the expected row with only its sequence number changed. Checked
    /// only when the sequence number is off, so it costs one extra hash per anomaly.
    fn is_renumbered(&self, row: RowRef<'_>, expected: u64) -> bool {
        let mut original = row.event;
        original.seq = expected;
        original.chain_hash(&self.prev_hash) == *row.hash
    }

    fn in_order(&mut self, row: RowRef<'_>) {
        let seq = row.event.seq;
        if row.event.chain_hash(&self.prev_hash) == *row.hash {
            self.extend_range(seq);
        } else {
            self.close_range();
            let (kind, detail) = if seq == self.anchor.seq + 1 && self.anchor.seq > 0 {
                (
                    BreakKind::ChainMismatch,
                    format!(
                        "seq {seq} does not chain from the anchor hash at seq {}: the anchor \
                         belongs to another chain, or this row was edited",
                        self.anchor.seq
                    ),
                )
            } else {
                (
                    BreakKind::HashMismatch,
                    format!(
                        "the content of seq {seq} does not hash to its stored hash: the row was \
                         edited, or the row before it was rewritten with a recomputed hash"
                    ),
                )
            };
            self.push_break(Break { seq, kind, detail });
        }
        self.advance(seq, row.hash);
    }

    fn after_gap(&mut self, expected: u64, row: RowRef<'_>) {
        self.close_range();
        self.gaps.push_back(Gap {
            from: expected,
            to: row.event.seq - 1,
            found: row.event.seq,
        });
        if self.gaps.len() > MAX_OPEN_GAPS {
            if let Some(oldest) = self.gaps.pop_front() {
                self.report_gap(oldest);
            }
        }
        self.advance(row.event.seq, row.hash);
    }

    /// Moves the chain forward to the row at `seq` with stored hash `hash`: compares checkpoints
    /// and resynchronises on the hash.
    fn advance(&mut self, seq: u64, hash: &Hash) {
        self.last_seq = seq;
        self.prev_hash = *hash;
        match self.checkpoints.advance_to(seq, hash) {
            Comparison::None => {}
            // A matching checkpoint proves the stored hash at `seq` authentic, whatever the row
            // itself looks like: a rewrite found later must have happened after it.
            Comparison::Matched => self.pinned_seq = seq,
            Comparison::Mismatched(signed) => {
                self.checkpoint_mismatch(seq);
                // The signed hash is the truth at this point; chaining on from it lets rows after
                // a rewritten stretch verify again if they were left untouched.
                self.prev_hash = signed;
                self.pinned_seq = seq;
            }
        }
    }

    /// A signed checkpoint disagrees at `seq`: some row after the last pinned point was
    /// rewritten, so nothing in between can be called valid any more.
    fn checkpoint_mismatch(&mut self, seq: u64) {
        self.close_range();
        let pinned = self.pinned_seq;
        let ranges = &mut self.report.valid_ranges;
        while let Some(last) = ranges.last_mut() {
            if last.0 > pinned {
                ranges.pop();
            } else {
                last.1 = last.1.min(pinned);
                break;
            }
        }
        self.push_break(Break {
            seq,
            kind: BreakKind::CheckpointMismatch,
            detail: format!(
                "the stored hash at seq {seq} differs from the signed checkpoint: the chain was \
                 rewritten somewhere in seq {}..={seq}",
                pinned + 1
            ),
        });
    }

    fn out_of_order(&mut self, row: RowRef<'_>) {
        let seq = row.event.seq;
        let stored_after = self.last_seq;
        if let Some(index) = self.gaps.iter().position(|g| g.from <= seq && seq <= g.to) {
            self.fill_gap(index, seq);
            self.push_break(Break {
                seq,
                kind: BreakKind::Reordered { stored_after },
                detail: format!(
                    "seq {seq} is stored after seq {stored_after}: rows were moved out of order"
                ),
            });
        } else {
            let detail = if seq <= self.anchor.seq {
                format!(
                    "seq {seq} is at or before the anchor seq {} where this verification starts",
                    self.anchor.seq
                )
            } else if seq == stored_after && *row.hash == self.prev_hash {
                format!("seq {seq} is stored twice (an exact copy)")
            } else {
                format!("seq {seq} is stored again after seq {stored_after}, with other content")
            };
            self.push_break(Break {
                seq,
                kind: BreakKind::DuplicateSeq,
                detail,
            });
        }
        if let Comparison::Mismatched(_) = self.checkpoints.compare_out_of_order(seq, row.hash) {
            self.push_break(Break {
                seq,
                kind: BreakKind::CheckpointMismatch,
                detail: format!("the stored hash at seq {seq} differs from the signed checkpoint"),
            });
        }
    }

    /// Removes `seq` from the gap at `index`, splitting it in two if `seq` is inside.
    fn fill_gap(&mut self, index: usize, seq: u64) {
        let gap = self.gaps[index];
        let left = (gap.from < seq).then_some(Gap {
            to: seq - 1,
            found: seq,
            ..gap
        });
        let right = (seq < gap.to).then_some(Gap {
            from: seq + 1,
            ..gap
        });
        self.gaps.remove(index);
        for part in [right, left].into_iter().flatten() {
            self.gaps.insert(index, part);
        }
    }

    fn report_gap(&mut self, gap: Gap) {
        let detail = if gap.from == gap.to {
            format!("seq {} is missing: the row was deleted", gap.from)
        } else {
            format!(
                "seq {}..={} are missing: the rows were deleted",
                gap.from, gap.to
            )
        };
        self.push_break(Break {
            seq: gap.from,
            kind: BreakKind::MissingSeq {
                expected: gap.from,
                found: gap.found,
            },
            detail: format!(
                "{detail} (seq {} is stored where seq {} was expected; it cannot be checked \
                 without its predecessor)",
                gap.found, gap.from
            ),
        });
    }

    fn extend_range(&mut self, seq: u64) {
        self.open_range = Some(match self.open_range {
            Some((start, _)) => (start, seq),
            None => (seq, seq),
        });
    }

    fn close_range(&mut self) {
        if let Some(range) = self.open_range.take() {
            if self.report.valid_ranges.len() < MAX_LISTED {
                self.report.valid_ranges.push(range);
            } else {
                self.report.ranges_omitted += 1;
            }
        }
    }

    fn push_break(&mut self, b: Break) {
        if self.report.breaks.len() < MAX_LISTED {
            self.report.breaks.push(b);
        } else {
            self.report.breaks_omitted += 1;
        }
    }
}
