//! The child's start report: which set-up step failed and with which `errno`, as eight bytes
//! through a close-on-exec pipe (end-of-file instead means `execve` succeeded).
//!
//! Encoding happens in the child, so it only fills a fixed array; decoding happens in the
//! parent, which may allocate.

use std::io;

use crate::SandboxError;

/// The child's steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Step {
    Signals,
    Session,
    Redirect,
    CloseOnExec,
    Chdir,
    Rlimit,
    Groups,
    Gid,
    Uid,
    Landlock,
    Seccomp,
    Fork,
    Exec,
}

/// Descriptions indexed by `Step as u8`.
const DESCRIPTIONS: [&str; 13] = [
    "resetting signal handlers",
    "setsid",
    "redirecting stdin/stdout/stderr",
    "marking inherited descriptors close-on-exec",
    "chdir into the working directory",
    "setrlimit",
    "setgroups",
    "setresgid",
    "setresuid",
    "landlock_restrict_self",
    "seccomp",
    "forking the shell under the namespace's init",
    "execve /bin/sh",
];

/// A failed step and its `errno` (0 when the step failed without one: Landlock reported less
/// than full enforcement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure(pub Step, pub i32);

impl Failure {
    /// The eight bytes the child writes: step, three bytes of padding, `errno`.
    pub(crate) fn encode(self) -> [u8; 8] {
        let mut message = [0u8; 8];
        message[0] = self.0 as u8;
        message[4..].copy_from_slice(&self.1.to_ne_bytes());
        message
    }
}

/// The error for a report the parent read.
pub(crate) fn decode(message: [u8; 8]) -> SandboxError {
    let step = DESCRIPTIONS
        .get(usize::from(message[0]))
        .copied()
        .unwrap_or("an unknown step");
    let errno = i32::from_ne_bytes([message[4], message[5], message[6], message[7]]);
    let source = if errno == 0 {
        io::Error::other("the Landlock ruleset was not fully enforced")
    } else {
        io::Error::from_raw_os_error(errno)
    };
    SandboxError::Start { step, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_step_and_the_os_error() {
        let message = decode(Failure(Step::Uid, libc::EPERM).encode()).to_string();
        assert!(message.contains("setresuid failed"), "{message}");
        assert!(message.contains("Operation not permitted"), "{message}");
        let partial = decode(Failure(Step::Landlock, 0).encode()).to_string();
        assert!(
            partial.contains(
                "landlock_restrict_self failed: the Landlock ruleset was not fully enforced"
            ),
            "{partial}"
        );
    }

    #[test]
    fn every_step_has_its_own_description() {
        assert_eq!(
            DESCRIPTIONS[Step::Signals as usize],
            "resetting signal handlers"
        );
        assert_eq!(DESCRIPTIONS[Step::Exec as usize], "execve /bin/sh");
        assert_eq!(DESCRIPTIONS.len(), Step::Exec as usize + 1);
    }
}
