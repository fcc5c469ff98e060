//! `verify_bundle`: the full check of a bundle directory or `.tar.gz`.
//!
//! In order: the files present; the signature over `manifest.json` (against `device.pub`, or
//! against keys the caller pins); one pass over `chain.jsonl` and `events.jsonl` (chain
//! verification from the manifest's anchor, line-by-line correspondence, digests); every file's
//! digest against the signed manifest and against `SHA256SUMS`; and the manifest's counts, range
//! and hashes against what was read. Problems are collected, not returned early, so one run
//! names everything that is wrong.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use super::archive::{is_tar_gz, unpack};
use super::lines;
use super::manifest::{compare_manifest, Manifest, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION};
use super::problems::{BundleProblem, BundleReport, ProblemKind};
use super::sign::{check, parse_ed25519_pub, SignatureCheck};
use super::sums::{check_digests, parse_sums};
use super::{io_error, BundleError, ALL_FILES, CHECKPOINTS_FILE, DEVICE_KEY_FILE, MANIFEST_FILE};
use super::{SIGNATURE_FILE, SUMS_FILE};
use crate::chain::Anchor;
use crate::checkpoint::{key_fingerprint, SignedCheckpoint};
use crate::json::CheckpointJson;
use crate::verify::ChainVerifier;

/// Which keys a bundle's signature and checkpoints are checked against.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// The key in the bundle's own `device.pub`. This proves the bundle is intact and
    /// self-consistent, not who made it: pin the key for that.
    BundleKey,
    /// Only these keys, obtained out of band.
    Pinned(&'a [VerifyingKey]),
}

/// Verifies the bundle at `path` (a directory, or a `.tar.gz` that is unpacked into a scratch
/// directory first). Errors only when the bundle cannot be read at all; everything wrong with
/// its content is a problem in the report.
pub fn verify_bundle(path: &Path, trust: Trust<'_>) -> Result<BundleReport, BundleError> {
    if path.is_dir() {
        return Ok(check_dir(path, trust, Vec::new()));
    }
    if !(path.is_file() && is_tar_gz(path)) {
        return Err(BundleError::NotABundle(path.to_path_buf()));
    }
    let scratch = tempfile::Builder::new()
        .prefix("headmaster-verify-")
        .tempdir()
        .map_err(io_error("creating a scratch directory for", path))?;
    let mut problems = Vec::new();
    for skipped in unpack(path, scratch.path())? {
        problems.push(BundleProblem {
            file: skipped.entry.clone(),
            line: None,
            seq: None,
            kind: ProblemKind::ExtraFile,
            detail: format!(
                "archive entry {} {}; it was not unpacked",
                skipped.entry, skipped.why
            ),
        });
    }
    Ok(check_dir(scratch.path(), trust, problems))
}

