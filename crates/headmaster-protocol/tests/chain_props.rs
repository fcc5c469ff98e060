//! Properties of the verifier over random chains: an untouched chain always verifies, and any
//! single mutation is detected, with the first break at the row that was tampered with.

use headmaster_protocol::chain::{Anchor, ChainRow, StoredEvent};
use headmaster_protocol::verify::BreakKind;
use proptest::prelude::*;

use crate::support::{checkpoint, device_key, verify, ACTIONS, SCOPE};

/// One tampering, at row index `at` (reduced modulo the chain length).
#[derive(Debug, Clone)]
enum Mutation {
    EditField { at: usize, field: usize },
    Delete { at: usize },
    SwapWithNext { at: usize },
    Duplicate { at: usize },
    CorruptStoredHash { at: usize, bit: u8 },
}

fn arb_event() -> impl Strategy<Value = (usize, String, Vec<u8>, Vec<u8>)> {
    (
        0..ACTIONS.len(),
        "[a-z0-9-]{0,12}",
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(any::<u8>(), 0..128),
    )
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..6usize).prop_map(|(at, field)| Mutation::EditField { at, field }),
        any::<usize>().prop_map(|at| Mutation::Delete { at }),
        any::<usize>().prop_map(|at| Mutation::SwapWithNext { at }),
        any::<usize>().prop_map(|at| Mutation::Duplicate { at }),
        (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Mutation::CorruptStoredHash { at, bit }),
    ]
}

fn build(parts: &[(usize, String, Vec<u8>, Vec<u8>)]) -> Vec<ChainRow> {
    let mut prev = Anchor::genesis(SCOPE).hash;
    let mut rows = Vec::new();
    for (i, (action, target, source, payload)) in parts.iter().enumerate() {
        let event = StoredEvent {
            seq: i as u64 + 1,
            time: format!("2026-11-27T13:00:{:02}.000Z", i % 60),
            actor_kind: "user".into(),
            actor_id: format!("u{}", i % 4),
            action: ACTIONS[*action].into(),
            target: target.clone(),
            outcome: "allowed".into(),
            run_id: String::new(),
            step_id: String::new(),
            approval_id: String::new(),
            source: source.clone(),
            payload: payload.clone(),
        };
        let hash = event.chain_hash(&prev);
        prev = hash;
        rows.push(ChainRow { event, hash });
    }
    rows
}

/// Applies `mutation` and returns the sequence number where the first break must be.
fn apply(rows: &mut Vec<ChainRow>, mutation: &Mutation) -> u64 {
    let n = rows.len();
    match *mutation {
        Mutation::EditField { at, field } => {
            let e = &mut rows[at % n].event;
            match field {
                0 => e.action.push('x'),
                1 => e.target.push('x'),
                2 => e.time = e.time.replace("2026", "2025"),
                3 => e.source.push(1),
                4 => e.payload.push(1),
                _ => e.seq += 1000,
            }
            (at % n) as u64 + 1
        }
        Mutation::Delete { at } => rows.remove(at % n).event.seq,
        Mutation::SwapWithNext { at } => {
            let i = at % (n - 1);
            rows.swap(i, i + 1);
            i as u64 + 1
        }
        Mutation::Duplicate { at } => {
            let copy = rows[at % n].clone();
            rows.insert(at % n + 1, copy);
            (at % n) as u64 + 1
        }
        Mutation::CorruptStoredHash { at, bit } => {
            rows[at % n].hash[(at / 7) % 32] ^= 1 << bit;
            (at % n) as u64 + 1
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn an_untouched_chain_verifies(parts in proptest::collection::vec(arb_event(), 1..40)) {
        let rows = build(&parts);
        let cp = checkpoint(&rows, rows.len() as u64, &device_key());
        let report = verify(&rows, &[cp]);
        prop_assert!(report.is_valid(), "{:?}", report.breaks);
        prop_assert_eq!(report.valid_ranges, vec![(1, rows.len() as u64)]);
    }

    #[test]
    fn a_single_mutation_is_detected_at_its_row(
        parts in proptest::collection::vec(arb_event(), 2..40),
        mutation in arb_mutation(),
    ) {
        let mut rows = build(&parts);
        // A checkpoint at the end, as the database makes one when a session closes; without it
        // deleting the very last row would be undetectable by design.
        let cp = checkpoint(&rows, rows.len() as u64, &device_key());
        let expected = apply(&mut rows, &mutation);
        let report = verify(&rows, &[cp]);
        prop_assert!(!report.is_valid());
        let first = report.first_break().unwrap();
        prop_assert_eq!(first.seq, expected, "{:?} -> {:?}", mutation, report.breaks);
        let kind_ok = matches!(
            (&mutation, &first.kind),
            (Mutation::EditField { .. } | Mutation::CorruptStoredHash { .. }, BreakKind::HashMismatch)
                | (Mutation::Delete { .. }, BreakKind::MissingSeq { .. } | BreakKind::CheckpointBeyondEnd { .. })
                | (Mutation::SwapWithNext { .. }, BreakKind::Reordered { .. })
                | (Mutation::Duplicate { .. }, BreakKind::DuplicateSeq)
        );
        prop_assert!(kind_ok, "{:?} reported as {:?}", mutation, report.breaks);
    }
}
