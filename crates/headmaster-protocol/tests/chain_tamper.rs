//! Each way of tampering with a stored chain, and the exact report it produces.
//!
//! The chain has 12 rows with signed checkpoints at seq 4, 8 and 12, as a database would after
//! checkpointing every four events.

use headmaster_protocol::chain::{Anchor, ChainRow};
use headmaster_protocol::checkpoint::{key_fingerprint, SignedCheckpoint};
use headmaster_protocol::verify::{verify_chain, BreakKind, ChainVerifier, VerifyInput};

use crate::support::{chain, checkpoint, device_key, other_key, rehash_from, verify, SCOPE};

fn setup() -> (Vec<ChainRow>, Vec<SignedCheckpoint>) {
    let rows = chain(12);
    let cps = [4, 8, 12]
        .map(|s| checkpoint(&rows, s, &device_key()))
        .to_vec();
    (rows, cps)
}

/// The breaks of a report as (seq, kind) pairs, which is what these tests pin exactly.
fn breaks(report: &headmaster_protocol::verify::VerifyReport) -> Vec<(u64, BreakKind)> {
    report
        .breaks
        .iter()
        .map(|b| (b.seq, b.kind.clone()))
        .collect()
}

#[test]
fn an_intact_chain_is_valid_end_to_end() {
    let (rows, cps) = setup();
    let report = verify(&rows, &cps);
    assert!(report.is_valid(), "{:?}", report.breaks);
    assert_eq!(report.valid_ranges, vec![(1, 12)]);
    assert_eq!((report.events_checked, report.checkpoints_checked), (12, 3));
    assert_eq!(
        report.end,
        Anchor {
            seq: 12,
            hash: rows[11].hash
        }
    );
    assert!(report.first_break().is_none());
}

#[test]
fn an_edited_row_is_a_hash_mismatch_at_that_row_only() {
    let (mut rows, cps) = setup();
    rows[4].event.action = "approval.approved".into();
    let report = verify(&rows, &cps);
    assert_eq!(breaks(&report), vec![(5, BreakKind::HashMismatch)]);
    assert_eq!(report.valid_ranges, vec![(1, 4), (6, 12)]);
    assert_eq!(report.first_break().unwrap().seq, 5);
    assert!(!report.is_valid());
}

#[test]
fn an_edited_sequence_number_is_a_hash_mismatch_at_the_original_seq() {
    let (mut rows, cps) = setup();
    rows[4].event.seq = 500;
    let report = verify(&rows, &cps);
    assert_eq!(breaks(&report), vec![(5, BreakKind::HashMismatch)]);
    assert!(
        report.breaks[0].detail.contains("stored as seq 500"),
        "{}",
        report.breaks[0].detail
    );
    assert_eq!(report.valid_ranges, vec![(1, 4), (6, 12)]);
}

#[test]
fn a_deleted_row_is_a_missing_seq() {
    let (mut rows, cps) = setup();
    rows.remove(5);
    let report = verify(&rows, &cps);
    assert_eq!(
        breaks(&report),
        vec![(
            6,
            BreakKind::MissingSeq {
                expected: 6,
                found: 7
            }
        )]
    );
    // Row 7 cannot be checked without row 6; the chain resumes from its stored hash.
    assert_eq!(report.valid_ranges, vec![(1, 5), (8, 12)]);
    assert_eq!(report.events_checked, 11);
}

#[test]
fn swapped_rows_are_reported_as_reordered_not_missing() {
    let (mut rows, cps) = setup();
    rows.swap(5, 6);
    let report = verify(&rows, &cps);
    assert_eq!(
        breaks(&report),
        vec![(6, BreakKind::Reordered { stored_after: 7 })]
    );
    assert_eq!(report.valid_ranges, vec![(1, 5), (8, 12)]);
}

#[test]
fn a_truncated_tail_is_caught_by_the_last_checkpoint() {
    let (mut rows, cps) = setup();
    rows.truncate(10);
    let report = verify(&rows, &cps);
    assert_eq!(
        breaks(&report),
        vec![(
            11,
            BreakKind::CheckpointBeyondEnd {
                checkpoint_seq: 12,
                chain_end: 10
            }
        )]
    );
    assert_eq!(report.valid_ranges, vec![(1, 10)]);
    assert!(report.breaks[0]
        .detail
        .contains("rows 11..=12 were deleted"));
}

#[test]
fn an_altered_checkpoint_signature_is_reported_and_the_chain_still_verifies() {
    let (rows, mut cps) = setup();
    cps[1].signature[10] ^= 0x40;
    let report = verify(&rows, &cps);
    assert_eq!(
        breaks(&report),
        vec![(8, BreakKind::BadCheckpointSignature)]
    );
    assert_eq!(report.valid_ranges, vec![(1, 12)]);
}

