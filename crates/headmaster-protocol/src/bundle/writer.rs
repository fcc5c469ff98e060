//! Writing a bundle, one event at a time.
//!
//! Rows stream straight to `events.jsonl` and `chain.jsonl`: each line is serialised into a
//! chunk buffer, and full chunks are hashed and written on a thread of their own (see `sink.rs`).
//! An export of a million events holds one event and a few chunks in memory, and the digests
//! are ready the moment the last row is written.
//!
//! Everything is written into a staging directory beside the target and moved into place (or
//! packed into the `.tar.gz`) only when complete, so a failed export never leaves a bundle that
//! looks finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use super::manifest::{CheckpointSummary, Manifest, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION};
use super::sink::{Sink, Stream};
use super::{archive, io_error, sign, BundleError};
use super::{
    CHAIN_FILE, CHECKPOINTS_FILE, DEVICE_KEY_FILE, EVENTS_FILE, MANIFEST_FILE, SIGNATURE_FILE,
    SUMS_FILE,
};
use crate::chain::{Anchor, ChainRow};
use crate::checkpoint::{key_fingerprint, SignedCheckpoint};
use crate::json::{write_chain_row, AnchorJson, CheckpointJson};
use crate::ocsf::{write_ocsf, AuditRecord, OCSF_VERSION};
use crate::verify::PROGRESS_EVERY;

/// What the manifest says about the exported chain beyond what the rows tell.
#[derive(Debug, Clone)]
pub struct BundleHeader {
    /// The chain's scope: a workspace id, or `instance`.
    pub scope: String,
    /// The workspace's name (or `instance`).
    pub scope_name: String,
    /// The row before the first exported row; [`Anchor::genesis`] for a whole chain.
    pub anchor: Anchor,
    /// Export time, RFC 3339 UTC.
    pub created: String,
}

/// What a finished export produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSummary {
    /// The bundle directory or `.tar.gz` file.
    pub path: PathBuf,
    /// Rows exported.
    pub event_count: u64,
    /// First and last sequence number, if any rows were exported.
    pub seq_range: Option<(u64, u64)>,
    /// Fingerprint of the key that signed the manifest.
    pub device_key_fingerprint: String,
}

/// A bundle being written. Append every row with its decoded record, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct BundleWriter {
    target: PathBuf,
    staging: tempfile::TempDir,
    header: BundleHeader,
    sink: Sink,
    count: u64,
    first: Option<ChainRow>,
    last: Option<(u64, crate::chain::Hash)>,
    class_counts: BTreeMap<u32, u64>,
}