fn check_dir(dir: &Path, trust: Trust<'_>, mut problems: Vec<BundleProblem>) -> BundleReport {
    list_files(dir, &mut problems);
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    let manifest_bytes = read(MANIFEST_FILE);
    let sums_text = read(SUMS_FILE).map(|b| String::from_utf8_lossy(&b).into_owned());
    let sums = sums_text.as_deref().map(|t| parse_sums(t, &mut problems));

    let device_key = read(DEVICE_KEY_FILE).and_then(|bytes| {
        match parse_ed25519_pub(&String::from_utf8_lossy(&bytes)) {
            Ok(key) => Some(key),
            Err(why) => {
                problems.push(problem(
                    DEVICE_KEY_FILE,
                    ProblemKind::Malformed,
                    format!("device.pub is not an Ed25519 OpenSSH public key: {why}"),
                ));
                None
            }
        }
    });
    let trusted: Vec<VerifyingKey> = match trust {
        Trust::Pinned(keys) => keys.to_vec(),
        Trust::BundleKey => device_key.into_iter().collect(),
    };
    if let (Trust::Pinned(keys), Some(device)) = (trust, device_key) {
        if !keys.contains(&device) {
            problems.push(problem(
                DEVICE_KEY_FILE,
                ProblemKind::UntrustedSigner,
                format!(
                    "device.pub holds {}, which is not a pinned key",
                    key_fingerprint(&device)
                ),
            ));
        }
    }

    let manifest_digest = manifest_bytes
        .as_ref()
        .map(|b| hex::encode(Sha256::digest(b)));
    let manifest_matches_sums = match (&sums, &manifest_digest) {
        (Some(sums), Some(digest)) => sums.get(MANIFEST_FILE).is_some_and(|(_, d)| d == digest),
        _ => false,
    };
    let manifest = manifest_bytes
        .as_deref()
        .and_then(|bytes| parse_manifest(bytes, &mut problems));
    let expected_signer = match trust {
        Trust::BundleKey => manifest.as_ref().map(|m| m.device_key_fingerprint.as_str()),
        Trust::Pinned(_) => None,
    };
    let signer = check_signature(
        dir,
        manifest_bytes.as_deref(),
        &trusted,
        SignatureBlame {
            manifest_matches_sums,
            expected_signer,
        },
        &mut problems,
    );
    let checkpoints = read(CHECKPOINTS_FILE).and_then(|b| parse_checkpoints(&b, &mut problems));

    let mut verifier = manifest.as_ref().and_then(|m| {
        let anchor = Anchor::try_from(&m.anchor)
            .map_err(|e| {
                problems.push(problem(
                    MANIFEST_FILE,
                    ProblemKind::Malformed,
                    e.to_string(),
                ))
            })
            .ok()?;
        Some(ChainVerifier::new(
            &m.scope,
            anchor,
            checkpoints.as_deref().unwrap_or_default(),
            &trusted,
        ))
    });
    let mut seen = lines::read(dir, verifier.as_mut(), &mut problems);
    let chain = verifier.map(ChainVerifier::finish);
    if let Some(report) = &chain {
        for b in &report.breaks {
            problems.push(BundleProblem {
                file: super::CHAIN_FILE.into(),
                line: None,
                seq: Some(b.seq),
                kind: ProblemKind::ChainBreak,
                detail: b.to_string(),
            });
        }
    }

    for name in [CHECKPOINTS_FILE, DEVICE_KEY_FILE] {
        if let Some(bytes) = read(name) {
            seen.digests
                .insert(name.into(), hex::encode(Sha256::digest(bytes)));
        }
    }
    if let Some(digest) = manifest_digest {
        seen.digests.insert(MANIFEST_FILE.into(), digest);
    }
    check_digests(
        &seen.digests,
        sums.as_ref(),
        manifest.as_ref(),
        signer.is_some(),
        &mut problems,
    );
    if let Some(m) = &manifest {
        compare_manifest(
            m,
            &seen,
            checkpoints.as_deref(),
            device_key.as_ref(),
            &mut problems,
        );
    }
    BundleReport {
        signer_pinned: signer.is_some() && matches!(trust, Trust::Pinned(_)),
        signer,
        manifest,
        chain,
        problems,
    }
}

/// Reports missing bundle files and files a bundle does not have.
fn list_files(dir: &Path, problems: &mut Vec<BundleProblem>) {
    for name in ALL_FILES {
        if !dir.join(name).is_file() {
            problems.push(problem(
                name,
                ProblemKind::MissingFile,
                format!("{name} is missing"),
            ));
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut extra: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !ALL_FILES.contains(&name.as_str()))
        .collect();
    extra.sort();
    for name in extra {
        let detail = format!("{name} is not part of a bundle");
        problems.push(problem(&name, ProblemKind::ExtraFile, detail));
    }
}

/// What decides which file a signature failure is blamed on.
#[derive(Debug, Clone, Copy)]
struct SignatureBlame<'a> {
    /// The manifest still matches its `SHA256SUMS` entry, so a signature that does not verify
    /// was itself altered.
    manifest_matches_sums: bool,
    /// When trusting `device.pub`: the key the manifest says signed it. A signature by exactly
    /// that key that `device.pub` does not hold means `device.pub` was altered.
    expected_signer: Option<&'a str>,
}

