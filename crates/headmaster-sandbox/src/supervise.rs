//! The parent's side of a run: read both output pipes while waiting for the command, enforce
//! the wall-clock and output limits, kill the whole tree, and reap.
//!
//! One `poll` loop watches stdout, stderr and the pidfd of the started process (the shell, or
//! in a PID namespace the init that runs it), so neither pipe can fill up and stall the command
//! while the other is being read. The process tree is killed in every ending: a limit was hit,
//! or the shell exited and may have left background jobs behind. The started process is reaped
//! only after that kill, so its process id (which is also the group id the kill targets) cannot
//! have been recycled in between.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{
    kill_process_group, pidfd_send_signal, waitid, Pid, Signal, WaitId, WaitIdOptions,
};

use crate::child::Started;
use crate::{Captured, Exit, KillReason, Limits, SandboxError};

/// How long output is still collected after the tree was killed. Every writer is dead by then,
/// so the pipes reach end-of-file at once; the bound only guards against a descriptor that
/// leaked into an unrelated process.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// Bytes read per `read` call.
const CHUNK: usize = 64 * 1024;

/// What the parent saw of a run.
#[derive(Debug)]
pub(crate) struct Finished {
    pub exit: Exit,
    pub stdout: Captured,
    pub stderr: Captured,
    pub killed_for: Option<KillReason>,
    pub duration: Duration,
}

/// The read ends the parent keeps.
#[derive(Debug)]
pub(crate) struct Pipes {
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    /// Where the namespace's init reports the shell's wait status (PID namespace only).
    pub status: Option<OwnedFd>,
}

/// Watches `started` until it and its descendants are gone.
pub(crate) fn watch(
    started: Started,
    pipes: Pipes,
    limits: &Limits,
    start: Instant,
) -> Result<Finished, SandboxError> {
    let mut run = Run {
        started,
        streams: [Some(pipes.stdout), Some(pipes.stderr)],
        captured: [Captured::default(), Captured::default()],
        killed_for: None,
        cap: limits.max_output_bytes,
    };
    let result = run.supervise(start + limits.wall_time);
    // Whatever happened above, nothing of the command may outlive this call, and the started
    // process is reaped even when supervision failed.
    run.kill_tree();
    let status = loop {
        match waitid(
            WaitId::PidFd(run.started.pidfd.as_fd()),
            WaitIdOptions::EXITED,
        ) {
            Err(Errno::INTR) => continue,
            Err(error) => return Err(supervise_error("reaping the command", error)),
            Ok(status) => break status,
        }
    };
    result?;
    let duration = start.elapsed();
    // In a PID namespace the reaped child is the init; the shell's own status comes through
    // the status pipe, unless the init was killed first (a limit was hit).
    let relayed = pipes.status.as_ref().and_then(read_relayed_status);
    let exit = match relayed {
        Some(raw) => decode(raw),
        // The init was killed before the shell ended, so the shell died of the same SIGKILL.
        None if pipes.status.is_some() => Exit::Signal(libc::SIGKILL),
        None => match status.map(|s| (s.exit_status(), s.terminating_signal())) {
            Some((Some(code), _)) => Exit::Code(code),
            Some((None, Some(signal))) => Exit::Signal(signal),
            _ => Exit::Signal(libc::SIGKILL),
        },
    };
    let killed_for = run
        .killed_for
        .or((exit == Exit::Signal(libc::SIGXCPU)).then_some(KillReason::CpuTime));
    let [stdout, stderr] = run.captured;
    Ok(Finished {
        exit,
        stdout,
        stderr,
        killed_for,
        duration,
    })
}

/// The init's four-byte report, if it wrote one before exiting.
fn read_relayed_status(pipe: &OwnedFd) -> Option<libc::c_int> {
    let mut raw = [0u8; 4];
    match rustix::io::read(pipe, &mut raw) {
        Ok(4) => Some(libc::c_int::from_ne_bytes(raw)),
        _ => None,
    }
}

/// A raw `waitpid` status as an [`Exit`].
fn decode(raw: libc::c_int) -> Exit {
    if libc::WIFEXITED(raw) {
        Exit::Code(libc::WEXITSTATUS(raw))
    } else {
        Exit::Signal(libc::WTERMSIG(raw))
    }
}

