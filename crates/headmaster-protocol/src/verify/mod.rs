//! Chain verification that reports like AWS CloudTrail's `validate-logs`.
//!
//! The same verifier checks a live database, archive segments followed by the hot rows (the
//! chain simply continues across them), and the `chain.jsonl` of an export bundle: each source
//! feeds [`ChainVerifier::push`] rows in storage order. [`verify_chain`] is the one-call form for
//! an iterator of rows.
//!
//! Rows must be read in *storage* order (SQLite rowid, file line), not sorted by sequence
//! number: sorting would hide rows that were swapped on disk.

mod checkpoints;
mod report;
mod verifier;

use ed25519_dalek::VerifyingKey;

pub use report::{Break, BreakKind, VerifyReport};
pub use verifier::ChainVerifier;

use crate::chain::{Anchor, ChainRow};
use crate::checkpoint::SignedCheckpoint;

/// The progress callback is called after this many rows (and once at the end).
pub const PROGRESS_EVERY: u64 = 4096;

/// What a verification checks the rows against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyInput<'a> {
    /// The chain's scope: a workspace id, or `instance`.
    pub scope: &'a str,
    /// Where the rows start; [`Anchor::genesis`] for a whole chain.
    pub anchor: Anchor,
    /// Signed checkpoints over the chain, in any order.
    pub checkpoints: &'a [SignedCheckpoint],
    /// Keys whose checkpoints are trusted (the device key, pinned keys).
    pub trusted_keys: &'a [VerifyingKey],
}

/// Verifies `rows` (in storage order) and reports. `progress` receives the number of rows done
/// every [`PROGRESS_EVERY`] rows and once at the end.
pub fn verify_chain<I>(
    input: VerifyInput<'_>,
    rows: I,
    progress: &mut dyn FnMut(u64),
) -> VerifyReport
where
    I: IntoIterator<Item = ChainRow>,
{
    let mut verifier = ChainVerifier::new(
        input.scope,
        input.anchor,
        input.checkpoints,
        input.trusted_keys,
    );
    for row in rows {
        verifier.push(&row);
        if verifier.rows_done().is_multiple_of(PROGRESS_EVERY) {
            progress(verifier.rows_done());
        }
    }
    progress(verifier.rows_done());
    verifier.finish()
}
