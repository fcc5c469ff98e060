//! `file.write`: the atomic write and the change a reviewer sees before approving it.
//!
//! The new content goes to a temporary file in the target's own directory, is fsynced, then
//! renamed over the target, and the directory is fsynced: a reader sees the old file or the new
//! one, never half of it. `rename` replaces the directory entry without following it, so even a
//! link swapped in after our checks is replaced rather than written through; the checks before
//! it (no link, no second hard link, no special file) are policy, not the only line of defence.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{fchmod, fsync, openat, renameat, unlinkat, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use similar::TextDiff;

use super::error::FileError;
use super::walk::{check_regular, io_error, lstat_child, open_dir, open_regular};

/// What is at the target path before a write.
#[derive(Debug)]
pub(crate) enum Current {
    /// Nothing (or a parent directory is missing; the write would create it).
    Missing,
    /// A regular file of `size` bytes; `content` is `None` when it is too large to diff.
    Present { size: u64, content: Option<Vec<u8>> },
}

/// How the write changes the file, for the reviewer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// A unified diff with `--- a/PATH` / `+++ b/PATH` headers (empty when nothing changes).
    Diff(String),
    /// Why no diff is shown (binary or oversized content) and what changes in size.
    Summary(String),
}

/// Writes `content` to `components` under `root` atomically; returns whether the file is new.
pub(crate) fn write_atomic(
    root: &OwnedFd,
    components: &[&str],
    rel: &str,
    content: &[u8],
) -> Result<bool, FileError> {
    let (name, parents) = components.split_last().ok_or_else(|| FileError::NotFound {
        path: rel.to_owned(),
    })?;
    let dir = open_dir(root, parents, true)?;
    let existing = lstat_child(&dir, *name, rel)?;
    if let Some(meta) = &existing {
        check_regular(meta, rel)?;
    }
    let permissions = existing.map_or(0o644, |meta| meta.permissions);
    let (temp_name, temp) = create_temp(&dir, rel)?;
    let written = fill_and_rename(&dir, &temp_name, temp, name, rel, content, permissions);
    if written.is_err() {
        // Best effort: the write already failed and that error is the one worth reporting.
        let _ = unlinkat(&dir, temp_name.as_str(), AtFlags::empty());
    }
    written?;
    fsync(&dir).map_err(|errno| io_error("sync directory of", rel, errno))?;
    Ok(existing.is_none())
}

/// Reads what a write to `components` would replace, for the reviewer's diff. Content larger
/// than `diff_limit` is not read.
pub(crate) fn current_content(
    root: &OwnedFd,
    components: &[&str],
    rel: &str,
    diff_limit: u64,
) -> Result<Current, FileError> {
    let Some((name, parents)) = components.split_last() else {
        return Ok(Current::Missing);
    };
    let dir = match open_dir(root, parents, false) {
        Ok(dir) => dir,
        Err(FileError::NotFound { .. }) => return Ok(Current::Missing),
        Err(error) => return Err(error),
    };
    if lstat_child(&dir, *name, rel)?.is_none() {
        return Ok(Current::Missing);
    }
    let (file, meta) = open_regular(&dir, name, rel)?;
    if meta.size > diff_limit {
        return Ok(Current::Present {
            size: meta.size,
            content: None,
        });
    }
    let mut content = Vec::with_capacity(meta.size as usize);
    file.take(diff_limit + 1)
        .read_to_end(&mut content)
        .map_err(|error| FileError::Io {
            operation: "read",
            path: rel.to_owned(),
            message: error.to_string(),
        })?;
    let size = content.len() as u64;
    let content = (size <= diff_limit).then_some(content);
    Ok(Current::Present { size, content })
}

/// Describes replacing `old` (`None`: too large to read) by `new` at `rel`.
pub(crate) fn describe_change(rel: &str, current: &Current, new: &[u8]) -> Change {
    let empty = Vec::new();
    let (old_size, old) = match current {
        Current::Missing => (0, Some(&empty)),
        Current::Present { size, content } => (*size, content.as_ref()),
    };
    let Some(old) = old else {
        return Change::Summary(format!(
            "the current file is {old_size} bytes, too large to diff; it would be replaced by {} bytes",
            new.len()
        ));
    };
    match (as_text(old), as_text(new)) {
        (Some(old), Some(new)) => Change::Diff(
            TextDiff::from_lines(old, new)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{rel}"), &format!("b/{rel}"))
                .to_string(),
        ),
        _ => Change::Summary(format!(
            "binary content: {old_size} bytes would become {} bytes; no diff is shown",
            new.len()
        )),
    }
}

/// Text if `bytes` is UTF-8 without NUL bytes (NUL is the usual mark of a binary file).
pub(crate) fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// How many temporary names to try before giving up (each collision means a leftover file).
const TEMP_ATTEMPTS: usize = 64;

fn create_temp(dir: &OwnedFd, rel: &str) -> Result<(String, OwnedFd), FileError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut last = Errno::EXIST;
    for _ in 0..TEMP_ATTEMPTS {
        let attempt = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(".headmaster-write-{}-{attempt}.tmp", std::process::id());
        match openat(
            dir,
            name.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => return Ok((name, fd)),
            // A leftover of a crashed process with the same pid: pick the next name.
            Err(Errno::EXIST) => last = Errno::EXIST,
            Err(errno) => return Err(io_error("create a temporary file for", rel, errno)),
        }
    }
    Err(io_error("create a temporary file for", rel, last))
}

fn fill_and_rename(
    dir: &OwnedFd,
    temp_name: &str,
    temp: OwnedFd,
    name: &str,
    rel: &str,
    content: &[u8],
    permissions: u32,
) -> Result<(), FileError> {
    let mut file = std::fs::File::from(temp);
    file.write_all(content).map_err(|error| FileError::Io {
        operation: "write",
        path: rel.to_owned(),
        message: error.to_string(),
    })?;
    fchmod(&file, Mode::from_raw_mode(permissions as _))
        .map_err(|errno| io_error("set permissions of", rel, errno))?;
    fsync(&file).map_err(|errno| io_error("sync", rel, errno))?;
    drop(file);
    renameat(dir, temp_name, dir, name).map_err(|errno| io_error("rename into place", rel, errno))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_git_style_headers_and_hunks() {
        let current = Current::Present {
            size: 8,
            content: Some(b"a\nb\nc\n".to_vec()),
        };
        let change = describe_change("notes/x.txt", &current, b"a\nB\nc\n");
        assert_eq!(
            change,
            Change::Diff(
                "--- a/notes/x.txt\n+++ b/notes/x.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
                    .to_owned()
            )
        );
    }

    #[test]
    fn binary_and_oversized_content_get_a_summary() {
        let binary = describe_change("x.bin", &Current::Missing, b"\0\x01\x02");
        assert_eq!(
            binary,
            Change::Summary(
                "binary content: 0 bytes would become 3 bytes; no diff is shown".to_owned()
            )
        );
        let big = Current::Present {
            size: 10_000_000,
            content: None,
        };
        assert_eq!(
            describe_change("x.txt", &big, b"small"),
            Change::Summary(
                "the current file is 10000000 bytes, too large to diff; it would be replaced by 5 bytes"
                    .to_owned()
            )
        );
    }
}