/// Exports `rows` (each a chain row with its decoded record) to `path` in one call, reporting the
/// number of rows written to `progress` every few thousand rows and at the end.
pub fn export_bundle<'a, I>(
    path: &Path,
    header: BundleHeader,
    rows: I,
    checkpoints: &[SignedCheckpoint],
    device_key: &SigningKey,
    progress: &mut dyn FnMut(u64),
) -> Result<BundleSummary, BundleError>
where
    I: IntoIterator<Item = (ChainRow, AuditRecord<'a>)>,
{
    let mut writer = BundleWriter::create(path, header)?;
    for (row, record) in rows {
        writer.append(&row, &record)?;
        if writer.rows_written() % PROGRESS_EVERY == 0 {
            progress(writer.rows_written());
        }
    }
    progress(writer.rows_written());
    writer.finish(checkpoints, device_key)
}

impl BundleWriter {
    /// Starts a bundle at `path`: a `.tar.gz` when the name ends in `.tar.gz` or `.tgz`, a
    /// directory otherwise. The path must not exist yet.
    pub fn create(path: &Path, header: BundleHeader) -> Result<Self, BundleError> {
        if path.exists() {
            return Err(BundleError::TargetExists(path.to_path_buf()));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let staging = tempfile::Builder::new()
            .prefix(".headmaster-bundle-")
            .tempdir_in(parent)
            .map_err(io_error("creating a staging directory in", parent))?;
        Ok(Self {
            sink: Sink::create(
                &staging.path().join(EVENTS_FILE),
                &staging.path().join(CHAIN_FILE),
            )?,
            target: path.to_path_buf(),
            staging,
            header,
            count: 0,
            first: None,
            last: None,
            class_counts: BTreeMap::new(),
        })
    }

    /// Rows appended so far.
    pub fn rows_written(&self) -> u64 {
        self.count
    }

    /// Appends one row and its decoded record (the same event, opened).
    pub fn append(&mut self, row: &ChainRow, record: &AuditRecord<'_>) -> Result<(), BundleError> {
        if record.seq != row.event.seq {
            return Err(BundleError::RecordMismatch {
                row_seq: row.event.seq,
                record_seq: record.seq,
            });
        }
        let events = self.sink.buffer(Stream::Events);
        let class = write_ocsf(record, events)?;
        events.push(b'\n');
        self.sink.push(Stream::Events)?;

        let chain = self.sink.buffer(Stream::Chain);
        write_chain_row(row, chain);
        chain.push(b'\n');
        self.sink.push(Stream::Chain)?;

        *self.class_counts.entry(class.uid()).or_default() += 1;
        if self.first.is_none() {
            self.first = Some(row.clone());
        }
        self.last = Some((row.event.seq, row.hash));
        self.count += 1;
        Ok(())
    }

    /// Writes the checkpoints, the key, the manifest, `SHA256SUMS` and the signature, and moves
    /// the bundle into place.
    pub fn finish(
        self,
        checkpoints: &[SignedCheckpoint],
        device_key: &SigningKey,
    ) -> Result<BundleSummary, BundleError> {
        let dir = self.staging.path().to_path_buf();
        let mut files = BTreeMap::new();
        let digests = self.sink.finish()?;
        files.insert(EVENTS_FILE.to_owned(), digests.events);
        files.insert(CHAIN_FILE.to_owned(), digests.chain);

        let entries: Vec<CheckpointJson> = checkpoints.iter().map(CheckpointJson::from).collect();
        let mut checkpoints_json =
            serde_json::to_vec_pretty(&entries).expect("checkpoints always serialise");
        checkpoints_json.push(b'\n');
        files.insert(
            CHECKPOINTS_FILE.to_owned(),
            write_file(&dir, CHECKPOINTS_FILE, &checkpoints_json)?,
        );

        let verifying = device_key.verifying_key();
        let device_pub = sign::device_pub_line(&verifying);
        files.insert(
            DEVICE_KEY_FILE.to_owned(),
            write_file(&dir, DEVICE_KEY_FILE, device_pub.as_bytes())?,
        );

        let fingerprint = key_fingerprint(&verifying);
        let first = self.first.as_ref();
        let manifest = Manifest {
            format: BUNDLE_FORMAT.to_owned(),
            format_version: BUNDLE_FORMAT_VERSION,
            ocsf_version: OCSF_VERSION.to_owned(),
            scope: self.header.scope.clone(),
            scope_name: self.header.scope_name.clone(),
            created: self.header.created.clone(),
            anchor: AnchorJson::from(&self.header.anchor),
            first_seq: first.map(|r| r.event.seq),
            last_seq: self.last.map(|(seq, _)| seq),
            event_count: self.count,
            first_hash: first.map(|r| hex::encode(r.hash)),
            last_hash: self.last.map(|(_, hash)| hex::encode(hash)),
            class_counts: self.class_counts.clone(),
            checkpoints: CheckpointSummary::of(checkpoints),
            device_key_fingerprint: fingerprint.clone(),
            files: files.clone(),
        };
        let mut manifest_json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        manifest_json.push(b'\n');
        files.insert(
            MANIFEST_FILE.to_owned(),
            write_file(&dir, MANIFEST_FILE, &manifest_json)?,
        );

        let sums: String = files
            .iter()
            .map(|(name, digest)| format!("{digest}  {name}\n"))
            .collect();
        write_file(&dir, SUMS_FILE, sums.as_bytes())?;
        let signature = sign::sign(device_key, &manifest_json)?;
        write_file(&dir, SIGNATURE_FILE, signature.as_bytes())?;

        place(&dir, &self.target)?;
        Ok(BundleSummary {
            path: self.target,
            event_count: self.count,
            seq_range: first
                .map(|r| r.event.seq)
                .zip(self.last.map(|(seq, _)| seq)),
            device_key_fingerprint: fingerprint,
        })
    }
}

/// Writes a small file and returns its SHA-256 in hex.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<String, BundleError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(io_error("writing", &path))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// Moves the finished staging directory to the target, or packs it there.
fn place(staged: &Path, target: &Path) -> Result<(), BundleError> {
    if archive::is_tar_gz(target) {
        return archive::pack(staged, target);
    }
    // After the rename the staging guard finds nothing to remove when it drops, which it
    // accepts silently.
    std::fs::rename(staged, target).map_err(io_error("moving the bundle to", target))
}
