//! Walking the workspace files folder one component at a time, from directory descriptors.
//!
//! Checking a path string (canonicalise, compare prefixes, then open) leaves a window in which
//! another process — the shell tool, a sync client — can swap a component for a symlink. Here
//! every step is an `openat` relative to the descriptor of the previous directory, with
//! `O_NOFOLLOW` (and `O_DIRECTORY` for directories), so a link is refused by the kernel at the
//! moment of the open, not by an earlier check. Regular files are first `lstat`ed (so a device
//! is never opened: opening some devices has side effects), then opened with `O_NONBLOCK` (a
//! fifo swapped in meanwhile cannot block us) and `fstat`ed to confirm it is the same inode,
//! still a regular file, with exactly one link.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{fstat, mkdirat, openat, statat, AtFlags, Mode, OFlags, Stat, CWD};
use rustix::io::Errno;

use super::error::{FileError, FileKind};

/// The facts about a directory entry the file tools decide on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    pub kind: FileKind,
    pub links: u64,
    pub size: u64,
    pub permissions: u32,
    dev: u64,
    ino: u64,
}

impl Meta {
    // `stat` field widths differ between platforms (and between rustix backends), so the
    // conversions are plain widening casts that are no-ops on some targets.
    #[allow(clippy::unnecessary_cast)]
    fn from_stat(stat: &Stat) -> Self {
        Meta {
            kind: FileKind::from_mode(stat.st_mode as u32),
            links: stat.st_nlink as u64,
            size: u64::try_from(stat.st_size).unwrap_or(0),
            permissions: (stat.st_mode as u32) & 0o777,
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
        }
    }
}

/// Opens the workspace files folder itself. Its own path comes from the instance
/// configuration, not from an agent, so links above it are followed.
pub(crate) fn open_root(root: &Path) -> Result<OwnedFd, FileError> {
    openat(
        CWD,
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| FileError::RootUnavailable {
        message: errno.to_string(),
    })
}

/// Opens the directory named by `components` under `root`, refusing links at every step.
/// With `create`, missing directories are made (inside the root only, by construction).
pub(crate) fn open_dir(
    root: &OwnedFd,
    components: &[&str],
    create: bool,
) -> Result<OwnedFd, FileError> {
    let mut current = openat(
        root,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| FileError::RootUnavailable {
        message: errno.to_string(),
    })?;
    for (index, name) in components.iter().enumerate() {
        let rel = components[..=index].join("/");
        current = open_child_dir(&current, name, &rel, create)?;
    }
    Ok(current)
}

/// `lstat` of one entry of `dir`, or `None` if it does not exist.
pub(crate) fn lstat_child<P: rustix::path::Arg>(
    dir: &OwnedFd,
    name: P,
    rel: &str,
) -> Result<Option<Meta>, FileError> {
    match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(Meta::from_stat(&stat))),
        Err(Errno::NOENT) => Ok(None),
        Err(errno) => Err(io_error("inspect", rel, errno)),
    }
}

/// Refuses anything but a regular file with a single link.
pub(crate) fn check_regular(meta: &Meta, rel: &str) -> Result<(), FileError> {
    let path = rel.to_owned();
    match meta.kind {
        FileKind::File if meta.links > 1 => Err(FileError::HardLinked {
            path,
            links: meta.links,
        }),
        FileKind::File => Ok(()),
        FileKind::Directory => Err(FileError::IsADirectory { path }),
        FileKind::Symlink => Err(FileError::Symlink { path }),
        kind => Err(FileError::SpecialFile { path, kind }),
    }
}

/// Opens the existing regular file `name` in `dir` for reading, with all the checks above.
pub(crate) fn open_regular(
    dir: &OwnedFd,
    name: &str,
    rel: &str,
) -> Result<(File, Meta), FileError> {
    let before = lstat_child(dir, name, rel)?.ok_or_else(|| FileError::NotFound {
        path: rel.to_owned(),
    })?;
    check_regular(&before, rel)?;
    let fd = openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| explain(dir, name, rel, errno, false))?;
    let after = Meta::from_stat(&fstat(&fd).map_err(|errno| io_error("inspect", rel, errno))?);
    if (after.dev, after.ino) != (before.dev, before.ino) {
        return Err(FileError::Changed {
            path: rel.to_owned(),
        });
    }
    check_regular(&after, rel)?;
    Ok((File::from(fd), after))
}

/// Builds an [`FileError::Io`] for an operating-system failure.
pub(crate) fn io_error(operation: &'static str, rel: &str, errno: Errno) -> FileError {
    FileError::Io {
        operation,
        path: rel.to_owned(),
        message: errno.to_string(),
    }
}

fn open_child_dir(
    dir: &OwnedFd,
    name: &str,
    rel: &str,
    create: bool,
) -> Result<OwnedFd, FileError> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::NOENT) if create => {
            match mkdirat(dir, name, Mode::from_raw_mode(0o755)) {
                // Another writer may have made it meanwhile; the open below still refuses a link.
                Ok(()) | Err(Errno::EXIST) => {}
                Err(errno) => return Err(io_error("create directory", rel, errno)),
            }
            openat(dir, name, flags, Mode::empty())
                .map_err(|errno| explain(dir, name, rel, errno, true))
        }
        Err(errno) => Err(explain(dir, name, rel, errno, true)),
    }
}

/// Turns a failed no-follow open into a precise refusal. The open already failed safely; the
/// `lstat` here only chooses the words.
fn explain(dir: &OwnedFd, name: &str, rel: &str, errno: Errno, want_dir: bool) -> FileError {
    let path = rel.to_owned();
    match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Err(Errno::NOENT) => FileError::NotFound { path },
        Err(_) => io_error("open", rel, errno),
        Ok(stat) => match Meta::from_stat(&stat).kind {
            FileKind::Symlink => FileError::Symlink { path },
            FileKind::Directory if !want_dir => FileError::IsADirectory { path },
            kind if want_dir && kind != FileKind::Directory => {
                FileError::NotADirectory { path, kind }
            }
            _ => io_error("open", rel, errno),
        },
    }
}
