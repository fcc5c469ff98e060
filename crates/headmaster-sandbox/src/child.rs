//! Starting the sandboxed process: the crate's only `unsafe` code.
//!
//! Between `clone3` and `execve` the child is a copy of a multi-threaded parent in which only
//! the calling thread survives. Any lock another thread held (the allocator's, stdio's) stays
//! locked forever, so the child may only make async-signal-safe system calls on data the parent
//! prepared: every string, pointer array, limit, Landlock ruleset descriptor and BPF program is
//! built before the clone, and the child never allocates, formats or panics. It calls the kernel
//! directly for `setgroups`/`setresgid`/`setresuid`, because glibc's wrappers broadcast
//! credential changes to the parent's other threads, which do not exist in the child.
//!
//! `clone3` is used instead of `fork` for `CLONE_NEWPID` (when the app runs as root the child
//! is PID 1 of a fresh PID namespace; when it exits or is killed, the kernel kills and reaps
//! everything left in the namespace, `setsid` escapees included) and for `CLONE_PIDFD` (a
//! descriptor the parent can poll and signal that cannot be confused with a recycled pid).
//!
//! Each system call sits in its own small wrapper below, so every `unsafe` block is one call.
//! The child reports a failed step through a close-on-exec pipe (see the `report` module).

#![allow(unsafe_code)]

use std::convert::Infallible;
use std::ffi::{c_char, CStr};
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

use landlock::{RulesetCreated, RulesetStatus};
use rustix::pipe::{pipe_with, PipeFlags};
use rustix::process::{pidfd_send_signal, waitid, Signal, WaitId, WaitIdOptions};
use seccompiler::BpfProgram;

use crate::report::{self, Failure, Step};
use crate::SandboxError;

/// Everything the child needs, prepared by the parent so the child only makes system calls.
#[derive(Debug)]
pub(crate) struct ChildPlan<'a> {
    /// `execve` arguments: NUL-terminated strings and NULL-terminated pointer arrays that point
    /// into storage the caller keeps alive across the call.
    pub program: &'a CStr,
    pub argv: &'a [*const c_char],
    pub envp: &'a [*const c_char],
    /// Absolute start directory, entered before the uid drop so that workspace ancestors the
    /// sandbox user cannot search (such as `/root`) do not matter.
    pub cwd: &'a CStr,
    pub stdin: BorrowedFd<'a>,
    pub stdout: BorrowedFd<'a>,
    pub stderr: BorrowedFd<'a>,
    pub rlimits: &'a [(ResourceKind, libc::rlimit)],
    /// `Some((uid, gid))` when running as root: drop to that identity before restricting.
    pub identity: Option<(u32, u32)>,
    pub ruleset: RulesetCreated,
    pub filters: &'a [BpfProgram],
    pub tree: Tree<'a>,
    /// The app's pid: a different parent after the fork means the app already died.
    pub parent_pid: libc::pid_t,
}

/// How the process tree is held together (see [`crate::Containment`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tree<'a> {
    /// The child is PID 1 of a new PID namespace. It stays a minimal init: it forks the shell,
    /// reaps every orphan, and writes the shell's raw wait status to `status` before exiting.
    /// A shell that were PID 1 itself would be immune to its own default-action signals
    /// (`SIGXCPU`, `SIGPIPE`, `kill $$`), which the kernel drops for a namespace's init.
    PidNamespace { status: BorrowedFd<'a> },
    /// The child executes the shell directly as the leader of a new process group.
    ProcessGroup,
}

/// The resource type `setrlimit` takes on this libc.
pub(crate) type ResourceKind = libc::__rlimit_resource_t;

/// A started child: its process id (in the parent's namespace) and a pidfd for it.
#[derive(Debug)]
pub(crate) struct Started {
    pub pid: i32,
    pub pidfd: OwnedFd,
}

