//! Shared set-up: a workspace per test, a dedicated sandbox uid per test, and helpers to look
//! for the sandbox's processes in `/proc`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use headmaster_sandbox::{run, CommandSpec, Outcome, RunAs, SandboxConfig};
use tempfile::TempDir;

/// A workspace and the configuration around it. Each fixture runs as its own uid: tests run in
/// parallel, and `RLIMIT_NPROC` counts all processes of a uid, so a shared uid would let the
/// fork-bomb test starve the others (and make "no process of this uid is left" ambiguous).
pub struct Sandbox {
    pub workspace: TempDir,
    pub config: SandboxConfig,
}

impl Sandbox {
    pub fn new() -> Self {
        let workspace = tempfile::tempdir().expect("workspace");
        let mut config = SandboxConfig::new(workspace.path());
        let uid = unique_uid();
        config.run_as = RunAs { uid, gid: uid };
        Self { workspace, config }
    }

    pub fn uid(&self) -> u32 {
        self.config.run_as.uid
    }

    pub fn path(&self) -> &Path {
        self.workspace.path()
    }

    /// Runs `command_line` from the workspace root; panics if the sandbox refused to start it.
    pub fn sh(&self, command_line: &str) -> Outcome {
        run(&self.config, &CommandSpec::new(command_line)).expect("the sandbox started the command")
    }

    /// Processes (zombies included) whose real uid is this sandbox's uid.
    pub fn processes(&self) -> Vec<u32> {
        processes_of_uid(self.uid())
            .into_iter()
            .map(|(pid, _)| pid)
            .collect()
    }
}

/// A uid no one else uses: high above the system and user ranges, distinct per test and per
/// test process.
pub fn unique_uid() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    3_000_000 + (std::process::id() % 10_000) * 100 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A directory outside the workspace and the read roots that every user may write: only the
/// sandbox, not file permissions, can keep a command out of it.
pub fn open_dir() -> TempDir {
    let dir = tempfile::tempdir().expect("outside dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// Makes `path` readable and writable by everyone.
pub fn open_file(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).unwrap();
}

/// `(pid, state letter)` of every process whose real uid is `uid`.
pub fn processes_of_uid(uid: u32) -> Vec<(u32, char)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let state = status
            .lines()
            .find_map(|line| line.strip_prefix("State:"))
            .and_then(|state| state.trim().chars().next())
            .unwrap_or('?');
        let real_uid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            .and_then(|id| id.parse::<u32>().ok());
        if real_uid == Some(uid) {
            found.push((pid, state));
        }
    }
    found
}

pub fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}
