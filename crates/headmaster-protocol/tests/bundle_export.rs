//! Export bundles checked the way an auditor would: with `ssh-keygen -Y verify`, `ssh-keygen -l`
//! and `sha256sum -c`, as processes, and with `verify_bundle` in both of its forms.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use headmaster_protocol::bundle::{
    export_bundle, verify_bundle, BundleHeader, BundleSummary, BundleWriter, ProblemKind, Trust,
    MANIFEST_FILE,
};
use headmaster_protocol::chain::{Anchor, ChainRow};
use headmaster_protocol::checkpoint::{key_fingerprint, SignedCheckpoint};

use crate::support::{chain, checkpoint, device_key, record, SCOPE};

pub fn header() -> BundleHeader {
    BundleHeader {
        scope: SCOPE.into(),
        scope_name: "Finance".into(),
        anchor: Anchor::genesis(SCOPE),
        created: "2026-11-27T15:00:00.000Z".into(),
    }
}

/// Checkpoints every ten rows and at the end.
pub fn checkpoints(rows: &[ChainRow]) -> Vec<SignedCheckpoint> {
    let last = rows.last().map_or(0, |r| r.event.seq);
    (1..=last)
        .filter(|s| s % 10 == 0 || *s == last)
        .map(|s| checkpoint(rows, s, &device_key()))
        .collect()
}

/// Exports `rows` to `path` with their decoded records.
pub fn export(path: &Path, rows: &[ChainRow]) -> BundleSummary {
    let pairs = rows.iter().map(|r| (r.clone(), record(&r.event)));
    export_bundle(
        path,
        header(),
        pairs,
        &checkpoints(rows),
        &device_key(),
        &mut |_| {},
    )
    .unwrap()
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("the tool is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn ssh_keygen_verify(dir: &Path) -> (bool, String) {
    let device_pub = std::fs::read_to_string(dir.join("device.pub")).unwrap();
    let allowed = dir.parent().unwrap().join("allowed_signers");
    std::fs::write(&allowed, format!("headmaster {device_pub}")).unwrap();
    run(Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&allowed)
        .args(["-I", "headmaster", "-n", "headmaster-audit", "-s"])
        .arg(dir.join("manifest.json.sig"))
        .stdin(Stdio::from(File::open(dir.join(MANIFEST_FILE)).unwrap())))
}

fn bundle_dir(tmp: &tempfile::TempDir, n: u64) -> (PathBuf, BundleSummary) {
    let dir = tmp.path().join("bundle");
    let summary = export(&dir, &chain(n));
    (dir, summary)
}

#[test]
fn ssh_keygen_accepts_the_signature_and_rejects_a_changed_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = bundle_dir(&tmp, 30);
    let (ok, out) = ssh_keygen_verify(&dir);
    assert!(ok && out.contains("Good"), "ssh-keygen said: {out}");

    let mut manifest = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    manifest[40] ^= 0x01;
    std::fs::write(dir.join(MANIFEST_FILE), manifest).unwrap();
    let (ok, out) = ssh_keygen_verify(&dir);
    assert!(!ok, "ssh-keygen accepted a changed manifest: {out}");
    assert!(!out.contains("Good"));
}

#[test]
fn sha256sum_checks_every_file_and_ssh_keygen_prints_the_same_fingerprint() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, summary) = bundle_dir(&tmp, 30);
    let (ok, out) = run(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dir));
    assert!(ok, "sha256sum -c failed: {out}");
    for file in [
        "events.jsonl",
        "chain.jsonl",
        "checkpoints.json",
        "manifest.json",
        "device.pub",
    ] {
        assert!(
            out.contains(&format!("{file}: OK")),
            "{file} not checked: {out}"
        );
    }
    let (ok, out) = run(Command::new("ssh-keygen")
        .arg("-lf")
        .arg(dir.join("device.pub")));
    assert!(ok, "{out}");
    let fingerprint = key_fingerprint(&device_key().verifying_key());
    assert!(out.contains(&fingerprint), "{out} lacks {fingerprint}");
    assert_eq!(summary.device_key_fingerprint, fingerprint);
}

