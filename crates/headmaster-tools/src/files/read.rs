//! `file.read` and `file.list`: reading a regular file and listing a directory, both through
//! the no-follow walk of [`super::walk`].

use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::Dir;
use serde::Serialize;

use super::error::{FileError, FileKind};
use super::walk::{io_error, lstat_child, open_dir, open_regular};

/// One entry of a listed directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// The entry's name (bytes that are not UTF-8 are shown as U+FFFD).
    pub name: String,
    /// What it is; links are reported as links and never followed.
    pub kind: FileKind,
    /// The size in bytes, for regular files.
    pub size: Option<u64>,
}

/// Reads the regular file at `components`, refusing it if it is larger than `limit` bytes.
pub(crate) fn read_file(
    root: &OwnedFd,
    components: &[&str],
    rel: &str,
    limit: u64,
) -> Result<Vec<u8>, FileError> {
    let (name, parents) = components.split_last().ok_or_else(|| FileError::NotFound {
        path: rel.to_owned(),
    })?;
    let dir = open_dir(root, parents, false)?;
    let (file, meta) = open_regular(&dir, name, rel)?;
    let too_large = |size| FileError::ReadTooLarge {
        path: rel.to_owned(),
        size,
        limit,
    };
    if meta.size > limit {
        return Err(too_large(meta.size));
    }
    // The file may grow between the `fstat` and the read: read one byte past the limit to know.
    let mut content = Vec::with_capacity(meta.size as usize);
    file.take(limit + 1)
        .read_to_end(&mut content)
        .map_err(|error| FileError::Io {
            operation: "read",
            path: rel.to_owned(),
            message: error.to_string(),
        })?;
    if content.len() as u64 > limit {
        return Err(too_large(content.len() as u64));
    }
    Ok(content)
}

/// Lists the directory at `components` (the root when empty), sorted by name, at most
/// `max_entries` entries; the flag says whether some were left out.
pub(crate) fn list_dir(
    root: &OwnedFd,
    components: &[&str],
    rel: &str,
    max_entries: usize,
) -> Result<(Vec<FileEntry>, bool), FileError> {
    let dir = open_dir(root, components, false)?;
    let mut names = Vec::new();
    for entry in Dir::read_from(&dir).map_err(|errno| io_error("list", rel, errno))? {
        let entry = entry.map_err(|errno| io_error("list", rel, errno))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    names.sort();
    let truncated = names.len() > max_entries;
    names.truncate(max_entries);
    let mut entries = Vec::with_capacity(names.len());
    for raw in names {
        let name = String::from_utf8_lossy(&raw).into_owned();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let Some(meta) = lstat_child(&dir, OsStr::from_bytes(&raw), &child)? else {
            // Removed while we were listing: leave it out, as a later `ls` would.
            continue;
        };
        entries.push(FileEntry {
            name,
            kind: meta.kind,
            size: (meta.kind == FileKind::File).then_some(meta.size),
        });
    }
    Ok((entries, truncated))
}
