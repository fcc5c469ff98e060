//! `file.read`, `file.write` and `file.list`, confined to the workspace files folder.
//!
//! Three layers keep a call inside the folder: `path` refuses every path that is not a plain
//! relative path in normal form before the disk is touched; `walk` opens each component with
//! `openat(O_NOFOLLOW)` from the previous directory's descriptor, so links are refused by the
//! kernel at open time; and files are only read or replaced when they are regular files with a
//! single link (a second hard link may live outside the folder). Writes are atomic (see [`write()`]).
//!
//! The blocking file-system work runs on tokio's blocking pool.

mod error;
mod path;
mod read;
mod walk;
mod write;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{ArgError, ToolError};
use crate::secret::mentions_reference;

pub use error::{FileError, FileKind};
pub use path::PATH_RULE;
pub use read::FileEntry;

/// Default read and write limit: 1 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 20;
/// The largest limit an Admin may configure: 64 MiB. Contents pass through memory, the audit
/// log and a reviewer's screen; bigger files belong to the shell tool or an export.
pub const MAX_CONFIGURABLE_BYTES: u64 = 64 << 20;

/// Per-workspace limits of the file tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Largest file `file.read` returns, in bytes.
    pub max_read_bytes: u64,
    /// Largest content `file.write` accepts, in bytes.
    pub max_write_bytes: u64,
    /// Most entries `file.list` returns.
    pub max_list_entries: usize,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            max_read_bytes: DEFAULT_MAX_BYTES,
            max_write_bytes: DEFAULT_MAX_BYTES,
            max_list_entries: 1000,
        }
    }
}

impl FileConfig {
    /// Checks that every limit is non-zero and within [`MAX_CONFIGURABLE_BYTES`].
    pub fn validate(&self) -> Result<(), ToolError> {
        let refuse = |field: &str, value: u64, allowed: String| ToolError::InvalidConfig {
            tool: "file",
            error: ArgError::new(field, format!("is {value}"), allowed),
        };
        let bytes_allowed = format!("1 to {MAX_CONFIGURABLE_BYTES} bytes");
        for (field, value) in [
            ("max_read_bytes", self.max_read_bytes),
            ("max_write_bytes", self.max_write_bytes),
        ] {
            if value == 0 || value > MAX_CONFIGURABLE_BYTES {
                return Err(refuse(field, value, bytes_allowed));
            }
        }
        if self.max_list_entries == 0 || self.max_list_entries > 100_000 {
            return Err(refuse(
                "max_list_entries",
                self.max_list_entries as u64,
                "1 to 100000 entries".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The workspace files folder and its limits: everything the file tools may touch.
#[derive(Debug, Clone)]
pub struct FileScope {
    root: PathBuf,
    config: FileConfig,
}

impl FileScope {
    /// A scope rooted at `root` (the workspace files folder; it must exist).
    pub fn new(root: impl Into<PathBuf>, config: FileConfig) -> Self {
        FileScope {
            root: root.into(),
            config,
        }
    }

    /// The workspace files folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The limits.
    pub fn config(&self) -> &FileConfig {
        &self.config
    }
}

/// How file content is carried in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentEncoding {
    /// UTF-8 text, as is.
    #[default]
    Utf8,
    /// Standard base64 (with padding), for binary content.
    Base64,
}

/// Arguments of `file.read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileReadArgs {
    /// Path relative to the workspace files folder.
    pub path: String,
}

impl FileReadArgs {
    /// Checks the path's syntax.
    pub fn validate(&self) -> Result<(), ArgError> {
        check_path("path", &self.path).map(drop)
    }
}

/// Arguments of `file.write`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWriteArgs {
    /// Path relative to the workspace files folder; missing parent directories are created.
    pub path: String,
    /// The complete new content of the file.
    pub content: String,
    /// How `content` is encoded (default `utf8`).
    #[serde(default)]
    pub encoding: ContentEncoding,
}

impl FileWriteArgs {
    /// Checks the path's syntax and that the content decodes and holds no credential reference.
    pub fn validate(&self) -> Result<(), ArgError> {
        check_path("path", &self.path)?;
        if mentions_reference(&self.content) {
            return Err(ArgError::new(
                "content",
                "contains a `{{credential:…}}` reference",
                "plain content: file tools never substitute credentials, because file contents stay on disk in clear",
            ));
        }
        self.decoded_content().map(drop)
    }

    /// The bytes to write.
    pub fn decoded_content(&self) -> Result<Vec<u8>, ArgError> {
        match self.encoding {
            ContentEncoding::Utf8 => Ok(self.content.as_bytes().to_vec()),
            ContentEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(&self.content)
                .map_err(|error| {
                    ArgError::new(
                        "content",
                        format!("is not valid base64 ({error})"),
                        "standard base64 with padding when `encoding` is `base64`",
                    )
                }),
        }
    }
}

/// Arguments of `file.list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileListArgs {
    /// Directory relative to the workspace files folder; absent for the folder itself.
    #[serde(default)]
    pub path: Option<String>,
}

impl FileListArgs {
    /// Checks the path's syntax, if one is given.
    pub fn validate(&self) -> Result<(), ArgError> {
        match &self.path {
            Some(path) => check_path("path", path).map(drop),
            None => Ok(()),
        }
    }
}

/// Result of `file.read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReadOutput {
    /// The path read.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// `utf8` for text, `base64` for content that is not UTF-8 or contains NUL bytes.
    pub encoding: ContentEncoding,
    /// The content.
    pub content: String,
}

/// Result of `file.write`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileWriteOutput {
    /// The path written.
    pub path: String,
    /// Bytes written.
    pub size: u64,
    /// Whether the file did not exist before.
    pub created: bool,
}

