//! The same guarantees when the app does not run as root: no uid drop, no PID namespace, the
//! process tree held in one process group that `setsid`/`setpgid` cannot leave.
//!
//! Run as root (as the suite is), the test copies its own binary where another user can execute
//! it and runs itself as a fresh unprivileged uid; that run takes the other branch and checks
//! the scenarios. The root branch asserts that the inner run executed this test and passed.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use headmaster_sandbox::{probe, run, CommandSpec, Containment, Exit, KillReason, SandboxConfig};

use crate::fixture::{processes_of_uid, unique_uid};

const NAME: &str = "unprivileged::unprivileged_app_contains_commands_in_a_locked_process_group";

#[test]
fn unprivileged_app_contains_commands_in_a_locked_process_group() {
    if rustix::process::geteuid().is_root() {
        rerun_as_unprivileged_user();
    } else {
        check_scenarios();
    }
}

fn rerun_as_unprivileged_user() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let binary = dir.path().join("sandbox-tests");
    // A hard link opens no file for writing; a copy would, and a process forked meanwhile by a
    // concurrent test would hold that descriptor until its exec ("text file busy").
    let current = std::env::current_exe().unwrap();
    if std::fs::hard_link(&current, &binary).is_err() {
        std::fs::copy(&current, &binary).unwrap();
    }
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let uid = unique_uid();
    let deadline = Instant::now() + Duration::from_secs(10);
    let output = loop {
        let attempt = Command::new(&binary)
            .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
            .current_dir(dir.path())
            .env("TMPDIR", "/tmp")
            .uid(uid)
            .gid(uid)
            .output();
        match attempt {
            Err(error)
                if error.kind() == ErrorKind::ExecutableFileBusy && Instant::now() < deadline =>
            {
                std::thread::yield_now()
            }
            other => break other.unwrap(),
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "inner run failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the inner run did not execute the test:\n{stdout}"
    );
}

fn check_scenarios() {
    let me = rustix::process::getuid().as_raw();
    let support = probe();
    assert!(!support.drops_privileges);
    assert_eq!(support.containment, Containment::ProcessGroup);
    assert!(support.is_enforced(), "{support:?}");

    let workspace = tempfile::tempdir().unwrap();
    let mut config = SandboxConfig::new(workspace.path());
    config.limits.wall_time = Duration::from_secs(2);
    let sh = |line: &str| run(&config, &CommandSpec::new(line)).unwrap();
    // Live processes of this uid other than this test process. Without a PID namespace the
    // parent cannot wait for processes that are not its children: they have been sent SIGKILL
    // when `run` returns and vanish as soon as the kernel delivers it, so wait for that (with
    // a deadline). Killed orphans may stay zombies until the machine's init reaps them; they
    // hold no resources and are not counted.
    let others = || -> Vec<u32> {
        let live = || -> Vec<u32> {
            processes_of_uid(me)
                .into_iter()
                .filter(|(pid, state)| *pid != std::process::id() && *state != 'Z')
                .map(|(pid, _)| pid)
                .collect()
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut found = live();
        while !found.is_empty() && Instant::now() < deadline {
            std::thread::yield_now();
            found = live();
        }
        found
    };

    let outcome = sh("echo hello > out.txt && cat out.txt");
    assert_eq!(outcome.stdout.text(), "hello\n");
    assert!(
        outcome
            .profile
            .contains("locked process group (setsid/setpgid refused); as the app's own user"),
        "{}",
        outcome.profile
    );

    let escape = format!("/tmp/escape-unprivileged-{me}");
    let outcome = sh(&format!("echo x > {escape}"));
    assert_ne!(outcome.exit, Exit::Code(0));
    assert!(!std::path::Path::new(&escape).exists());

    let outcome = sh("setsid sleep 1000 & wait");
    assert!(
        outcome.stderr.text().contains("Operation not permitted"),
        "{}",
        outcome.stderr.text()
    );
    assert_eq!(
        others(),
        Vec::<u32>::new(),
        "the setsid sleep left the group and survived"
    );

    let outcome = sh(&format!("kill -9 {}", std::process::id()));
    assert_ne!(outcome.exit, Exit::Code(0), "the sandbox signalled the app");

    let outcome = sh("sleep 1000 & (sleep 1000 &); echo started");
    assert_eq!(outcome.stdout.text(), "started\n");
    assert_eq!(
        others(),
        Vec::<u32>::new(),
        "a background job survived the command"
    );

    let outcome = sh("sleep 1000 & sleep 30");
    assert_eq!(outcome.killed_for, Some(KillReason::Timeout));
    assert_eq!(
        others(),
        Vec::<u32>::new(),
        "a background job survived the timeout"
    );

    let outcome = sh("exec bash -c 'while :; do sleep 30 & done' 2>/dev/null");
    assert!(
        outcome.duration < Duration::from_secs(5),
        "{:?}",
        outcome.duration
    );
    assert_eq!(others(), Vec::<u32>::new(), "the fork bomb left processes");
}
