//! The verdict of a chain verification, shaped like AWS CloudTrail's `validate-logs` output: which
//! ranges of the chain verify, and for every place where it does not, the sequence number and why.

use crate::chain::Anchor;

/// Most breaks (and most valid ranges) a report lists. A chain that is broken everywhere would
/// otherwise make the report as large as the chain; past this the report only counts.
pub(crate) const MAX_LISTED: usize = 10_000;

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The chain's scope: a workspace id, or `instance`.
    pub scope: String,
    /// Rows read, valid or not.
    pub events_checked: u64,
    /// Checkpoints examined: matched against the chain, or rejected.
    pub checkpoints_checked: u64,
    /// Inclusive sequence ranges whose rows hash correctly from their predecessor, in order.
    pub valid_ranges: Vec<(u64, u64)>,
    /// Every place the chain does not verify, ordered by sequence number.
    pub breaks: Vec<Break>,
    /// Breaks found beyond the first [`MAX_LISTED`](self) that the report does not list.
    pub breaks_omitted: u64,
    /// Valid ranges beyond the first ten thousand that the report does not list.
    pub ranges_omitted: u64,
    /// Where the checked rows end: the highest sequence number read in order and its stored
    /// hash. Verifying the next piece of the same chain (hot rows after an archive segment)
    /// starts from here.
    pub end: Anchor,
}

/// One place where the chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The sequence number the break is at (for a missing row: the first missing number).
    pub seq: u64,
    /// What is wrong.
    pub kind: BreakKind,
    /// A sentence for a person: what was found and what it means.
    pub detail: String,
}

/// The kinds of breaks a verification reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// The row's content does not hash to its stored hash: the row was edited (or a row before
    /// it was rewritten and its hash recomputed).
    HashMismatch,
    /// The first row does not chain from the anchor the verification started from: the anchor
    /// is wrong (an archive segment from elsewhere) or the first row was edited.
    ChainMismatch,
    /// Sequence numbers jump: rows `expected..found` are not there (deleted).
    MissingSeq {
        /// The first sequence number that is missing.
        expected: u64,
        /// The sequence number stored where `expected` should have been.
        found: u64,
    },
    /// The row is stored out of order: after a row with a higher sequence number.
    Reordered {
        /// The highest sequence number stored before this row.
        stored_after: u64,
    },
    /// A sequence number appears a second time.
    DuplicateSeq,
    /// A checkpoint's signature does not verify with the key it names.
    BadCheckpointSignature,
    /// A checkpoint names a key that is not among the trusted keys.
    UnknownCheckpointKey {
        /// The fingerprint the checkpoint names.
        fingerprint: String,
    },
    /// A validly signed checkpoint disagrees with the chain at its sequence number: the chain
    /// was rewritten at or before that row, or the checkpoint belongs to another scope.
    CheckpointMismatch,
    /// A validly signed checkpoint points past the last row: the tail of the chain was deleted.
    CheckpointBeyondEnd {
        /// The highest sequence number a checkpoint vouches for.
        checkpoint_seq: u64,
        /// The last sequence number actually present.
        chain_end: u64,
    },
}

impl VerifyReport {
    /// True when every row verifies and every checkpoint matches.
    pub fn is_valid(&self) -> bool {
        self.breaks.is_empty() && self.breaks_omitted == 0
    }

    /// The break with the lowest sequence number, if any.
    pub fn first_break(&self) -> Option<&Break> {
        self.breaks.first()
    }
}

impl BreakKind {
    /// A stable short code for the kind, for JSON output and UIs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::HashMismatch => "hash_mismatch",
            Self::ChainMismatch => "chain_mismatch",
            Self::MissingSeq { .. } => "missing_seq",
            Self::Reordered { .. } => "reordered",
            Self::DuplicateSeq => "duplicate_seq",
            Self::BadCheckpointSignature => "bad_checkpoint_signature",
            Self::UnknownCheckpointKey { .. } => "unknown_checkpoint_key",
            Self::CheckpointMismatch => "checkpoint_mismatch",
            Self::CheckpointBeyondEnd { .. } => "checkpoint_beyond_end",
        }
    }
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {}: {}: {}", self.seq, self.kind.code(), self.detail)
    }
}
