//! The layout of a data directory.
//!
//! ```text
//! <home>/instance.db            users, sessions, workspace registry, wrapped keys, instance audit
//! <home>/workspaces/<id>.db     one database per workspace
//! <home>/files/<id>/            the workspace's files folder (the only place tools may write)
//! <home>/archive/<scope>/       sealed, compressed audit archive segments
//! <home>/cli-session            the CLI's sealed session token
//! ```

use std::path::{Path, PathBuf};

use crate::ids::WorkspaceId;

/// Paths inside one data directory.
#[derive(Debug, Clone)]
pub struct Layout {
    home: PathBuf,
}

impl Layout {
    /// The layout rooted at `home`.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self { home: home.into() }
    }

    /// The data directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The instance database.
    pub fn instance_db(&self) -> PathBuf {
        self.home.join("instance.db")
    }

    /// A workspace's database.
    pub fn workspace_db(&self, id: WorkspaceId) -> PathBuf {
        self.home.join("workspaces").join(format!("{id}.db"))
    }

    /// A workspace's files folder.
    pub fn workspace_files(&self, id: WorkspaceId) -> PathBuf {
        self.home.join("files").join(id.to_string())
    }

    /// The archive folder of a chain scope (`instance` or a workspace id).
    pub fn archive_dir(&self, scope: &str) -> PathBuf {
        self.home.join("archive").join(scope)
    }

    /// The CLI's sealed session token.
    pub fn cli_session(&self) -> PathBuf {
        self.home.join("cli-session")
    }

    /// Every database file with its WAL and shared-memory companions.
    pub fn database_files(db: &Path) -> [PathBuf; 3] {
        let wal = PathBuf::from(format!("{}-wal", db.display()));
        let shm = PathBuf::from(format!("{}-shm", db.display()));
        [db.to_path_buf(), wal, shm]
    }
}

/// The default data directory: `HEADMASTER_HOME`, else the platform data dir
/// (`~/.local/share/headmaster` on Linux).
pub fn default_home() -> PathBuf {
    if let Some(home) = std::env::var_os("HEADMASTER_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("headmaster")
}
