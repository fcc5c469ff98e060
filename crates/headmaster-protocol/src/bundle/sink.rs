//! The two streaming files of a bundle (`events.jsonl`, `chain.jsonl`), hashed and written on
//! a thread of their own.
//!
//! An export of a million events writes about 2.1 GB to these two files. Hashing that (SHA-256)
//! and copying it into the page cache (the `write` system calls) cost about as much as mapping
//! and serialising the events, so they run beside the serialisation instead of after it: lines
//! are collected into chunks of [`CHUNK`] bytes, each full chunk goes to the worker thread, and
//! the worker hands the emptied buffer back for reuse. The channel to the worker is bounded, so
//! a slow disk slows the export down rather than filling memory.
//!
//! Chunks of both files travel through one channel and the worker handles them in order, so
//! each file's bytes are hashed and written exactly in the order they were appended. A write
//! error stops the worker; the error is returned by the next [`Sink::push`] or by
//! [`Sink::finish`]. Only [`Sink::finish`] makes the worker sync the files: an export that is
//! abandoned (the sink dropped) is about to be deleted, and syncing gigabytes for that would only
//! delay the error.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::{io_error, BundleError};

/// Bytes collected per file before they go to the worker.
const CHUNK: usize = 1 << 20;
/// Chunks that may wait for the worker: the bound on the memory an export holds (a few MiB).
const QUEUED: usize = 4;

/// Which of the two streaming files a chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stream {
    /// `events.jsonl`.
    Events,
    /// `chain.jsonl`.
    Chain,
}

/// The writing side: the buffers being filled and the channel to the worker.
#[derive(Debug)]
pub(super) struct Sink {
    events: Vec<u8>,
    chain: Vec<u8>,
    to_worker: Option<SyncSender<Message>>,
    recycled: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<Result<Option<Digests>, BundleError>>>,
    events_path: PathBuf,
}

/// What the writing side sends the worker.
#[derive(Debug)]
enum Message {
    /// Bytes to append to one file.
    Chunk(Stream, Vec<u8>),
    /// Everything has been sent: sync both files and return their digests.
    Finish,
}

/// The SHA-256 (hex) of each streaming file, once complete.
#[derive(Debug)]
pub(super) struct Digests {
    /// Of `events.jsonl`.
    pub(super) events: String,
    /// Of `chain.jsonl`.
    pub(super) chain: String,
}

impl Sink {
    /// Creates both files and starts the worker that writes them.
    pub(super) fn create(events: &Path, chain: &Path) -> Result<Self, BundleError> {
        let files = [HashingFile::create(events)?, HashingFile::create(chain)?];
        let (to_worker, messages) = mpsc::sync_channel(QUEUED);
        let (recycle, recycled) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("bundle-writer".into())
            .spawn(move || work(files, &messages, &recycle))
            .map_err(io_error("starting the writer thread for", events))?;
        Ok(Self {
            events: Vec::with_capacity(CHUNK),
            chain: Vec::with_capacity(CHUNK),
            to_worker: Some(to_worker),
            recycled,
            worker: Some(worker),
            events_path: events.to_path_buf(),
        })
    }

    /// The buffer that lines of `stream` are appended to. Call [`push`](Self::push) after
    /// appending a whole line.
    pub(super) fn buffer(&mut self, stream: Stream) -> &mut Vec<u8> {
        match stream {
            Stream::Events => &mut self.events,
            Stream::Chain => &mut self.chain,
        }
    }

    /// Hands the buffer of `stream` to the worker once it holds a whole chunk.
    pub(super) fn push(&mut self, stream: Stream) -> Result<(), BundleError> {
        if self.buffer(stream).len() < CHUNK {
            return Ok(());
        }
        let fresh = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(self.buffer(stream), fresh);
        self.send(Message::Chunk(stream, full))
    }

    /// Writes what is left, waits for the worker, syncs both files and returns their digests.
    pub(super) fn finish(mut self) -> Result<Digests, BundleError> {
        for stream in [Stream::Events, Stream::Chain] {
            let rest = std::mem::take(self.buffer(stream));
            if !rest.is_empty() {
                self.send(Message::Chunk(stream, rest))?;
            }
        }
        self.send(Message::Finish)?;
        self.to_worker = None;
        Ok(self
            .join()?
            .expect("a worker told to finish returns the digests"))
    }

