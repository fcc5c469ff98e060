//! Signed export bundles: a directory or a `.tar.gz` that an auditor can check with stock tools
//! (`sha256sum -c SHA256SUMS`, `ssh-keygen -Y verify`) and that `verify_bundle` checks fully.
//!
//! | file | content |
//! | --- | --- |
//! | `events.jsonl` | one OCSF event per line, in chain order |
//! | `chain.jsonl` | one stored chain row per line (sealed blobs in base64, hash in hex) |
//! | `checkpoints.json` | the signed checkpoints that fall in the exported range |
//! | `manifest.json` | range, counts, first/last hash, anchor, checkpoints, key, file digests |
//! | `SHA256SUMS` | `sha256sum` lines for every file but itself and the signature |
//! | `manifest.json.sig` | OpenSSH SSHSIG over `manifest.json`, namespace `headmaster-audit` |
//! | `device.pub` | the device's Ed25519 public key, one OpenSSH line |
//!
//! The manifest cannot contain the digest of `SHA256SUMS` because `SHA256SUMS` lists the
//! manifest. Instead the manifest lists the SHA-256 of every other file itself, so the one
//! signature covers every byte of the bundle, and `SHA256SUMS` stays the plain convenience file
//! that `sha256sum -c` understands.

mod archive;
mod lines;
mod manifest;
mod problems;
mod sign;
mod sink;
mod sums;
mod verify;
mod writer;

use std::path::PathBuf;

pub use manifest::{CheckpointSummary, Manifest, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION};
pub use problems::{BundleProblem, BundleReport, ProblemKind};
pub use sign::{device_pub_line, parse_ed25519_pub, SIGNATURE_NAMESPACE};
pub use verify::{verify_bundle, Trust};
pub use writer::{export_bundle, BundleHeader, BundleSummary, BundleWriter};

/// `events.jsonl`: OCSF events.
pub const EVENTS_FILE: &str = "events.jsonl";
/// `chain.jsonl`: stored chain rows.
pub const CHAIN_FILE: &str = "chain.jsonl";
/// `checkpoints.json`: signed checkpoints.
pub const CHECKPOINTS_FILE: &str = "checkpoints.json";
/// `manifest.json`: the signed summary.
pub const MANIFEST_FILE: &str = "manifest.json";
/// `SHA256SUMS`: digests in `sha256sum` format.
pub const SUMS_FILE: &str = "SHA256SUMS";
/// `manifest.json.sig`: the SSHSIG over the manifest.
pub const SIGNATURE_FILE: &str = "manifest.json.sig";
/// `device.pub`: the signing key.
pub const DEVICE_KEY_FILE: &str = "device.pub";

/// The files the manifest lists digests for.
pub(crate) const DIGESTED_FILES: [&str; 4] =
    [EVENTS_FILE, CHAIN_FILE, CHECKPOINTS_FILE, DEVICE_KEY_FILE];
/// Every file of a bundle.
pub const ALL_FILES: [&str; 7] = [
    EVENTS_FILE,
    CHAIN_FILE,
    CHECKPOINTS_FILE,
    MANIFEST_FILE,
    SUMS_FILE,
    SIGNATURE_FILE,
    DEVICE_KEY_FILE,
];

/// Why a bundle could not be written, or could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file operation failed.
    #[error("{action} {path}: {source}; check that the path exists and is writable")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The export target already exists.
    #[error("{0} already exists; choose a new path for the bundle or remove the old one")]
    TargetExists(PathBuf),
    /// The path to verify is neither a directory nor a `.tar.gz` file.
    #[error("{0} is neither a bundle directory nor a .tar.gz file")]
    NotABundle(PathBuf),
    /// A decoded record was paired with a different chain row.
    #[error(
        "the record for seq {record_seq} was appended with the chain row for seq {row_seq}; \
         pass each row with its own decoded record"
    )]
    RecordMismatch {
        /// The row's sequence number.
        row_seq: u64,
        /// The record's sequence number.
        record_seq: u64,
    },
    /// A record could not be expressed in OCSF.
    #[error(transparent)]
    Ocsf(#[from] crate::ocsf::OcsfError),
    /// Signing the manifest failed.
    #[error("signing the manifest failed: {0}")]
    Signing(#[from] ssh_key::Error),
}

/// Builds an [`BundleError::Io`] for `path`.
pub(crate) fn io_error(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> BundleError {
    let path = path.to_path_buf();
    move |source| BundleError::Io {
        action,
        path,
        source,
    }
}