/// Clones the child, which sets itself up and executes the plan's program; returns once the
/// program runs, or the failed step's error once the child has been reaped.
pub(crate) fn start(plan: ChildPlan<'_>) -> Result<Started, SandboxError> {
    let (report_read, report_write) =
        pipe_with(PipeFlags::CLOEXEC).map_err(|source| SandboxError::Start {
            step: "pipe",
            source: source.into(),
        })?;
    let flags = match plan.tree {
        Tree::PidNamespace { .. } => libc::CLONE_NEWPID as u64,
        Tree::ProcessGroup => 0,
    };
    let started = match clone_child(flags)? {
        Cloned::Child => {
            let Err(failure) = set_up_and_exec(plan);
            report_and_exit(report_write.as_fd(), failure)
        }
        Cloned::Parent(started) => started,
    };
    drop((report_write, plan));
    let mut report = [0u8; 8];
    let mut filled = 0;
    while filled < report.len() {
        match rustix::io::read(&report_read, &mut report[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(error) => {
                // Without the report the parent cannot know what runs: stop it.
                let _ = pidfd_send_signal(&started.pidfd, Signal::KILL);
                let _ = waitid(WaitId::PidFd(started.pidfd.as_fd()), WaitIdOptions::EXITED);
                return Err(SandboxError::Start {
                    step: "reading the start report",
                    source: error.into(),
                });
            }
        }
    }
    if filled == 0 {
        return Ok(started);
    }
    // The child exits right after its report; reap it so it does not linger as a zombie.
    let _ = waitid(WaitId::PidFd(started.pidfd.as_fd()), WaitIdOptions::EXITED);
    Err(report::decode(report))
}

/// True when this process may create PID namespaces (root with `CAP_SYS_ADMIN`), checked by
/// creating one around a child that exits at once.
pub(crate) fn pid_namespace_available() -> bool {
    match clone_child(libc::CLONE_NEWPID as u64) {
        Ok(Cloned::Child) => exit(0),
        Ok(Cloned::Parent(started)) => {
            waitid(WaitId::PidFd(started.pidfd.as_fd()), WaitIdOptions::EXITED).is_ok()
        }
        Err(_) => false,
    }
}

/// Tags a raw system call result with its step: negative means failure, reported with `errno`.
fn check(step: Step, result: impl Into<i64>) -> Result<(), Failure> {
    if result.into() < 0 {
        Err(Failure(step, errno()))
    } else {
        Ok(())
    }
}

/// The child's life up to `execve`. Returns only on failure; on success the process image is
/// replaced (or, as the namespace's init, the process exits in [`serve_as_init`]).
fn set_up_and_exec(plan: ChildPlan<'_>) -> Result<Infallible, Failure> {
    reset_signals().map_err(|errno| Failure(Step::Signals, errno))?;
    // SAFETY: `setsid` takes no arguments and only changes this process's session.
    check(Step::Session, unsafe { libc::setsid() })?;
    for (source, target) in [(plan.stdin, 0), (plan.stdout, 1), (plan.stderr, 2)] {
        // SAFETY: both are descriptors of this process; the parent keeps `source` above 2.
        check(Step::Redirect, unsafe {
            libc::dup2(source.as_raw_fd(), target)
        })?;
    }
    // Descriptors the app opened without close-on-exec must not reach the command.
    // SAFETY: `close_range` with `CLOSE_RANGE_CLOEXEC` only sets flags on this process's fds.
    let cloexec = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    check(Step::CloseOnExec, cloexec)?;
    // SAFETY: `cwd` is a NUL-terminated string the parent keeps alive.
    check(Step::Chdir, unsafe { libc::chdir(plan.cwd.as_ptr()) })?;
    for (resource, limit) in plan.rlimits {
        // SAFETY: `limit` points to a valid `rlimit` the parent keeps alive.
        check(Step::Rlimit, unsafe { libc::setrlimit(*resource, limit) })?;
    }
    if let Some((uid, gid)) = plan.identity {
        // SAFETY: raw credential system calls on this (single-threaded) process; an empty
        // group list needs no buffer.
        unsafe {
            check(
                Step::Groups,
                libc::syscall(libc::SYS_setgroups, 0usize, ptr::null::<libc::gid_t>()),
            )?;
            check(Step::Gid, libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
            check(Step::Uid, libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
        }
    }
    // If the app dies (killed mid-step), the command must die with it rather than outlive the
    // wall-clock limit the app enforces. The setting is cleared by credential changes, so it is
    // made after the uid drop; `run` waits for the child on the thread that forked it, so the
    // signal cannot fire early when an idle worker thread exits.
    // SAFETY: `prctl(PR_SET_PDEATHSIG)` only changes a setting of this process.
    check(Step::Signals, unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    })?;
    // The parent may have died before the setting took effect. (As PID 1 of a new namespace
    // the child sees parent 0 and cannot tell; the window there is a few instructions wide.)
    // SAFETY: `getppid` takes no arguments.
    let parent = unsafe { libc::getppid() };
    if parent != 0 && parent != plan.parent_pid {
        return Err(Failure(Step::Signals, libc::ESRCH));
    }
    // `restrict_self` sets `no_new_privs` first, which Landlock requires of an unprivileged
    // process and which also keeps setuid binaries from regaining privileges.
    match plan.ruleset.restrict_self() {
        Ok(status) if status.ruleset == RulesetStatus::FullyEnforced => {}
        Ok(_) => return Err(Failure(Step::Landlock, 0)),
        Err(_) => return Err(Failure(Step::Landlock, errno())),
    }
    for filter in plan.filters {
        seccompiler::apply_filter(filter).map_err(|_| Failure(Step::Seccomp, errno()))?;
    }
    if let Tree::PidNamespace { status } = plan.tree {
        // SAFETY: a raw `clone` with only an exit signal is `fork` without glibc's handlers
        // (which could take locks held by the parent's other threads).
        let shell =
            unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0) };
        check(Step::Fork, shell)?;
        if shell > 0 {
            // The init never executes anything, so close-on-exec never fires for it: close
            // every descriptor inherited from the app (other runs' pipes, the app's files) and
            // the start report, keeping only the status pipe.
            close_all_except(status);
            serve_as_init(shell as libc::pid_t, status);
        }
    }
    // SAFETY: all three point to NUL-terminated data (NULL-terminated arrays) the parent keeps
    // alive; on success this call does not return.
    unsafe {
        libc::execve(
            plan.program.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp.as_ptr(),
        )
    };
    Err(Failure(Step::Exec, errno()))
}