    fn send(&mut self, message: Message) -> Result<(), BundleError> {
        let sent = match &self.to_worker {
            Some(worker) => worker.send(message).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The worker hangs up early only when a write failed, and joining returns that error.
        self.to_worker = None;
        Err(self
            .join()
            .expect_err("the bundle writer thread stops early only on an error"))
    }

    fn join(&mut self) -> Result<Option<Digests>, BundleError> {
        let Some(worker) = self.worker.take() else {
            return Err(BundleError::Io {
                action: "writing",
                path: self.events_path.clone(),
                source: std::io::Error::other("an earlier write to the bundle failed"),
            });
        };
        match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for Sink {
    /// An abandoned export still waits for its worker (which stops without syncing), so that
    /// no thread writes into the staging directory while it is being removed.
    fn drop(&mut self) {
        self.to_worker = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The worker: hashes and writes every chunk in arrival order; on [`Message::Finish`] syncs
/// both files and returns their digests. `None` means the writing side went away without
/// finishing.
fn work(
    mut files: [HashingFile; 2],
    messages: &Receiver<Message>,
    recycle: &mpsc::Sender<Vec<u8>>,
) -> Result<Option<Digests>, BundleError> {
    for message in messages {
        let (stream, mut chunk) = match message {
            Message::Chunk(stream, chunk) => (stream, chunk),
            Message::Finish => {
                let [events, chain] = files;
                return Ok(Some(Digests {
                    events: events.finish()?,
                    chain: chain.finish()?,
                }));
            }
        };
        let file = match stream {
            Stream::Events => &mut files[0],
            Stream::Chain => &mut files[1],
        };
        file.write(&chunk)?;
        chunk.clear();
        // The writing side may be finishing and no longer want buffers back.
        let _ = recycle.send(chunk);
    }
    Ok(None)
}

/// A file that hashes every byte written to it. Chunks are large, so it needs no buffering.
#[derive(Debug)]
struct HashingFile {
    path: PathBuf,
    file: File,
    digest: Sha256,
}

impl HashingFile {
    fn create(path: &Path) -> Result<Self, BundleError> {
        let file = File::create(path).map_err(io_error("creating", path))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            digest: Sha256::new(),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), BundleError> {
        self.digest.update(bytes);
        self.file
            .write_all(bytes)
            .map_err(io_error("writing", &self.path))
    }

    /// Syncs the file and returns its SHA-256 in hex.
    fn finish(self) -> Result<String, BundleError> {
        self.file
            .sync_all()
            .map_err(io_error("syncing", &self.path))?;
        Ok(hex::encode(self.digest.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_get_their_bytes_in_order_with_their_digests() {
        let dir = tempfile::tempdir().unwrap();
        let (events_path, chain_path) = (dir.path().join("e"), dir.path().join("c"));
        let mut sink = Sink::create(&events_path, &chain_path).unwrap();
        let (mut events, mut chain) = (Vec::new(), Vec::new());
        // Enough lines to fill several chunks of each file, interleaved as an export writes.
        for i in 0..40_000u32 {
            let line = format!(
                "{{\"event\":{i},\"pad\":\"{}\"}}\n",
                "x".repeat(i as usize % 97)
            );
            sink.buffer(Stream::Events)
                .extend_from_slice(line.as_bytes());
            sink.push(Stream::Events).unwrap();
            events.extend_from_slice(line.as_bytes());
            let row = format!("row {i}\n");
            sink.buffer(Stream::Chain).extend_from_slice(row.as_bytes());
            sink.push(Stream::Chain).unwrap();
            chain.extend_from_slice(row.as_bytes());
        }
        assert!(events.len() > 2 * CHUNK, "the test spans several chunks");
        let digests = sink.finish().unwrap();
        assert_eq!(std::fs::read(&events_path).unwrap(), events);
        assert_eq!(std::fs::read(&chain_path).unwrap(), chain);
        assert_eq!(digests.events, hex::encode(Sha256::digest(&events)));
        assert_eq!(digests.chain, hex::encode(Sha256::digest(&chain)));
    }

    #[test]
    fn a_write_error_surfaces_on_the_writing_side() {
        let dir = tempfile::tempdir().unwrap();
        // /dev/full accepts the open and fails every write with ENOSPC.
        let full = Path::new("/dev/full");
        let mut sink = Sink::create(full, &dir.path().join("c")).unwrap();
        let mut result = Ok(());
        for _ in 0..64 {
            sink.buffer(Stream::Events)
                .extend_from_slice(&[b'x'; CHUNK]);
            result = sink.push(Stream::Events);
            if result.is_err() {
                break;
            }
        }
        let error = match result {
            Err(e) => e,
            Ok(()) => sink.finish().unwrap_err(),
        };
        assert!(
            matches!(
                error,
                BundleError::Io {
                    action: "writing",
                    ..
                }
            ),
            "{error}"
        );
    }
}
