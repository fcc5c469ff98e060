//! The command's whole process tree is bounded and ends with it: fork bombs hit the process
//! limit, and background or `setsid` escapees are killed when the command ends or times out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use headmaster_sandbox::{run, CommandSpec, Exit, KillReason, RunAs, SandboxError};

use crate::fixture::{seconds, Sandbox};

#[test]
fn fork_bomb_is_bounded_and_fully_reaped() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.wall_time = seconds(3);
    sandbox.config.limits.max_processes = 64;
    let uid = sandbox.uid();
    let sandbox = Arc::new(sandbox);
    let done = Arc::new(AtomicBool::new(false));

    // Count the sandbox uid's processes while the bomb runs.
    let observer = {
        let sandbox = Arc::clone(&sandbox);
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(sandbox.processes().len());
                std::thread::yield_now();
            }
            peak
        })
    };
    // bash, unlike dash, retries a failed fork and keeps looping, so the bomb runs until the
    // wall-clock limit instead of giving up at the first refusal.
    let outcome = sandbox.sh("exec bash -c 'while :; do sleep 30 & done' 2>/dev/null");
    done.store(true, Ordering::Relaxed);
    let peak = observer.join().unwrap();

    assert_eq!(outcome.killed_for, Some(KillReason::Timeout));
    assert!(outcome.duration < seconds(6), "{:?}", outcome.duration);
    assert!(peak > 10, "the bomb never ran (peak {peak})");
    assert!(peak <= 64, "{peak} processes of uid {uid} at once");
    assert_eq!(
        sandbox.processes(),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn recursive_fork_bomb_ends_and_leaves_nothing() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.wall_time = seconds(3);
    let outcome = sandbox.sh("bomb() { bomb | bomb & }; bomb; sleep 30");
    assert!(outcome.duration < seconds(6), "{:?}", outcome.duration);
    // Either the wall clock ended it, or the shell itself could no longer fork `sleep`.
    assert!(!outcome.success(), "{outcome:?}");
    assert!(
        outcome.stderr.text().contains("Cannot fork"),
        "{}",
        outcome.stderr.text()
    );
    assert_eq!(
        sandbox.processes(),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn setsid_escapee_does_not_survive_a_timeout() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.wall_time = seconds(1);
    let outcome = sandbox.sh("setsid sleep 1000 & sleep 30");
    assert_eq!(outcome.killed_for, Some(KillReason::Timeout));
    assert!(outcome.duration < seconds(4), "{:?}", outcome.duration);
    assert_eq!(
        sandbox.processes(),
        Vec::<u32>::new(),
        "the setsid sleep survived"
    );
}

#[test]
fn background_jobs_do_not_survive_a_command_that_ends() {
    let sandbox = Sandbox::new();
    let outcome = sandbox
        .sh("setsid sleep 1000 & (sleep 1000 &) ; nohup sleep 1000 >/dev/null 2>&1 & echo started");
    assert_eq!(outcome.exit, Exit::Code(0));
    assert_eq!(outcome.stdout.text(), "started\n");
    assert!(outcome.duration < seconds(3), "{:?}", outcome.duration);
    assert_eq!(outcome.killed_for, None);
    assert_eq!(
        sandbox.processes(),
        Vec::<u32>::new(),
        "a background job survived"
    );
}

#[test]
fn processes_outside_the_sandbox_cannot_be_signalled() {
    let mut bystander = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let sandbox = Sandbox::new();
    let outcome = sandbox.sh(&format!("kill -9 {}", bystander.id()));
    assert_ne!(outcome.exit, Exit::Code(0));
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the bystander was killed"
    );
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}

#[test]
fn observer_sees_a_running_sandbox_process() {
    // Guards the fixtures above: a process of the sandbox uid is visible while it runs.
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.wall_time = Duration::from_secs(10);
    let sandbox = Arc::new(sandbox);
    let runner = {
        let sandbox = Arc::clone(&sandbox);
        std::thread::spawn(move || sandbox.sh("sleep 2"))
    };
    let deadline = std::time::Instant::now() + seconds(5);
    let mut seen = false;
    while !seen && std::time::Instant::now() < deadline {
        seen = !sandbox.processes().is_empty();
        std::thread::yield_now();
    }
    let outcome = runner.join().unwrap();
    assert!(seen, "no process of the sandbox uid was ever visible");
    assert_eq!(outcome.exit, Exit::Code(0));
}

#[test]
fn a_failed_start_is_reported_with_its_step_and_runs_nothing() {
    let mut sandbox = Sandbox::new();
    // With no process allowed for the sandbox uid, the namespace's init cannot fork the shell.
    sandbox.config.limits.max_processes = 0;
    let error = run(&sandbox.config, &CommandSpec::new("touch ran")).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, SandboxError::Start { .. }), "{message}");
    assert!(message.contains("forking the shell"), "{message}");
    assert!(!sandbox.path().join("ran").exists());
    assert_eq!(sandbox.processes(), Vec::<u32>::new());
}

#[test]
fn running_as_root_inside_the_sandbox_is_refused() {
    let mut sandbox = Sandbox::new();
    for run_as in [
        RunAs { uid: 0, gid: 0 },
        RunAs {
            uid: sandbox.uid(),
            gid: 0,
        },
    ] {
        sandbox.config.run_as = run_as;
        let error = run(&sandbox.config, &CommandSpec::new("touch ran")).unwrap_err();
        assert!(
            matches!(error, SandboxError::PrivilegedIdentity { .. }),
            "{error}"
        );
    }
    assert!(!sandbox.path().join("ran").exists());
}
