//! Why a command was refused or could not be started.
//!
//! Messages name what happened and what to do. None of them carries an environment value or
//! command output, so they can go to logs and to the audit trail as they are.

use std::io;
use std::path::PathBuf;

/// A command that did not run. Once a command has started, everything that happens to it
/// (non-zero exit, timeout, output cap) is reported in [`crate::Outcome`] instead.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The kernel cannot enforce the whole sandbox, so nothing runs.
    #[error(
        "shell sandbox unavailable: {reason}; shell.exec is refused rather than run unconfined"
    )]
    Unavailable {
        /// What is missing, e.g. "Landlock not supported by this kernel (ABI 0)".
        reason: String,
    },
    /// The workspace folder cannot be used as the sandbox's writable tree.
    #[error("workspace {path} cannot host a sandbox: {reason}")]
    Workspace {
        /// The configured workspace folder.
        path: PathBuf,
        /// What is wrong with it and what to do.
        reason: String,
    },
    /// The requested start directory is not inside the workspace.
    #[error(
        "working directory {cwd} is refused: {reason}; pass an existing directory relative to \
         the workspace root"
    )]
    WorkingDirectory {
        /// The directory as the caller gave it.
        cwd: PathBuf,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The command line cannot be passed to the shell.
    #[error("command line refused: {reason}")]
    CommandLine {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A passed environment variable cannot be set. Only the name is reported, never the value.
    #[error("environment variable {name:?} refused: {reason}")]
    Environment {
        /// The variable's name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The configured [`crate::RunAs`] would keep root privileges.
    #[error(
        "refusing to run commands as uid {uid} gid {gid}: root keeps its capabilities inside \
         the sandbox; set run_as to an unprivileged uid and gid (the default is nobody, 65534)"
    )]
    PrivilegedIdentity {
        /// The configured uid.
        uid: u32,
        /// The configured gid.
        gid: u32,
    },
    /// The Landlock ruleset could not be built although the kernel passed the probe.
    #[error("could not build the Landlock ruleset: {0}; check that the read roots are readable")]
    Ruleset(#[from] landlock::RulesetError),
    /// The seccomp filter could not be compiled.
    #[error("could not compile the seccomp filter: {0}")]
    Filter(#[from] seccompiler::BackendError),
    /// A step of starting the command failed; nothing of the command ran.
    #[error("could not start the sandboxed command: {step} failed: {source}")]
    Start {
        /// The failed step, e.g. "landlock_restrict_self" or "setuid".
        step: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The parent lost track of a started command (a pipe or wait call failed). The process tree
    /// was killed before this error was returned.
    #[error("lost track of the sandboxed command while {action}: {source}")]
    Supervise {
        /// What the parent was doing.
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}