#[test]
fn a_fresh_export_verifies_with_its_own_key_and_with_the_pinned_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, summary) = bundle_dir(&tmp, 30);
    assert_eq!(
        (summary.event_count, summary.seq_range),
        (30, Some((1, 30)))
    );

    let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
    assert!(report.is_valid(), "{:#?}", report.problems);
    assert!(!report.signer_pinned);
    let chain = report.chain.as_ref().unwrap();
    assert_eq!((chain.events_checked, chain.checkpoints_checked), (30, 3));
    assert_eq!(chain.valid_ranges, vec![(1, 30)]);
    let manifest = report.manifest.as_ref().unwrap();
    assert_eq!(manifest.class_counts.values().sum::<u64>(), 30);
    assert_eq!(
        manifest.class_counts.keys().copied().collect::<Vec<_>>(),
        vec![3001, 3002, 3005, 3008, 6003]
    );
    assert_eq!(manifest.checkpoints.count, 3);

    let pinned = [device_key().verifying_key()];
    let report = verify_bundle(&dir, Trust::Pinned(&pinned)).unwrap();
    assert!(
        report.is_valid() && report.signer_pinned,
        "{:#?}",
        report.problems
    );
}

#[test]
fn the_tar_gz_form_round_trips_and_unpacks_for_stock_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("audit-finance.tar.gz");
    let mut progress = Vec::new();
    let rows = chain(5000);
    let pairs = rows.iter().map(|r| (r.clone(), record(&r.event)));
    export_bundle(
        &archive,
        header(),
        pairs,
        &checkpoints(&rows),
        &device_key(),
        &mut |n| progress.push(n),
    )
    .unwrap();
    assert_eq!(progress, vec![4096, 5000]);
    assert!(archive.is_file());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("audit-finance.tar.gz")],
        "staging was left behind"
    );

    let report = verify_bundle(&archive, Trust::BundleKey).unwrap();
    assert!(report.is_valid(), "{:#?}", report.problems);
    assert_eq!(report.chain.unwrap().events_checked, 5000);

    let (ok, out) = run(Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .current_dir(tmp.path()));
    assert!(ok, "{out}");
    let unpacked = tmp.path().join("audit-finance");
    let (ok, out) = run(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&unpacked));
    assert!(ok, "{out}");
    let (ok, out) = ssh_keygen_verify(&unpacked);
    assert!(ok && out.contains("Good"), "{out}");
}

#[test]
fn an_export_target_that_exists_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let err = BundleWriter::create(tmp.path(), header()).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn a_record_paired_with_the_wrong_row_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = chain(2);
    let mut writer = BundleWriter::create(&tmp.path().join("b"), header()).unwrap();
    let err = writer
        .append(&rows[0], &record(&rows[1].event))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("seq 2 was appended with the chain row for seq 1"),
        "{err}"
    );
}

#[test]
fn an_export_of_a_tampered_chain_names_the_break() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = chain(20);
    let cps = checkpoints(&rows);
    rows[6].event.outcome = "denied".into();
    let dir = tmp.path().join("bundle");
    let pairs = rows.iter().map(|r| (r.clone(), record(&r.event)));
    export_bundle(&dir, header(), pairs, &cps, &device_key(), &mut |_| {}).unwrap();
    let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
    let problems: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.file.as_str(), p.seq, p.kind))
        .collect();
    assert_eq!(
        problems,
        vec![("chain.jsonl", Some(7), ProblemKind::ChainBreak)]
    );
    assert!(report.signer.is_some(), "the signature itself is fine");
}

#[test]
fn an_event_line_that_does_not_match_its_row_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = chain(5);
    let dir = tmp.path().join("bundle");
    let mut writer = BundleWriter::create(&dir, header()).unwrap();
    for row in &rows {
        let mut r = record(&row.event);
        if row.event.seq == 4 {
            r.outcome = "failed".into();
        }
        writer.append(row, &r).unwrap();
    }
    writer.finish(&checkpoints(&rows), &device_key()).unwrap();
    let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
    let problems: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.file.as_str(), p.line, p.seq, p.kind))
        .collect();
    assert_eq!(
        problems,
        vec![("events.jsonl", Some(4), Some(4), ProblemKind::EventMismatch)]
    );
    assert!(
        report.problems[0].detail.contains("outcome"),
        "{}",
        report.problems[0].detail
    );
}
