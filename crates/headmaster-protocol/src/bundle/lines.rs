//! The one pass over `chain.jsonl` and `events.jsonl`, read in lockstep.
//!
//! Each chain row goes to the chain verifier; each OCSF line is matched with the row on the same
//! line (same sequence number, time, action, actor and outcome). Both files are hashed as they
//! are read, so a million-event bundle is read once and never held in memory.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::problems::{BundleProblem, ProblemKind};
use super::{CHAIN_FILE, EVENTS_FILE};
use crate::chain::{ChainRow, Hash};
use crate::json::ChainRowJson;
use crate::ocsf::EventLine;
use crate::verify::ChainVerifier;

/// What the pass saw, for comparison with the manifest.
#[derive(Debug, Default)]
pub(crate) struct LinesSeen {
    /// Lines in `chain.jsonl`.
    pub(crate) rows: u64,
    /// Sequence number and stored hash of the first and last parseable row.
    pub(crate) first: Option<(u64, Hash)>,
    pub(crate) last: Option<(u64, Hash)>,
    /// OCSF events per `class_uid`.
    pub(crate) class_counts: BTreeMap<u32, u64>,
    /// SHA-256 (hex) of each file that could be opened.
    pub(crate) digests: BTreeMap<String, String>,
}

/// Reads both files to the end, feeding `verifier` (when there is one) and recording problems.
pub(crate) fn read(
    dir: &Path,
    mut verifier: Option<&mut ChainVerifier>,
    problems: &mut Vec<BundleProblem>,
) -> LinesSeen {
    let mut seen = LinesSeen::default();
    let mut chain = HashedLines::open(&dir.join(CHAIN_FILE));
    let mut events = HashedLines::open(&dir.join(EVENTS_FILE));
    let mut line_no = 0u64;
    loop {
        let row_line = chain.as_mut().and_then(HashedLines::next_line);
        let event_line = events.as_mut().and_then(HashedLines::next_line);
        if row_line.is_none() && event_line.is_none() {
            break;
        }
        line_no += 1;
        let had_row_line = row_line.is_some();
        let row = row_line.and_then(|bytes| {
            seen.rows += 1;
            parse_row(&bytes, line_no, problems)
        });
        if let Some(row) = &row {
            seen.first.get_or_insert((row.event.seq, row.hash));
            seen.last = Some((row.event.seq, row.hash));
            if let Some(v) = verifier.as_deref_mut() {
                v.push(row);
            }
        }
        match (event_line, &row) {
            (Some(bytes), row) => {
                let Some(event) = parse_event(&bytes, line_no, problems) else {
                    continue;
                };
                *seen.class_counts.entry(event.class_uid).or_default() += 1;
                match row {
                    Some(row) => compare(&event, row, line_no, problems),
                    None if !had_row_line && chain.is_some() => problems.push(BundleProblem {
                        file: EVENTS_FILE.into(),
                        line: Some(line_no),
                        seq: Some(event.metadata.sequence),
                        kind: ProblemKind::EventMismatch,
                        detail: format!(
                            "line {line_no} has no chain row: chain.jsonl ends before it"
                        ),
                    }),
                    None => {}
                }
            }
            (None, Some(row)) if events.is_some() => problems.push(BundleProblem {
                file: EVENTS_FILE.into(),
                line: Some(line_no),
                seq: Some(row.event.seq),
                kind: ProblemKind::EventMismatch,
                detail: format!("events.jsonl ends before line {line_no}, which chain.jsonl has"),
            }),
            _ => {}
        }
    }
    for (name, file) in [(CHAIN_FILE, chain), (EVENTS_FILE, events)] {
        let Some(file) = file else { continue };
        if let Some(err) = &file.eof_error {
            problems.push(BundleProblem {
                file: name.into(),
                line: None,
                seq: None,
                kind: ProblemKind::Malformed,
                detail: format!("reading stopped: {err}"),
            });
        }
        seen.digests
            .insert(name.into(), hex::encode(file.digest.finalize()));
    }
    seen
}

fn parse_row(bytes: &[u8], line: u64, problems: &mut Vec<BundleProblem>) -> Option<ChainRow> {
    let parsed = serde_json::from_slice::<ChainRowJson>(bytes)
        .map_err(|e| e.to_string())
        .and_then(|j| ChainRow::try_from(j).map_err(|e| e.to_string()));
    match parsed {
        Ok(row) => Some(row),
        Err(why) => {
            problems.push(BundleProblem {
                file: CHAIN_FILE.into(),
                line: Some(line),
                seq: None,
                kind: ProblemKind::Malformed,
                detail: format!("line {line} is not a chain row: {why}"),
            });
            None
        }
    }
}

fn parse_event(bytes: &[u8], line: u64, problems: &mut Vec<BundleProblem>) -> Option<EventLine> {
    match EventLine::parse(bytes) {
        Ok(event) => Some(event),
        Err(e) => {
            problems.push(BundleProblem {
                file: EVENTS_FILE.into(),
                line: Some(line),
                seq: None,
                kind: ProblemKind::Malformed,
                detail: format!("line {line} is not a Headmaster OCSF event: {e}"),
            });
            None
        }
    }
}

/// Checks that an OCSF line describes the same event as the chain row beside it.
fn compare(event: &EventLine, row: &ChainRow, line: u64, problems: &mut Vec<BundleProblem>) {
    let differences = event.differences(&row.event, None);
    if !differences.is_empty() {
        problems.push(BundleProblem {
            file: EVENTS_FILE.into(),
            line: Some(line),
            seq: Some(row.event.seq),
            kind: ProblemKind::EventMismatch,
            detail: format!(
                "line {line} does not describe the chain row on the same line: {}",
                differences.join(", ")
            ),
        });
    }
}

/// A file read line by line while every byte goes through SHA-256.
struct HashedLines {
    reader: BufReader<File>,
    digest: Sha256,
    eof_error: Option<std::io::Error>,
    done: bool,
}

impl HashedLines {
    /// Opens `path`, or returns `None` when it cannot be opened (the caller reports missing
    /// files from the directory listing).
    fn open(path: &Path) -> Option<Self> {
        let file = File::open(path).ok()?;
        Some(Self {
            reader: BufReader::with_capacity(1 << 16, file),
            digest: Sha256::new(),
            eof_error: None,
            done: false,
        })
    }

    /// The next line without its newline, or `None` at the end (or after a read error, which
    /// is kept in `eof_error`).
    fn next_line(&mut self) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(_) => {
                self.digest.update(&line);
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                Some(line)
            }
            Err(e) => {
                self.done = true;
                self.eof_error = Some(e);
                None
            }
        }
    }
}
