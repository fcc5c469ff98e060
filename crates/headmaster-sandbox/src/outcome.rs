//! What a sandboxed run produced: how it ended, its capped output, and the profile it ran under.

use std::fmt;
use std::time::Duration;

/// The result of a command that started inside the sandbox. A command that was refused or
/// failed to start is a [`crate::SandboxError`] instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How the shell ended.
    pub exit: Exit,
    /// Standard output, capped at [`crate::Limits::max_output_bytes`].
    pub stdout: Captured,
    /// Standard error, capped the same way.
    pub stderr: Captured,
    /// Time from start to the end of the whole process tree.
    pub duration: Duration,
    /// Set when the sandbox, not the command, ended the run.
    pub killed_for: Option<KillReason>,
    /// Human-readable description of the sandbox that was applied, for reviewers and the audit
    /// log (see [`crate::SandboxConfig::describe`]) plus how it was enforced on this machine.
    pub profile: String,
}

impl Outcome {
    /// True when the shell exited with status 0 and the sandbox did not stop it.
    pub fn success(&self) -> bool {
        self.exit == Exit::Code(0) && self.killed_for.is_none()
    }
}

/// How the shell process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this status (a child killed by signal N shows as 128 + N, as in a shell).
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit status {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

/// Why the sandbox ended a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReason {
    /// The wall-clock limit passed; the whole process tree was killed.
    Timeout,
    /// stdout or stderr went past the output cap; the whole process tree was killed.
    OutputLimit,
    /// The shell itself used up its CPU time (`SIGXCPU`).
    CpuTime,
}

impl fmt::Display for KillReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KillReason::Timeout => "wall-clock time limit reached",
            KillReason::OutputLimit => "output limit reached",
            KillReason::CpuTime => "CPU time limit reached",
        })
    }
}

/// Bytes read from one output stream, up to the cap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The first bytes of the stream, at most the cap.
    pub bytes: Vec<u8>,
    /// True when the stream had more than the cap; the rest was discarded.
    pub truncated: bool,
}

impl Captured {
    /// The bytes as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Appends `chunk`, keeping at most `cap` bytes; returns false once the cap is exceeded.
    pub(crate) fn push(&mut self, chunk: &[u8], cap: usize) -> bool {
        let room = cap.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.bytes.extend_from_slice(&chunk[..room]);
            self.truncated = true;
            return false;
        }
        self.bytes.extend_from_slice(chunk);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_keeps_exactly_the_cap_and_flags_the_rest() {
        let mut captured = Captured::default();
        assert!(captured.push(b"abc", 5));
        assert!(captured.push(b"de", 5));
        assert!(!captured.truncated);
        assert!(!captured.push(b"fgh", 5));
        assert_eq!(captured.bytes, b"abcde");
        assert!(captured.truncated);
    }

    #[test]
    fn success_needs_status_zero_and_no_kill() {
        let outcome = Outcome {
            exit: Exit::Code(0),
            stdout: Captured::default(),
            stderr: Captured::default(),
            duration: Duration::ZERO,
            killed_for: None,
            profile: String::new(),
        };
        assert!(outcome.success());
        let killed = Outcome {
            killed_for: Some(KillReason::OutputLimit),
            ..outcome.clone()
        };
        assert!(!killed.success());
        let failed = Outcome {
            exit: Exit::Code(1),
            ..outcome
        };
        assert!(!failed.success());
    }
}
