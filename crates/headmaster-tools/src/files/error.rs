//! Refusals and failures of the file tools, and the kinds of directory entry they report.

use std::fmt;

use serde::Serialize;

/// What kind of entry a name in the workspace files folder is (links are never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (reported, never followed).
    Symlink,
    /// A named pipe.
    Fifo,
    /// A unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Anything else the platform reports.
    Unknown,
}

impl FileKind {
    pub(crate) fn from_mode(mode: u32) -> Self {
        use rustix::fs::FileType;
        match FileType::from_raw_mode(mode as _) {
            FileType::RegularFile => FileKind::File,
            FileType::Directory => FileKind::Directory,
            FileType::Symlink => FileKind::Symlink,
            FileType::Fifo => FileKind::Fifo,
            FileType::Socket => FileKind::Socket,
            FileType::CharacterDevice => FileKind::CharDevice,
            FileType::BlockDevice => FileKind::BlockDevice,
            FileType::Unknown => FileKind::Unknown,
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::File => "regular file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symbolic link",
            FileKind::Fifo => "named pipe (fifo)",
            FileKind::Socket => "socket",
            FileKind::CharDevice => "character device",
            FileKind::BlockDevice => "block device",
            FileKind::Unknown => "file of unknown type",
        })
    }
}

/// Why a `file.*` action was refused or failed. Paths are relative to the workspace files folder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The workspace files folder itself cannot be opened.
    #[error("the workspace files folder cannot be opened ({message}); check that it exists and is a directory")]
    RootUnavailable {
        /// The operating system's explanation.
        message: String,
    },
    /// Nothing exists at the path.
    #[error("`{path}` does not exist in the workspace files folder")]
    NotFound {
        /// The first component that is missing, with its parents.
        path: String,
    },
    /// A component of the path is a symbolic link.
    #[error("`{path}` is a symbolic link; links are refused inside the workspace files folder because they can point outside it")]
    Symlink {
        /// The path up to and including the link.
        path: String,
    },
    /// The file has other names, possibly outside the workspace files folder.
    #[error("`{path}` has {links} hard links; files with more than one link are refused because another link may be outside the workspace files folder")]
    HardLinked {
        /// The file.
        path: String,
        /// Its link count.
        links: u64,
    },
    /// The target is a pipe, socket or device.
    #[error("`{path}` is a {kind}, not a regular file; only regular files can be read or written")]
    SpecialFile {
        /// The file.
        path: String,
        /// What it is.
        kind: FileKind,
    },
    /// A file was expected but the path names a directory.
    #[error("`{path}` is a directory; use file.list to see its entries")]
    IsADirectory {
        /// The directory.
        path: String,
    },
    /// A directory was expected but the path names something else.
    #[error("`{path}` is a {kind}, not a directory")]
    NotADirectory {
        /// The path up to the offending component.
        path: String,
        /// What it is instead.
        kind: FileKind,
    },
    /// The file is larger than the workspace's read limit.
    #[error("`{path}` is {size} bytes, over this workspace's read limit of {limit} bytes; an Admin can raise `max_read_bytes`")]
    ReadTooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The content to write is larger than the workspace's write limit.
    #[error("the content for `{path}` is {size} bytes, over this workspace's write limit of {limit} bytes; an Admin can raise `max_write_bytes`")]
    WriteTooLarge {
        /// The file.
        path: String,
        /// The content's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The entry was replaced between the check and the open.
    #[error("`{path}` changed while it was being opened; try again")]
    Changed {
        /// The file.
        path: String,
    },
    /// Any other operating-system failure.
    #[error("could not {operation} `{path}`: {message}")]
    Io {
        /// What was being done (`open`, `read`, `rename`, …).
        operation: &'static str,
        /// The path concerned.
        path: String,
        /// The operating system's explanation.
        message: String,
    },
}

impl FileError {
    /// A stable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            FileError::RootUnavailable { .. } => "file_root_unavailable",
            FileError::NotFound { .. } => "file_not_found",
            FileError::Symlink { .. } => "file_symlink",
            FileError::HardLinked { .. } => "file_hard_linked",
            FileError::SpecialFile { .. } => "file_special",
            FileError::IsADirectory { .. } => "file_is_directory",
            FileError::NotADirectory { .. } => "file_not_directory",
            FileError::ReadTooLarge { .. } => "file_read_too_large",
            FileError::WriteTooLarge { .. } => "file_write_too_large",
            FileError::Changed { .. } => "file_changed",
            FileError::Io { .. } => "file_io",
        }
    }

    /// File errors never carry credential values (file tools substitute none), but their paths
    /// come from arguments, so they are visited like any other text.
    pub(crate) fn visit_text(&mut self, visit: &mut dyn FnMut(&mut String)) {
        match self {
            FileError::RootUnavailable { message } => visit(message),
            FileError::Io { path, message, .. } => {
                visit(path);
                visit(message);
            }
            FileError::NotFound { path }
            | FileError::Symlink { path }
            | FileError::HardLinked { path, .. }
            | FileError::SpecialFile { path, .. }
            | FileError::IsADirectory { path }
            | FileError::NotADirectory { path, .. }
            | FileError::ReadTooLarge { path, .. }
            | FileError::WriteTooLarge { path, .. }
            | FileError::Changed { path } => visit(path),
        }
    }
}
