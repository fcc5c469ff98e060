//! Tampering with an exported bundle: every change is detected, and blamed on the file that
//! was changed.

use std::path::{Path, PathBuf};

use headmaster_protocol::bundle::{verify_bundle, BundleReport, ProblemKind, Trust, ALL_FILES};
use ssh_key::private::Ed25519Keypair;
use ssh_key::{HashAlg, LineEnding, PrivateKey};

use crate::bundle_export::export;
use crate::support::{chain, device_key, other_key};

fn fresh(tmp: &tempfile::TempDir, name: &str) -> PathBuf {
    let dir = tmp.path().join(name);
    export(&dir, &chain(25));
    dir
}

fn flip_middle_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

fn blamed_files(report: &BundleReport) -> Vec<String> {
    let mut files: Vec<String> = report.problems.iter().map(|p| p.file.clone()).collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn one_changed_byte_in_any_file_is_detected_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ALL_FILES {
        let dir = fresh(&tmp, &format!("flip-{file}"));
        flip_middle_byte(&dir.join(file));
        let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
        assert!(
            !report.is_valid(),
            "a changed byte in {file} went unnoticed"
        );
        assert!(
            report.problems_in(file).next().is_some(),
            "{file} not named: {:#?}",
            report.problems
        );
        // Digest problems point at the changed file (or, for the sums file, at itself) and
        // never at an intact neighbour.
        for p in report
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::DigestMismatch)
        {
            assert_eq!(p.file, file, "{p}");
        }
        let signature_files = ["manifest.json", "manifest.json.sig", "device.pub"];
        assert_eq!(
            report.signer.is_some(),
            !signature_files.contains(&file),
            "{file}: {:#?}",
            report.problems
        );
    }
}

#[test]
fn a_changed_chain_row_is_named_by_file_line_and_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fresh(&tmp, "row");
    let path = dir.join("chain.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("\"target\":\"target-9\"", "\"target\":\"target-X\"", 1);
    assert_ne!(text, edited);
    std::fs::write(&path, edited).unwrap();
    let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
    let problems: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.file.as_str(), p.seq, p.kind))
        .collect();
    assert_eq!(
        problems,
        vec![
            ("chain.jsonl", Some(9), ProblemKind::ChainBreak),
            ("chain.jsonl", None, ProblemKind::DigestMismatch),
        ]
    );
    assert!(
        report.problems[0].detail.contains("hash_mismatch"),
        "{}",
        report.problems[0].detail
    );
}

#[test]
fn a_removed_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ALL_FILES {
        let dir = fresh(&tmp, &format!("rm-{file}"));
        std::fs::remove_file(dir.join(file)).unwrap();
        let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
        assert!(!report.is_valid(), "{file} removed unnoticed");
        let missing: Vec<_> = report
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::MissingFile)
            .map(|p| p.file.as_str())
            .collect();
        assert_eq!(missing, vec![file], "{:#?}", report.problems);
    }
}

#[test]
fn an_extra_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fresh(&tmp, "extra");
    std::fs::write(dir.join("notes.txt"), "hello").unwrap();
    let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
    assert_eq!(blamed_files(&report), vec!["notes.txt"]);
    assert_eq!(report.problems[0].kind, ProblemKind::ExtraFile);
}

#[test]
fn a_signature_by_another_key_is_untrusted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fresh(&tmp, "resigned");
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
    let forger = PrivateKey::from(Ed25519Keypair::from(&other_key()));
    let pem = forger
        .sign("headmaster-audit", HashAlg::Sha512, &manifest)
        .unwrap()
        .to_pem(LineEnding::LF)
        .unwrap();
    std::fs::write(dir.join("manifest.json.sig"), pem).unwrap();

    let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
    assert!(report.signer.is_none());
    assert_eq!(blamed_files(&report), vec!["manifest.json.sig"]);
    assert_eq!(report.problems[0].kind, ProblemKind::UntrustedSigner);
    let forger_fp = headmaster_protocol::checkpoint::key_fingerprint(&other_key().verifying_key());
    assert!(
        report.problems[0].detail.contains(&forger_fp),
        "{}",
        report.problems[0].detail
    );
}

#[test]
fn pinning_another_key_rejects_an_intact_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fresh(&tmp, "pinned");
    let pinned = [other_key().verifying_key()];
    let report = verify_bundle(&dir, Trust::Pinned(&pinned)).unwrap();
    assert!(!report.is_valid());
    assert!(report.signer.is_none());
    assert_eq!(
        blamed_files(&report),
        vec!["chain.jsonl", "device.pub", "manifest.json.sig"]
    );
    // Checkpoints signed by the unpinned device key vouch for nothing either.
    let chain = report.chain.unwrap();
    assert_eq!(chain.breaks.len(), 3, "{:#?}", chain.breaks);
    let pinned_right = [device_key().verifying_key()];
    assert!(verify_bundle(&dir, Trust::Pinned(&pinned_right))
        .unwrap()
        .is_valid());
}

#[test]
fn an_archive_cannot_write_outside_the_scratch_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fresh(&tmp, "bundle");
    let archive = tmp.path().join("evil.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&archive).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for file in ALL_FILES {
        tar.append_path_with_name(dir.join(file), format!("evil/{file}"))
            .unwrap();
    }
    let mut header = tar::Header::new_gnu();
    let payload = b"owned";
    header.set_size(payload.len() as u64);
    header.set_mode(0o644);
    // `append_data` refuses `..`, so write the raw name into the header as an attacker would.
    header.as_old_mut().name[..13].copy_from_slice(b"../escaped.tx");
    header.set_cksum();
    tar.append(&header, &payload[..]).unwrap();
    tar.into_inner().unwrap().finish().unwrap();

    let report = verify_bundle(&archive, Trust::BundleKey).unwrap();
    assert_eq!(blamed_files(&report), vec!["../escaped.tx"]);
    assert_eq!(report.problems[0].kind, ProblemKind::ExtraFile);
    assert!(report.signer.is_some());
    assert!(!tmp.path().join("escaped.tx").exists());
    assert!(!std::env::temp_dir().join("escaped.tx").exists());
}
