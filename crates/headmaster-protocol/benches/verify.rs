//! Throughput of chain verification and bundle export on one million synthetic events.
//!
//! Each event carries a ~100-byte sealed source and a ~200-byte sealed payload, about what a
//! real event stores. Verification is compared with plain SHA-256 over the same canonical bytes,
//! which is the floor: the verifier should cost little beyond the hashing itself.
//!
//! Run with `cargo bench -p headmaster-protocol --bench verify`; it prints its numbers.

use std::borrow::Cow;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use headmaster_protocol::bundle::{verify_bundle, BundleHeader, BundleWriter, Trust};
use headmaster_protocol::chain::{Anchor, ChainRow, StoredEvent};
use headmaster_protocol::checkpoint::Checkpoint;
use headmaster_protocol::ocsf::{Actor, AuditRecord, Source};
use headmaster_protocol::verify::ChainVerifier;
use sha2::{Digest, Sha256};

const EVENTS: u64 = 1_000_000;
const SCOPE: &str = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

fn event(seq: u64) -> StoredEvent {
    StoredEvent {
        seq,
        time: format!(
            "2026-11-27T13:{:02}:{:02}.{:03}Z",
            (seq / 60) % 60,
            seq % 60,
            seq % 1000
        ),
        actor_kind: "user".into(),
        actor_id: "0193a1b2-0000-7000-8000-00000000beef".into(),
        action: if seq.is_multiple_of(2) {
            "tool.executed"
        } else {
            "auth.sign_in"
        }
        .into(),
        target: "email.send".into(),
        outcome: "allowed".into(),
        run_id: "0193a1b2-0000-7000-8000-000000000001".into(),
        step_id: format!("{}", seq % 17),
        approval_id: String::new(),
        source: (0..100).map(|i| (seq as u8) ^ i).collect(),
        payload: (0..200).map(|i| (seq as u8).wrapping_add(i)).collect(),
    }
}

/// The decoded record of `e`, borrowing the row's fields as the core's export does.
fn record(e: &StoredEvent) -> AuditRecord<'_> {
    AuditRecord {
        scope: SCOPE.into(),
        seq: e.seq,
        time: e.time.as_str().into(),
        actor: Actor {
            kind: e.actor_kind.as_str().into(),
            id: e.actor_id.as_str().into(),
            name: "alice".into(),
        },
        action: e.action.as_str().into(),
        target: e.target.as_str().into(),
        target_name: None,
        outcome: e.outcome.as_str().into(),
        source: Source {
            client: Some("desktop".into()),
            host: Some("finance-laptop".into()),
            os_user: Some("alice".into()),
            ip: Some("192.0.2.10".into()),
            user_agent: None,
        },
        run_id: e.run_id.as_str().into(),
        step_id: e.step_id.as_str().into(),
        approval_id: e.approval_id.as_str().into(),
        payload: Cow::Owned(
            serde_json::json!({ "to": "bob@example.com", "subject": "Q4 invoice" }),
        ),
        ai_agent: None,
    }
}

fn per_second(n: u64, seconds: f64) -> String {
    format!("{:.0} events/s", n as f64 / seconds)
}

fn main() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let started = Instant::now();
    let mut rows = Vec::with_capacity(EVENTS as usize);
    let mut prev = Anchor::genesis(SCOPE).hash;
    for seq in 1..=EVENTS {
        let event = event(seq);
        let hash = event.chain_hash(&prev);
        prev = hash;
        rows.push(ChainRow { event, hash });
    }
    let canonical_bytes: usize = rows.iter().map(|r| r.event.canonical_bytes().len()).sum();
    println!(
        "built {EVENTS} events ({:.1} MB canonical, {:.0} bytes/event) in {:.2} s",
        canonical_bytes as f64 / 1e6,
        canonical_bytes as f64 / EVENTS as f64,
        started.elapsed().as_secs_f64()
    );
    let checkpoints: Vec<_> = rows
        .iter()
        .filter(|r| r.event.seq.is_multiple_of(1000))
        .map(|r| {
            Checkpoint {
                scope: SCOPE.into(),
                seq: r.event.seq,
                hash: r.hash,
                time: "2026-11-27T14:00:00Z".into(),
            }
            .sign(&key)
        })
        .collect();

    // Plain SHA-256 over the same bytes, serialised ahead so only the hashing is timed.
    let blob: Vec<Vec<u8>> = rows.iter().map(|r| r.event.canonical_bytes()).collect();
    let started = Instant::now();
    let mut prev = Anchor::genesis(SCOPE).hash;
    for bytes in &blob {
        let mut h = Sha256::new();
        h.update(prev);
        h.update(bytes);
        prev = h.finalize().into();
    }
    let sha = started.elapsed().as_secs_f64();
    assert_eq!(prev, rows.last().unwrap().hash);
    println!(
        "plain SHA-256 chain over the canonical bytes: {sha:.3} s ({})",
        per_second(EVENTS, sha)
    );
    drop(blob);

    let trusted = [key.verifying_key()];
    let started = Instant::now();
    let mut verifier = ChainVerifier::new(SCOPE, Anchor::genesis(SCOPE), &checkpoints, &trusted);
    for row in &rows {
        verifier.push(row);
    }
    let report = verifier.finish();
    let verify = started.elapsed().as_secs_f64();
    assert!(report.is_valid() && report.checkpoints_checked == 1000);
    println!(
        "verify {EVENTS} events + 1000 checkpoints: {verify:.3} s ({}, {:.2}x plain SHA-256)",
        per_second(EVENTS, verify),
        verify / sha
    );

    // The mapping alone, without any I/O, to show what the export spends beyond writing.
    let started = Instant::now();
    let mut bytes = 0usize;
    let mut line = Vec::new();
    for row in &rows {
        line.clear();
        headmaster_protocol::ocsf::write_ocsf(&record(&row.event), &mut line).expect("maps");
        bytes += line.len();
    }
    let mapping = started.elapsed().as_secs_f64();
    println!(
        "map {EVENTS} records to OCSF JSON, no I/O: {mapping:.2} s ({}, {:.0} bytes/event)",
        per_second(EVENTS, mapping),
        bytes as f64 / EVENTS as f64
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("bundle");
    let header = BundleHeader {
        scope: SCOPE.into(),
        scope_name: "Finance".into(),
        anchor: Anchor::genesis(SCOPE),
        created: "2026-11-27T15:00:00Z".into(),
    };
    let started = Instant::now();
    let mut writer = BundleWriter::create(&dir, header).expect("bundle");
    for row in &rows {
        writer.append(row, &record(&row.event)).expect("append");
    }
    writer.finish(&checkpoints, &key).expect("export");
    let export = started.elapsed().as_secs_f64();
    let size = |name: &str| {
        std::fs::metadata(dir.join(name))
            .map(|m| m.len())
            .unwrap_or(0) as f64
            / 1e6
    };
    println!(
        "export bundle of {EVENTS} events: {export:.2} s ({}); events.jsonl {:.0} MB, chain.jsonl {:.0} MB",
        per_second(EVENTS, export),
        size("events.jsonl"),
        size("chain.jsonl")
    );

    let started = Instant::now();
    let bundle = verify_bundle(&dir, Trust::BundleKey).expect("verify bundle");
    let check = started.elapsed().as_secs_f64();
    assert!(bundle.is_valid(), "{:?}", bundle.problems.first());
    println!(
        "verify_bundle of that bundle: {check:.2} s ({})",
        per_second(EVENTS, check)
    );
}