/// Default dispositions for every signal and an empty mask. Ignored signals would stay ignored
/// across `execve` (Rust ignores SIGPIPE, which would make `yes | head` print errors instead
/// of ending quietly). glibc refuses its two internal signals and the kernel refuses SIGKILL
/// and SIGSTOP, harmlessly, so those results are not checked.
fn reset_signals() -> Result<(), i32> {
    for signal in 1..=libc::SIGRTMAX() {
        // SAFETY: `SIG_DFL` installs no handler code; `signal` is a valid signal number.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
    // SAFETY: `sigset_t` is plain data, fully initialised by `sigemptyset`.
    let mut empty: libc::sigset_t = unsafe { zeroed() };
    // SAFETY: `empty` is a valid, writable `sigset_t` of this frame.
    unsafe { libc::sigemptyset(&mut empty) };
    // SAFETY: `empty` is initialised; the old mask is not requested.
    match unsafe { libc::sigprocmask(libc::SIG_SETMASK, &empty, ptr::null_mut()) } {
        0 => Ok(()),
        _ => Err(errno()),
    }
}

/// PID 1's loop: reap whatever exits (orphans are re-parented here), and once the shell itself
/// has exited, pass its wait status to the parent and exit, which makes the kernel kill and
/// reap everything still left in the namespace.
fn serve_as_init(shell: libc::pid_t, status_pipe: BorrowedFd<'_>) -> ! {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid, writable `c_int` of this frame.
        let reaped = unsafe { libc::waitpid(-1, &mut status, 0) };
        if reaped == shell {
            write_all(status_pipe, &status.to_ne_bytes());
            exit(0);
        }
        if reaped < 0 && errno() != libc::EINTR {
            exit(127);
        }
    }
}

/// Writes the failed step and `errno` to the report pipe and exits without running any
/// inherited code (no destructors, no atexit handlers).
fn report_and_exit(report: BorrowedFd<'_>, failure: Failure) -> ! {
    write_all(report, &failure.encode());
    exit(127)
}

/// One `write` of a message far below the pipe's atomic size; a failure has no one to tell.
fn write_all(fd: BorrowedFd<'_>, bytes: &[u8]) {
    // SAFETY: `bytes` is valid for reads of its length; `fd` is open.
    unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
}

fn close_all_except(keep: BorrowedFd<'_>) {
    let keep = keep.as_raw_fd() as u32;
    // SAFETY: closes only descriptors of this process, none of which is used afterwards except
    // `keep`, which stays open.
    unsafe {
        libc::syscall(libc::SYS_close_range, 0u32, keep.saturating_sub(1), 0u32);
        libc::syscall(libc::SYS_close_range, keep + 1, u32::MAX, 0u32);
    }
}

fn exit(code: i32) -> ! {
    // SAFETY: `_exit` ends the process without running destructors or atexit handlers, which
    // belong to the parent's state.
    unsafe { libc::_exit(code) }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

enum Cloned {
    Child,
    Parent(Started),
}

/// `clone3` with fork semantics (no shared memory, the child runs on a copy of this stack),
/// `SIGCHLD` on exit, a pidfd, and `extra_flags`. All signals are blocked around the call so
/// that none of the parent's handlers can run in the child before it resets them.
fn clone_child(extra_flags: u64) -> Result<Cloned, SandboxError> {
    let mut pidfd: RawFd = -1;
    let args = CloneArgs {
        flags: libc::CLONE_PIDFD as u64 | extra_flags,
        pidfd: ptr::addr_of_mut!(pidfd) as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    // SAFETY: `sigset_t` is plain data, fully initialised by `sigfillset` / `pthread_sigmask`.
    let (mut all, mut previous): (libc::sigset_t, libc::sigset_t) = unsafe { (zeroed(), zeroed()) };
    // SAFETY: `all` is a valid, writable `sigset_t` of this frame.
    unsafe { libc::sigfillset(&mut all) };
    // SAFETY: both sets are valid; `previous` receives the current mask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut previous) };
    // SAFETY: `args` is a valid `clone_args` of the size passed; without `CLONE_VM` the child
    // gets a private copy of memory, so continuing on this stack is sound, and the child only
    // makes async-signal-safe calls before `execve` or `_exit` (see the module documentation).
    let result = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            ptr::addr_of!(args),
            size_of::<CloneArgs>(),
        )
    };
    if result == 0 {
        return Ok(Cloned::Child);
    }
    let error = io::Error::last_os_error();
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &previous, ptr::null_mut()) };
    if result < 0 {
        return Err(SandboxError::Start {
            step: "clone3",
            source: error,
        });
    }
    // SAFETY: with `CLONE_PIDFD` the kernel stored a new descriptor that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Cloned::Parent(Started {
        pid: result as i32,
        pidfd,
    }))
}

/// `struct clone_args` from `<linux/sched.h>` (version 2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}
