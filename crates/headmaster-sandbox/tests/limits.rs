//! Time, CPU, memory and file-size limits end or constrain the command.

use std::time::Duration;

use headmaster_sandbox::{Exit, KillReason};

use crate::fixture::{seconds, Sandbox};

#[test]
fn wall_time_limit_kills_a_sleeping_command() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.wall_time = seconds(1);
    let outcome = sandbox.sh("sleep 30");
    assert_eq!(outcome.killed_for, Some(KillReason::Timeout));
    assert_eq!(outcome.exit, Exit::Signal(libc::SIGKILL));
    assert!(outcome.duration >= seconds(1), "{:?}", outcome.duration);
    assert!(outcome.duration < seconds(5), "{:?}", outcome.duration);
    assert!(!outcome.success());
}

#[test]
fn cpu_time_limit_stops_a_busy_loop() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.cpu_time = seconds(1);
    sandbox.config.limits.wall_time = seconds(20);
    let outcome = sandbox.sh("while :; do :; done");
    assert_eq!(outcome.exit, Exit::Signal(libc::SIGXCPU));
    assert_eq!(outcome.killed_for, Some(KillReason::CpuTime));
    assert!(outcome.duration < seconds(10), "{:?}", outcome.duration);
}

#[test]
fn allocating_beyond_the_address_space_limit_fails() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.address_space_bytes = 256 * 1024 * 1024;
    let command = "dd if=/dev/zero of=/dev/null bs=300M count=1";
    let outcome = sandbox.sh(command);
    assert_ne!(outcome.exit, Exit::Code(0));
    assert!(
        outcome.stderr.text().contains("memory exhausted"),
        "{}",
        outcome.stderr.text()
    );

    sandbox.config.limits.address_space_bytes = 1024 * 1024 * 1024;
    let outcome = sandbox.sh(command);
    assert_eq!(
        outcome.exit,
        Exit::Code(0),
        "the same allocation under a larger limit: {}",
        outcome.stderr.text()
    );
}

#[test]
fn file_size_limit_caps_writes() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.max_file_size_bytes = 1024 * 1024;
    let outcome = sandbox.sh("head -c 2000000 /dev/zero > big.bin");
    assert_ne!(outcome.exit, Exit::Code(0));
    let written = std::fs::metadata(sandbox.path().join("big.bin"))
        .unwrap()
        .len();
    assert_eq!(written, 1024 * 1024);
}

#[test]
fn a_quick_command_is_not_held_to_the_wall_limit() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.wall_time = seconds(30);
    let outcome = sandbox.sh("true");
    assert!(
        outcome.duration < Duration::from_secs(2),
        "{:?}",
        outcome.duration
    );
    assert_eq!(outcome.killed_for, None);
}
