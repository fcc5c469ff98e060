//! `SHA256SUMS` and the digest checks.
//!
//! Every file's SHA-256 is held against two records: the signed manifest (authoritative for the
//! four files it lists) and `SHA256SUMS` (unsigned, for `sha256sum -c`). When the two records
//! disagree, the signed one decides which file is at fault, so a changed byte in `SHA256SUMS` is
//! blamed on `SHA256SUMS` and not on the intact file it describes.

use std::collections::BTreeMap;

use super::manifest::Manifest;
use super::problems::{BundleProblem, ProblemKind};
use super::verify::problem;
use super::{DIGESTED_FILES, MANIFEST_FILE, SUMS_FILE};

/// `SHA256SUMS` entries: file name to (1-based line, hex digest).
pub(crate) type Sums = BTreeMap<String, (u64, String)>;

/// Parses `sha256sum` output (`<hex>  <name>` or `<hex> *<name>`), reporting bad lines.
pub(crate) fn parse_sums(text: &str, problems: &mut Vec<BundleProblem>) -> Sums {
    let mut sums = Sums::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index as u64 + 1;
        let mut bad = |detail: String| {
            problems.push(BundleProblem {
                file: SUMS_FILE.into(),
                line: Some(line_no),
                seq: None,
                kind: ProblemKind::Malformed,
                detail,
            });
        };
        let parsed = line
            .split_once("  ")
            .or_else(|| line.split_once(" *"))
            .filter(|(digest, _)| {
                digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())
            });
        let Some((digest, name)) = parsed else {
            bad(format!(
                "line {line_no} is not `<sha256>  <file>`: {line:?}"
            ));
            continue;
        };
        let listable = DIGESTED_FILES.contains(&name) || name == MANIFEST_FILE;
        if !listable {
            bad(format!(
                "line {line_no} lists {name:?}, which is not a file SHA256SUMS covers"
            ));
        } else if sums.contains_key(name) {
            bad(format!("line {line_no} lists {name} a second time"));
        } else {
            sums.insert(name.to_owned(), (line_no, digest.to_ascii_lowercase()));
        }
    }
    sums
}

/// Checks each file's actual digest against the manifest and `SHA256SUMS`.
pub(crate) fn check_digests(
    actual: &BTreeMap<String, String>,
    sums: Option<&Sums>,
    manifest: Option<&Manifest>,
    signature_valid: bool,
    problems: &mut Vec<BundleProblem>,
) {
    for name in DIGESTED_FILES.iter().copied().chain([MANIFEST_FILE]) {
        let Some(digest) = actual.get(name) else {
            continue;
        };
        let listed = sums.and_then(|s| s.get(name));
        let signed = manifest.and_then(|m| m.files.get(name));
        let sums_line = listed.map(|(line, _)| *line);
        let sums_agree = listed.is_some_and(|(_, d)| d == digest);
        match signed {
            Some(signed) if signed != digest => problems.push(problem(
                name,
                ProblemKind::DigestMismatch,
                format!("{name} has SHA-256 {digest}, but the signed manifest records {signed}: {name} was altered"),
            )),
            Some(_) if !sums_agree => problems.push(sums_problem(sums_line, name, "the file, which matches the signed manifest")),
            Some(_) => {}
            None if name == MANIFEST_FILE && !sums_agree && signature_valid => {
                problems.push(sums_problem(sums_line, name, "manifest.json, whose signature verifies"));
            }
            None if !sums_agree => match sums_line {
                Some(_) => problems.push(problem(
                    name,
                    ProblemKind::DigestMismatch,
                    format!("{name} has SHA-256 {digest}, which differs from its SHA256SUMS entry: {name} was altered"),
                )),
                None if sums.is_some() => problems.push(sums_problem(None, name, "it")),
                None => {}
            },
            None => {}
        }
    }
}

/// A `SHA256SUMS` problem about the entry for `name` (or its absence).
fn sums_problem(line: Option<u64>, name: &str, matched: &str) -> BundleProblem {
    let detail = match line {
        Some(line) => format!(
            "line {line}: the entry for {name} does not match {matched}: SHA256SUMS was altered"
        ),
        None => format!("SHA256SUMS does not list {name}"),
    };
    BundleProblem {
        file: SUMS_FILE.into(),
        line,
        seq: None,
        kind: if line.is_some() {
            ProblemKind::DigestMismatch
        } else {
            ProblemKind::Malformed
        },
        detail,
    }
}
