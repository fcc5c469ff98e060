//! What this machine can enforce, found by trying it.
//!
//! [`probe`] restricts a short-lived thread of its own with Landlock and seccomp (both apply
//! to the calling thread only, and the thread ends right after), and, when running as root,
//! creates a PID namespace around a child that exits at once. The answer is computed once per
//! process and cached: kernels do not lose features while the app runs.

use std::fmt;
use std::sync::OnceLock;

use landlock::{
    Access, AccessFs, CompatLevel, Compatible, LandlockStatus, Ruleset, RulesetAttr, RulesetStatus,
    ABI,
};

use crate::{child, filter, ruleset, NetworkAccess};

/// Whether and how this machine can sandbox a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSupport {
    /// The kernel's Landlock ABI version (0 when Landlock is absent or disabled).
    pub landlock_abi: u32,
    /// How completely the crate's Landlock ruleset is enforced here.
    pub landlock: Enforcement,
    /// True when a seccomp filter could be installed.
    pub seccomp: bool,
    /// How the command's whole process tree is kept together and killed.
    pub containment: Containment,
    /// True when the app runs as root and therefore drops commands to [`crate::RunAs`].
    pub drops_privileges: bool,
}

impl SandboxSupport {
    /// True when `run` will run commands: Landlock fully enforced and seccomp available.
    pub fn is_enforced(&self) -> bool {
        self.refusal().is_none()
    }

    /// Why `run` refuses on this machine, or `None` when it does not.
    pub fn refusal(&self) -> Option<String> {
        match self.landlock {
            Enforcement::FullyEnforced if self.seccomp => None,
            Enforcement::FullyEnforced => {
                Some("seccomp filters cannot be installed on this kernel or architecture".into())
            }
            Enforcement::PartiallyEnforced => Some(format!(
                "Landlock ABI {} is older than the required ABI {} (Linux 6.12 or newer)",
                self.landlock_abi,
                ruleset::REQUIRED_ABI as u32
            )),
            Enforcement::NotEnforced => Some(format!(
                "Landlock not supported by this kernel (ABI {})",
                self.landlock_abi
            )),
        }
    }

    /// The ABI the ruleset targets: the kernel's, capped at the newest one tested.
    pub(crate) fn ruleset_abi(&self) -> ABI {
        ABI::from(self.landlock_abi as i32).min(ruleset::TESTED_ABI)
    }
}

/// How completely the Landlock ruleset is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Every right and scope the sandbox relies on is enforced.
    FullyEnforced,
    /// Landlock works but lacks rights or scopes the sandbox requires.
    PartiallyEnforced,
    /// Landlock is absent or disabled.
    NotEnforced,
}

/// How the command's process tree is contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Containment {
    /// The command runs in a new PID namespace (needs root) under a minimal init of ours.
    /// When the shell ends or is killed, the init exits and the kernel kills and reaps
    /// everything else in the namespace, whatever session or group it moved to, before `run`
    /// returns.
    PidNamespace,
    /// The shell leads a new process group that no descendant may leave (`setsid` and
    /// `setpgid` are refused by seccomp); the parent sends SIGKILL to the whole group when the
    /// shell ends or a limit is hit, before `run` returns. Not being their parent, it cannot
    /// wait for them: they vanish as the kernel delivers the signal, and are reaped by the
    /// system's init. Used when the app is not root.
    ProcessGroup,
}

impl fmt::Display for Containment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Containment::PidNamespace => "own PID namespace",
            Containment::ProcessGroup => "locked process group (setsid/setpgid refused)",
        })
    }
}

/// Probes this machine once and returns the cached answer.
pub fn probe() -> SandboxSupport {
    static SUPPORT: OnceLock<SandboxSupport> = OnceLock::new();
    SUPPORT.get_or_init(probe_now).clone()
}