/// Result of `file.list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileListOutput {
    /// The directory listed (empty for the workspace files folder itself).
    pub path: String,
    /// Its entries, sorted by name.
    pub entries: Vec<FileEntry>,
    /// Whether entries were left out because of `max_list_entries`.
    pub truncated: bool,
}

/// What a reviewer sees before a `file.write` runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileWriteAffected {
    /// The path to be written.
    pub path: String,
    /// Whether a file is there now.
    pub exists: bool,
    /// Its current size, if it exists.
    pub old_size: Option<u64>,
    /// The size after the write.
    pub new_size: u64,
    /// A unified diff (`--- a/PATH` / `+++ b/PATH`), for text on both sides.
    pub diff: Option<String>,
    /// Why no diff is shown (binary or too large), when `diff` is absent.
    pub summary: Option<String>,
}

/// Runs `file.read`.
pub async fn read(scope: &FileScope, args: &FileReadArgs) -> Result<FileReadOutput, ToolError> {
    args.validate()?;
    let limit = scope.config.max_read_bytes;
    let path = args.path.clone();
    let content = blocking(scope, move |root| {
        let components = path.split('/').collect::<Vec<_>>();
        read::read_file(&walk::open_root(root)?, &components, &path, limit)
    })
    .await?;
    let size = content.len() as u64;
    let (encoding, text) = match write::as_text(&content) {
        Some(text) => (ContentEncoding::Utf8, text.to_owned()),
        None => (
            ContentEncoding::Base64,
            base64::engine::general_purpose::STANDARD.encode(&content),
        ),
    };
    Ok(FileReadOutput {
        path: args.path.clone(),
        size,
        encoding,
        content: text,
    })
}

/// Runs `file.write`: an atomic replace, creating missing parent directories inside the root.
pub async fn write(scope: &FileScope, args: &FileWriteArgs) -> Result<FileWriteOutput, ToolError> {
    args.validate()?;
    let content = checked_content(scope, args)?;
    let size = content.len() as u64;
    let path = args.path.clone();
    let created = blocking(scope, move |root| {
        let components = path.split('/').collect::<Vec<_>>();
        write::write_atomic(&walk::open_root(root)?, &components, &path, &content)
    })
    .await?;
    Ok(FileWriteOutput {
        path: args.path.clone(),
        size,
        created,
    })
}

/// Runs `file.list`.
pub async fn list(scope: &FileScope, args: &FileListArgs) -> Result<FileListOutput, ToolError> {
    args.validate()?;
    let max_entries = scope.config.max_list_entries;
    let path = args.path.clone().unwrap_or_default();
    let rel = path.clone();
    let (entries, truncated) = blocking(scope, move |root| {
        let components = match path.as_str() {
            "" => Vec::new(),
            path => path.split('/').collect(),
        };
        read::list_dir(&walk::open_root(root)?, &components, &path, max_entries)
    })
    .await?;
    Ok(FileListOutput {
        path: rel,
        entries,
        truncated,
    })
}

/// What a reviewer must see before `file.write` runs: the path, whether it exists, the sizes,
/// and a unified diff against the current content (a summary for binary or oversized content).
pub async fn affected_write(
    scope: &FileScope,
    args: &FileWriteArgs,
) -> Result<FileWriteAffected, ToolError> {
    args.validate()?;
    let content = checked_content(scope, args)?;
    let new_size = content.len() as u64;
    let diff_limit = scope
        .config
        .max_read_bytes
        .max(scope.config.max_write_bytes);
    let path = args.path.clone();
    let (current, change) = blocking(scope, move |root| {
        let components = path.split('/').collect::<Vec<_>>();
        let current =
            write::current_content(&walk::open_root(root)?, &components, &path, diff_limit)?;
        let change = write::describe_change(&path, &current, &content);
        Ok((current, change))
    })
    .await?;
    let old_size = match current {
        write::Current::Missing => None,
        write::Current::Present { size, .. } => Some(size),
    };
    let (diff, summary) = match change {
        write::Change::Diff(diff) => (Some(diff), None),
        write::Change::Summary(summary) => (None, Some(summary)),
    };
    Ok(FileWriteAffected {
        path: args.path.clone(),
        exists: old_size.is_some(),
        old_size,
        new_size,
        diff,
        summary,
    })
}

fn check_path<'a>(field: &str, path: &'a str) -> Result<Vec<&'a str>, ArgError> {
    let components = path::components(field, path)?;
    if mentions_reference(path) {
        return Err(ArgError::new(
            field,
            "contains a `{{credential:…}}` reference",
            "a plain relative path: file tools never substitute credentials",
        ));
    }
    Ok(components)
}

fn checked_content(scope: &FileScope, args: &FileWriteArgs) -> Result<Vec<u8>, ToolError> {
    let content = args.decoded_content()?;
    let limit = scope.config.max_write_bytes;
    if content.len() as u64 > limit {
        return Err(FileError::WriteTooLarge {
            path: args.path.clone(),
            size: content.len() as u64,
            limit,
        }
        .into());
    }
    Ok(content)
}

/// Runs `work` on the blocking pool with the scope's root.
async fn blocking<T: Send + 'static>(
    scope: &FileScope,
    work: impl FnOnce(&Path) -> Result<T, FileError> + Send + 'static,
) -> Result<T, ToolError> {
    let root = scope.root.clone();
    tokio::task::spawn_blocking(move || work(&root))
        .await
        .map_err(|error| FileError::Io {
            operation: "finish",
            path: String::new(),
            message: format!("the file task stopped before completing ({error})"),
        })?
        .map_err(ToolError::from)
}