struct Run {
    started: Started,
    streams: [Option<OwnedFd>; 2],
    captured: [Captured; 2],
    killed_for: Option<KillReason>,
    cap: usize,
}

impl Run {
    /// Polls until the started process has exited and both pipes are drained (or the drain
    /// grace passed).
    fn supervise(&mut self, deadline: Instant) -> Result<(), SandboxError> {
        let mut exited_at: Option<Instant> = None;
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let now = Instant::now();
            if let Some(done) = exited_at {
                if self.streams.iter().all(Option::is_none) || now >= done + DRAIN_GRACE {
                    return Ok(());
                }
            } else if now >= deadline && self.killed_for.is_none() {
                self.stop(KillReason::Timeout);
            }
            let wake_at = match exited_at {
                Some(done) => done + DRAIN_GRACE,
                // After a kill the process ends within moments; poll in short steps meanwhile.
                None if self.killed_for.is_some() => now + Duration::from_millis(50),
                None => deadline,
            };
            let timeout =
                Timespec::try_from(wake_at.saturating_duration_since(now)).unwrap_or(Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                });

            let (exited, readable) = self.wait_for_events(exited_at.is_none(), &timeout)?;
            if exited {
                exited_at = Some(Instant::now());
                // Background jobs of a finished command are part of it: end them too.
                self.kill_tree();
            }
            for index in readable {
                self.read_stream(index, &mut buffer)?;
            }
        }
    }

    /// One `poll`; returns whether the started process exited and which streams have data or
    /// hung up.
    fn wait_for_events(
        &self,
        watch_process: bool,
        timeout: &Timespec,
    ) -> Result<(bool, Vec<usize>), SandboxError> {
        let mut fds = Vec::with_capacity(3);
        let mut owners = Vec::with_capacity(3);
        if watch_process {
            fds.push(PollFd::new(&self.started.pidfd, PollFlags::IN));
            owners.push(None);
        }
        for (index, stream) in self.streams.iter().enumerate() {
            if let Some(fd) = stream {
                fds.push(PollFd::new(fd, PollFlags::IN));
                owners.push(Some(index));
            }
        }
        match poll(&mut fds, Some(timeout)) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(error) => return Err(supervise_error("polling the output pipes", error)),
        }
        let mut exited = false;
        let mut readable = Vec::new();
        for (fd, owner) in fds.iter().zip(owners) {
            if fd.revents().is_empty() {
                continue;
            }
            match owner {
                None => exited = true,
                Some(index) => readable.push(index),
            }
        }
        Ok((exited, readable))
    }

    /// Reads one chunk; closes the stream at end-of-file; stops the command past the cap but
    /// keeps draining, so writers that are still dying do not block on a full pipe.
    fn read_stream(&mut self, index: usize, buffer: &mut [u8]) -> Result<(), SandboxError> {
        let Some(fd) = &self.streams[index] else {
            return Ok(());
        };
        match rustix::io::read(fd, &mut *buffer) {
            Ok(0) => self.streams[index] = None,
            Ok(n) => {
                if !self.captured[index].push(&buffer[..n], self.cap) && self.killed_for.is_none() {
                    self.stop(KillReason::OutputLimit);
                }
            }
            Err(Errno::INTR | Errno::AGAIN) => {}
            Err(error) => return Err(supervise_error("reading the command's output", error)),
        }
        Ok(())
    }

    fn stop(&mut self, reason: KillReason) {
        self.killed_for = Some(reason);
        self.kill_tree();
    }

    /// SIGKILL to the started process (in a PID namespace, killing the init takes the whole
    /// namespace down) and to its process group (which, without a PID namespace, no descendant
    /// may leave). Errors mean the targets are already gone.
    fn kill_tree(&self) {
        let _ = pidfd_send_signal(&self.started.pidfd, Signal::KILL);
        if let Some(group) = Pid::from_raw(self.started.pid) {
            let _ = kill_process_group(group, Signal::KILL);
        }
    }
}

fn supervise_error(action: &'static str, error: Errno) -> SandboxError {
    SandboxError::Supervise {
        action,
        source: error.into(),
    }
}
