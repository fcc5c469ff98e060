//! The probe reports what this machine enforces.

use headmaster_sandbox::{probe, Containment, Enforcement};

#[test]
fn probe_reports_full_enforcement_here() {
    let support = probe();
    assert_eq!(support.landlock, Enforcement::FullyEnforced, "{support:?}");
    assert!(support.landlock_abi >= 6, "{support:?}");
    assert!(support.seccomp);
    assert!(support.is_enforced());
    assert_eq!(support.refusal(), None);
    // These tests run as root, which must be noticed so that commands drop to another uid.
    assert!(support.drops_privileges);
    assert_eq!(support.containment, Containment::PidNamespace);
}
