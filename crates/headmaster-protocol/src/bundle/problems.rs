//! The verdict of a bundle verification: who signed it, what the chain check found, and every
//! problem named by file, line and sequence number.

use super::manifest::Manifest;
use crate::verify::VerifyReport;

/// What `verify_bundle` found.
#[derive(Debug, Clone)]
pub struct BundleReport {
    /// Fingerprint of the key whose signature over `manifest.json` verified, if one did.
    pub signer: Option<String>,
    /// True when that key was pinned by the caller rather than taken from `device.pub`.
    pub signer_pinned: bool,
    /// The manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// The chain verification of `chain.jsonl`, when the manifest gave an anchor to start from.
    pub chain: Option<VerifyReport>,
    /// Every problem found, in the order checked.
    pub problems: Vec<BundleProblem>,
}

/// One thing wrong with a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleProblem {
    /// The file at fault (`events.jsonl`, `SHA256SUMS`, …).
    pub file: String,
    /// The 1-based line in that file, where the problem is on one line.
    pub line: Option<u64>,
    /// The audit sequence number concerned, where there is one.
    pub seq: Option<u64>,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// A sentence for a person.
    pub detail: String,
}

/// The kinds of bundle problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A bundle file is not there.
    MissingFile,
    /// A file is there that a bundle does not have.
    ExtraFile,
    /// A file's SHA-256 differs from the one recorded for it.
    DigestMismatch,
    /// A file or line does not parse.
    Malformed,
    /// The signature over the manifest does not verify: the manifest or signature was altered.
    BadSignature,
    /// The signature was made by a key that is not trusted (not `device.pub`, not pinned).
    UntrustedSigner,
    /// The manifest disagrees with the files it describes.
    ManifestMismatch,
    /// The chain in `chain.jsonl` does not verify.
    ChainBreak,
    /// An OCSF event does not correspond to its chain row.
    EventMismatch,
}

impl BundleReport {
    /// True when the signature verified and nothing is wrong.
    pub fn is_valid(&self) -> bool {
        self.signer.is_some() && self.problems.is_empty()
    }

    /// The problems concerning `file`.
    pub fn problems_in<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a BundleProblem> {
        self.problems.iter().filter(move |p| p.file == file)
    }
}

impl std::fmt::Display for BundleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(seq) = self.seq {
            write!(f, " (seq {seq})")?;
        }
        write!(f, ": {}", self.detail)
    }
}