fn probe_now() -> SandboxSupport {
    let (landlock_abi, landlock, seccomp) = std::thread::spawn(probe_restrictions)
        .join()
        .unwrap_or((0, Enforcement::NotEnforced, false));
    let drops_privileges = rustix::process::geteuid().is_root();
    let containment = if drops_privileges && child::pid_namespace_available() {
        Containment::PidNamespace
    } else {
        Containment::ProcessGroup
    };
    SandboxSupport {
        landlock_abi,
        landlock,
        seccomp,
        containment,
        drops_privileges,
    }
}

/// Runs on a throwaway thread: learns the kernel's ABI from a best-effort restriction, then
/// enforces the crate's real rights and scopes with `HardRequirement` and installs the real
/// seccomp programs, so "fully enforced" means the same thing `run` will ask for.
fn probe_restrictions() -> (u32, Enforcement, bool) {
    let abi = match learn_abi() {
        Some(abi) if abi >= ruleset::REQUIRED_ABI => abi,
        Some(abi) => return (abi as u32, Enforcement::PartiallyEnforced, seccomp_works()),
        None => return (0, Enforcement::NotEnforced, seccomp_works()),
    };
    let target = abi.min(ruleset::TESTED_ABI);
    let enforcement =
        match ruleset::build(target, &std::env::temp_dir(), &[], &NetworkAccess::Denied)
            .and_then(|created| Ok(created.restrict_self()?))
        {
            Ok(status) if status.ruleset == RulesetStatus::FullyEnforced => {
                Enforcement::FullyEnforced
            }
            Ok(_) | Err(_) => Enforcement::PartiallyEnforced,
        };
    (abi as u32, enforcement, seccomp_works())
}

fn learn_abi() -> Option<ABI> {
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(ruleset::TESTED_ABI))
        .and_then(|ruleset| ruleset.create())
        .and_then(|created| created.restrict_self())
        .ok()?;
    match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => Some(effective_abi),
        LandlockStatus::NotEnabled | LandlockStatus::NotImplemented => None,
    }
}

fn seccomp_works() -> bool {
    let Some(arch) = filter::target_arch() else {
        return false;
    };
    let Ok(programs) = filter::build(&NetworkAccess::Denied, false, arch) else {
        return false;
    };
    programs
        .iter()
        .all(|program| seccompiler::apply_filter(program).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn support(landlock_abi: u32, landlock: Enforcement, seccomp: bool) -> SandboxSupport {
        SandboxSupport {
            landlock_abi,
            landlock,
            seccomp,
            containment: Containment::ProcessGroup,
            drops_privileges: false,
        }
    }

    #[test]
    fn refusal_names_the_missing_feature() {
        let absent = support(0, Enforcement::NotEnforced, true);
        assert_eq!(
            absent.refusal().unwrap(),
            "Landlock not supported by this kernel (ABI 0)"
        );
        let old = support(4, Enforcement::PartiallyEnforced, true);
        assert!(old
            .refusal()
            .unwrap()
            .contains("ABI 4 is older than the required ABI 6"));
        let no_seccomp = support(7, Enforcement::FullyEnforced, false);
        assert!(no_seccomp.refusal().unwrap().contains("seccomp"));
        assert!(support(7, Enforcement::FullyEnforced, true).is_enforced());
    }

    #[test]
    fn unavailable_error_says_that_nothing_runs_unconfined() {
        let reason = support(0, Enforcement::NotEnforced, true)
            .refusal()
            .unwrap();
        assert_eq!(
            crate::SandboxError::Unavailable { reason }.to_string(),
            "shell sandbox unavailable: Landlock not supported by this kernel (ABI 0); \
             shell.exec is refused rather than run unconfined"
        );
    }

    #[test]
    fn ruleset_abi_is_capped_at_the_tested_abi() {
        assert_eq!(
            support(9, Enforcement::FullyEnforced, true).ruleset_abi(),
            ABI::V7
        );
        assert_eq!(
            support(6, Enforcement::FullyEnforced, true).ruleset_abi(),
            ABI::V6
        );
    }
}
