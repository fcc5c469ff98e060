//! `manifest.json`: the signed summary of a bundle.
//!
//! Everything an auditor needs to judge a bundle without reading it all: which chain and which
//! range it holds, where that range hooks onto the rest of the chain (the anchor), the first and
//! last hash, counts per OCSF class, the checkpoints it carries, the key that signed it, and the
//! SHA-256 of every other file (so the single signature over this file covers the whole bundle).
//! `compare_manifest` holds those claims against what verification actually read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use ed25519_dalek::VerifyingKey;

use super::lines::LinesSeen;
use super::problems::{BundleProblem, ProblemKind};
use super::verify::problem;
use super::MANIFEST_FILE;
use crate::checkpoint::{key_fingerprint, SignedCheckpoint};
use crate::json::AnchorJson;

/// The `format` value of every bundle manifest.
pub const BUNDLE_FORMAT: &str = "headmaster-audit-bundle";
/// The current `format_version`.
pub const BUNDLE_FORMAT_VERSION: u32 = 1;

/// The content of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// [`BUNDLE_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The OCSF schema version of `events.jsonl`.
    pub ocsf_version: String,
    /// The chain's scope: a workspace id, or `instance`.
    pub scope: String,
    /// The workspace's name at export time (or `instance`).
    pub scope_name: String,
    /// Export time, RFC 3339 UTC.
    pub created: String,
    /// The row just before the first exported row: where `chain.jsonl` hooks on.
    pub anchor: AnchorJson,
    /// Sequence number of the first row, if any.
    pub first_seq: Option<u64>,
    /// Sequence number of the last row, if any.
    pub last_seq: Option<u64>,
    /// Number of rows (and OCSF events).
    pub event_count: u64,
    /// Stored hash of the first row, hex.
    pub first_hash: Option<String>,
    /// Stored hash of the last row, hex.
    pub last_hash: Option<String>,
    /// Number of events per OCSF `class_uid`.
    pub class_counts: BTreeMap<u32, u64>,
    /// What `checkpoints.json` holds.
    pub checkpoints: CheckpointSummary,
    /// OpenSSH fingerprint of the device key in `device.pub`, which signed this manifest.
    pub device_key_fingerprint: String,
    /// SHA-256 (hex) of every file except this one, `SHA256SUMS` and the signature.
    pub files: BTreeMap<String, String>,
}

/// A summary of the checkpoints in a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSummary {
    /// How many there are.
    pub count: u64,
    /// The lowest sequence number a checkpoint vouches for.
    pub first_seq: Option<u64>,
    /// The highest sequence number a checkpoint vouches for.
    pub last_seq: Option<u64>,
    /// Fingerprints of the keys that signed them, sorted, without repeats.
    pub key_fingerprints: Vec<String>,
}

impl CheckpointSummary {
    /// Summarises a list of checkpoints.
    pub fn of(checkpoints: &[SignedCheckpoint]) -> Self {
        let mut keys: Vec<String> = checkpoints
            .iter()
            .map(|c| c.key_fingerprint.clone())
            .collect();
        keys.sort();
        keys.dedup();
        let seqs = checkpoints.iter().map(|c| c.checkpoint.seq);
        Self {
            count: checkpoints.len() as u64,
            first_seq: seqs.clone().min(),
            last_seq: seqs.max(),
            key_fingerprints: keys,
        }
    }
}

/// Compares what the manifest claims with what the files hold.
pub(crate) fn compare_manifest(
    m: &Manifest,
    seen: &LinesSeen,
    checkpoints: Option<&[SignedCheckpoint]>,
    device_key: Option<&VerifyingKey>,
    problems: &mut Vec<BundleProblem>,
) {
    let hex_of = |pair: Option<(u64, [u8; 32])>| pair.map(|(_, h)| hex::encode(h));
    let mut fields: Vec<(&str, String, String)> = vec![
        (
            "event_count",
            m.event_count.to_string(),
            seen.rows.to_string(),
        ),
        (
            "first_seq",
            format!("{:?}", m.first_seq),
            format!("{:?}", seen.first.map(|f| f.0)),
        ),
        (
            "last_seq",
            format!("{:?}", m.last_seq),
            format!("{:?}", seen.last.map(|l| l.0)),
        ),
        (
            "first_hash",
            format!("{:?}", m.first_hash),
            format!("{:?}", hex_of(seen.first)),
        ),
        (
            "last_hash",
            format!("{:?}", m.last_hash),
            format!("{:?}", hex_of(seen.last)),
        ),
        (
            "class_counts",
            format!("{:?}", m.class_counts),
            format!("{:?}", seen.class_counts),
        ),
    ];
    if let Some(cps) = checkpoints {
        fields.push((
            "checkpoints",
            format!("{:?}", m.checkpoints),
            format!("{:?}", CheckpointSummary::of(cps)),
        ));
    }
    if let Some(key) = device_key {
        fields.push((
            "device_key_fingerprint",
            m.device_key_fingerprint.clone(),
            key_fingerprint(key),
        ));
    }
    for (field, claimed, actual) in fields {
        if claimed != actual {
            let detail =
                format!("manifest.json says {field} is {claimed}, but the bundle has {actual}");
            problems.push(problem(
                MANIFEST_FILE,
                ProblemKind::ManifestMismatch,
                detail,
            ));
        }
    }
    let listed: Vec<&String> = m.files.keys().collect();
    let expected: BTreeMap<&str, ()> = super::DIGESTED_FILES.iter().map(|f| (*f, ())).collect();
    if listed.len() != expected.len() || listed.iter().any(|f| !expected.contains_key(f.as_str())) {
        let detail = format!(
            "manifest.json lists digests for {listed:?}, not for {:?}",
            super::DIGESTED_FILES
        );
        problems.push(problem(
            MANIFEST_FILE,
            ProblemKind::ManifestMismatch,
            detail,
        ));
    }
}