#[test]
fn a_checkpoint_from_another_key_is_an_unknown_key() {
    let (rows, mut cps) = setup();
    cps[1] = checkpoint(&rows, 8, &other_key());
    let report = verify(&rows, &cps);
    let fingerprint = key_fingerprint(&other_key().verifying_key());
    assert_eq!(
        breaks(&report),
        vec![(8, BreakKind::UnknownCheckpointKey { fingerprint })]
    );
    assert_eq!(report.valid_ranges, vec![(1, 12)]);
}

#[test]
fn a_rewrite_with_recomputed_hashes_is_caught_by_checkpoints() {
    let (mut rows, cps) = setup();
    rows[4].event.outcome = "denied".into();
    rehash_from(&mut rows, 4);
    let report = verify(&rows, &cps);
    // Every row chains, but checkpoint 8 disagrees: the rewrite lies in 5..=8. Row 9 does not
    // chain from the signed hash at 8, and checkpoint 12 disagrees again.
    assert_eq!(
        breaks(&report),
        vec![
            (8, BreakKind::CheckpointMismatch),
            (9, BreakKind::HashMismatch),
            (12, BreakKind::CheckpointMismatch),
        ]
    );
    assert_eq!(report.valid_ranges, vec![(1, 4)]);
}

#[test]
fn a_rewritten_row_whose_successors_were_left_alone_recovers_after_the_checkpoint() {
    let (mut rows, cps) = setup();
    rows[7].event.target = "someone-else".into();
    rehash_from(&mut rows[..8], 7);
    let report = verify(&rows, &cps);
    assert_eq!(breaks(&report), vec![(8, BreakKind::CheckpointMismatch)]);
    assert_eq!(report.valid_ranges, vec![(1, 4), (9, 12)]);
}

#[test]
fn a_duplicated_row_is_reported_once() {
    let (mut rows, cps) = setup();
    let copy = rows[2].clone();
    rows.insert(3, copy);
    let report = verify(&rows, &cps);
    assert_eq!(breaks(&report), vec![(3, BreakKind::DuplicateSeq)]);
    assert!(report.breaks[0].detail.contains("exact copy"));
    assert_eq!(report.valid_ranges, vec![(1, 12)]);
}

#[test]
fn archive_segments_and_hot_rows_verify_as_one_chain() {
    let (rows, cps) = setup();
    let keys = [device_key().verifying_key()];
    let mut verifier = ChainVerifier::new(SCOPE, Anchor::genesis(SCOPE), &cps, &keys);
    for segment in rows.chunks(5) {
        for row in segment {
            verifier.push(row);
        }
    }
    let report = verifier.finish();
    assert!(report.is_valid(), "{:?}", report.breaks);
    assert_eq!(report.valid_ranges, vec![(1, 12)]);

    // Verifying the hot rows alone starts from the end of the archived part.
    let archived = verify(&rows[..6], &[]);
    let input = VerifyInput {
        scope: SCOPE,
        anchor: archived.end,
        checkpoints: &cps,
        trusted_keys: &keys,
    };
    let mut progress = Vec::new();
    let hot = verify_chain(input, rows[6..].iter().cloned(), &mut |n| progress.push(n));
    assert!(hot.is_valid(), "{:?}", hot.breaks);
    assert_eq!(hot.valid_ranges, vec![(7, 12)]);
    assert_eq!(
        hot.checkpoints_checked, 2,
        "checkpoints 8 and 12 lie in the hot part"
    );
    assert_eq!(progress, vec![6]);
}

#[test]
fn a_wrong_anchor_is_a_chain_mismatch_at_the_first_row() {
    let (rows, cps) = setup();
    let keys = [device_key().verifying_key()];
    let anchor = Anchor {
        seq: 6,
        hash: [0; 32],
    };
    let input = VerifyInput {
        scope: SCOPE,
        anchor,
        checkpoints: &cps,
        trusted_keys: &keys,
    };
    let report = verify_chain(input, rows[6..].iter().cloned(), &mut |_| {});
    assert_eq!(breaks(&report), vec![(7, BreakKind::ChainMismatch)]);
    assert_eq!(report.valid_ranges, vec![(8, 12)]);
}

#[test]
fn a_chain_from_another_scope_does_not_verify() {
    let (rows, _) = setup();
    let input = VerifyInput {
        scope: "other-workspace",
        anchor: Anchor::genesis("other-workspace"),
        checkpoints: &[],
        trusted_keys: &[],
    };
    let report = verify_chain(input, rows.iter().cloned(), &mut |_| {});
    assert_eq!(breaks(&report), vec![(1, BreakKind::HashMismatch)]);
}