/// Checks the SSHSIG and returns the signer's fingerprint when it verifies, otherwise records
/// the problem against the file that most likely changed.
fn check_signature(
    dir: &Path,
    manifest: Option<&[u8]>,
    trusted: &[VerifyingKey],
    blame: SignatureBlame<'_>,
    problems: &mut Vec<BundleProblem>,
) -> Option<String> {
    let pem = std::fs::read(dir.join(SIGNATURE_FILE)).ok()?;
    let manifest = manifest?;
    match check(&String::from_utf8_lossy(&pem), manifest, trusted) {
        SignatureCheck::Valid(key) => Some(key_fingerprint(&key)),
        SignatureCheck::Malformed(why) => {
            problems.push(problem(
                SIGNATURE_FILE,
                ProblemKind::Malformed,
                format!("manifest.json.sig is not an SSHSIG signature: {why}"),
            ));
            None
        }
        SignatureCheck::OtherKey(signer) if blame.expected_signer == Some(signer.as_str()) => {
            let detail = format!(
                "device.pub does not hold {signer}, the key that signed the manifest and that \
                 the manifest names: device.pub was altered or replaced"
            );
            problems.push(problem(
                DEVICE_KEY_FILE,
                ProblemKind::UntrustedSigner,
                detail,
            ));
            None
        }
        SignatureCheck::OtherKey(signer) => {
            let detail = format!("manifest.json.sig was made by {signer}, which is not a trusted key (device.pub or a pinned key)");
            problems.push(problem(
                SIGNATURE_FILE,
                ProblemKind::UntrustedSigner,
                detail,
            ));
            None
        }
        SignatureCheck::Invalid => {
            let file = if blame.manifest_matches_sums {
                SIGNATURE_FILE
            } else {
                MANIFEST_FILE
            };
            let detail =
                format!("the signature over manifest.json does not verify: {file} was altered");
            problems.push(problem(file, ProblemKind::BadSignature, detail));
            None
        }
    }
}

fn parse_manifest(bytes: &[u8], problems: &mut Vec<BundleProblem>) -> Option<Manifest> {
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| {
            problems.push(problem(
                MANIFEST_FILE,
                ProblemKind::Malformed,
                format!("manifest.json does not parse: {e}"),
            ))
        })
        .ok()?;
    if manifest.format != BUNDLE_FORMAT || manifest.format_version != BUNDLE_FORMAT_VERSION {
        let detail = format!(
            "manifest.json is format {} version {}; this verifier reads {BUNDLE_FORMAT} version {BUNDLE_FORMAT_VERSION}",
            manifest.format, manifest.format_version
        );
        problems.push(problem(MANIFEST_FILE, ProblemKind::Malformed, detail));
        return None;
    }
    Some(manifest)
}

fn parse_checkpoints(
    bytes: &[u8],
    problems: &mut Vec<BundleProblem>,
) -> Option<Vec<SignedCheckpoint>> {
    let parsed = serde_json::from_slice::<Vec<CheckpointJson>>(bytes)
        .map_err(|e| e.to_string())
        .and_then(|list| {
            list.into_iter()
                .map(|j| SignedCheckpoint::try_from(j).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()
        });
    parsed
        .map_err(|why| {
            problems.push(problem(
                CHECKPOINTS_FILE,
                ProblemKind::Malformed,
                format!("checkpoints.json does not parse: {why}"),
            ))
        })
        .ok()
}

pub(crate) fn problem(file: &str, kind: ProblemKind, detail: String) -> BundleProblem {
    BundleProblem {
        file: file.into(),
        line: None,
        seq: None,
        kind,
        detail,
    }
}
