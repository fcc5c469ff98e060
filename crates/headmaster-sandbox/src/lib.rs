//! Runs one shell command confined by Landlock, seccomp and resource limits (Linux).
//!
//! This is the engine under the `shell.exec` tool. [`run`] takes a [`SandboxConfig`] (the
//! workspace folder, read roots, network reach, limits, extra environment) and a
//! [`CommandSpec`] (`/bin/sh -c` command line and start directory) and returns an [`Outcome`]:
//! exit status, capped stdout and stderr, duration, why the sandbox stopped it if it did, and
//! the profile that was applied. The command
//! - reads only the read roots and the workspace, writes only the workspace (Landlock);
//! - opens no socket unless the network is allowed, and cannot trace processes, mount, load
//!   kernel code or use keyrings (seccomp, see the `filter` module for the full list);
//! - runs as an unprivileged uid when the app is root, with `no_new_privs`;
//! - is bounded in wall time, CPU time, memory, processes, file size, open files and output,
//!   and its whole process tree is killed and reaped when it ends or a limit is hit;
//! - sees a clean environment: `PATH`, `HOME`, `LANG`, `TMPDIR` and the variables passed.
//!
//! It never runs anything unconfined: when [`probe`] finds that the kernel cannot enforce the
//! whole profile, `run` returns [`SandboxError::Unavailable`] and starts nothing.
//!
//! `run` blocks until the command's tree is gone (at most the wall-clock limit plus a moment);
//! async callers wrap it in `tokio::task::spawn_blocking`.
//!
//! What the sandbox does not do: it has no mount namespace (the command sees the real
//! filesystem, restricted by Landlock rather than hidden), and Landlock (up to ABI 7) does not
//! govern changing a file's mode, owner, times or extended attributes. A root app's uid drop
//! covers that gap, since the sandbox user owns nothing outside the workspace. When the app is
//! not root, the command runs as the app's own user: Landlock still keeps it from reading or
//! writing that user's files outside the workspace, but not from, say, `chmod`-ing them.

mod child;
mod config;
mod error;
mod filter;
mod launch;
mod outcome;
mod profile;
mod report;
mod ruleset;
mod supervise;
mod support;
mod workspace;

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Instant;

use rustix::pipe::{pipe_with, PipeFlags};

pub use config::{default_read_roots, CommandSpec, Limits, NetworkAccess, RunAs, SandboxConfig};
pub use error::SandboxError;
pub use outcome::{Captured, Exit, KillReason, Outcome};
pub use support::{probe, Containment, Enforcement, SandboxSupport};

/// Runs `command` inside the sandbox described by `config` and waits for its whole process
/// tree to end.
///
/// When the app runs as root, the command runs as `config.run_as`, and the workspace tree is
/// first handed to that uid (directories and files without extra hard links are chowned; see
/// the `workspace` module) so that it can write there. Absolute paths into the workspace then
/// also need its ancestors to be searchable by that uid; relative paths always work because
/// the command starts inside the workspace.
///
/// # Errors
/// [`SandboxError::Unavailable`] when the kernel cannot enforce the sandbox; the other
/// variants when the request is invalid or the command could not be started. A command that
/// started and failed is an `Ok` [`Outcome`] with a non-zero exit.
pub fn run(config: &SandboxConfig, command: &CommandSpec) -> Result<Outcome, SandboxError> {
    let support = probe();
    if let Some(reason) = support.refusal() {
        return Err(SandboxError::Unavailable { reason });
    }
    let arch = filter::target_arch().ok_or_else(|| SandboxError::Unavailable {
        reason: "unsupported CPU architecture".into(),
    })?;

    let workspace = workspace::resolve(&config.workspace_dir, &config.read_roots)?;
    let cwd = workspace::resolve_cwd(&workspace, &command.cwd)?;
    let identity = support.drops_privileges.then_some(config.run_as);
    if let Some(RunAs { uid, gid }) = identity {
        if uid == 0 || gid == 0 {
            return Err(SandboxError::PrivilegedIdentity { uid, gid });
        }
        workspace::hand_over(&workspace, RunAs { uid, gid })?;
    }

    let launch = launch::Launch::new(command, config, &workspace, &cwd)?;
    let rlimits = launch::rlimits(&config.limits);
    let ruleset = ruleset::build(
        support.ruleset_abi(),
        &workspace,
        &config.read_roots,
        &config.network,
    )?;
    let lock_group = support.containment == Containment::ProcessGroup;
    let filters = filter::build(&config.network, lock_group, arch)?;

    let stdin = File::open("/dev/null").map_err(|source| SandboxError::Start {
        step: "opening /dev/null",
        source,
    })?;
    let stdin = above_stdio(stdin.into(), "opening /dev/null")?;
    let (stdout_read, stdout_write) = output_pipe()?;
    let (stderr_read, stderr_write) = output_pipe()?;
    let (status_read, status_write) = match support.containment {
        Containment::PidNamespace => {
            let (read, write) = output_pipe()?;
            (Some(read), Some(write))
        }
        Containment::ProcessGroup => (None, None),
    };

    let start = Instant::now();
    let started = child::start(child::ChildPlan {
        program: &launch.program,
        argv: &launch.argv,
        envp: &launch.envp,
        cwd: &launch.cwd,
        stdin: stdin.as_fd(),
        stdout: stdout_write.as_fd(),
        stderr: stderr_write.as_fd(),
        rlimits: &rlimits,
        identity: identity.map(|run_as| (run_as.uid, run_as.gid)),
        ruleset,
        filters: &filters,
        tree: match &status_write {
            Some(status) => child::Tree::PidNamespace {
                status: status.as_fd(),
            },
            None => child::Tree::ProcessGroup,
        },
        parent_pid: std::process::id() as libc::pid_t,
    })?;
    // The parent's copies of the write ends must close, or the pipes never reach end-of-file.
    drop((stdin, stdout_write, stderr_write, status_write));

    let pipes = supervise::Pipes {
        stdout: stdout_read,
        stderr: stderr_read,
        status: status_read,
    };
    let finished = supervise::watch(started, pipes, &config.limits, start)?;
    Ok(Outcome {
        exit: finished.exit,
        stdout: finished.stdout,
        stderr: finished.stderr,
        duration: finished.duration,
        killed_for: finished.killed_for,
        profile: format!(
            "{}; {}",
            config.describe(),
            profile::enforcement(&support, identity)
        ),
    })
}

/// A close-on-exec pipe for the command's output or the init's status report.
fn output_pipe() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    const STEP: &str = "creating a pipe";
    let (read, write) = pipe_with(PipeFlags::CLOEXEC).map_err(|source| SandboxError::Start {
        step: STEP,
        source: source.into(),
    })?;
    Ok((above_stdio(read, STEP)?, above_stdio(write, STEP)?))
}

/// Moves `fd` above 2 if needed, so that redirecting stdin/stdout/stderr in the child can
/// never overwrite one of these descriptors with another (possible when the app runs with a
/// closed standard descriptor).
fn above_stdio(fd: OwnedFd, step: &'static str) -> Result<OwnedFd, SandboxError> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    rustix::io::fcntl_dupfd_cloexec(&fd, 3).map_err(|source| SandboxError::Start {
        step,
        source: source.into(),
    })
}
