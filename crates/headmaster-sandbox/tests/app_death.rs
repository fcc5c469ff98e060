//! A sandboxed command dies with the app: when the process that called `run` is killed (the app
//! crashed or was killed mid-step), nothing it started keeps running past that moment, even
//! though the app can no longer enforce the wall-clock limit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use headmaster_sandbox::{run, CommandSpec, SandboxConfig};

use crate::fixture::{processes_of_uid, unique_uid};

const CHILD: &str = "HEADMASTER_SANDBOX_TEST_APP";
const NAME: &str = "app_death::a_killed_app_takes_its_sandboxed_command_with_it";

#[test]
fn a_killed_app_takes_its_sandboxed_command_with_it() {
    if let Ok(uid) = std::env::var(CHILD) {
        // The "app": start a long command, announce it, and block in `run`.
        let workspace = tempfile::tempdir().unwrap();
        let mut config = SandboxConfig::new(workspace.path());
        let uid: u32 = uid.parse().unwrap();
        config.run_as = headmaster_sandbox::RunAs { uid, gid: uid };
        config.limits.wall_time = Duration::from_secs(60);
        println!("starting");
        let _ = run(
            &config,
            &CommandSpec::new("echo started; sleep 50; sleep 50"),
        );
        return;
    }
    let uid = unique_uid();
    let mut app = Command::new(std::env::current_exe().unwrap())
        .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, uid.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(app.stdout.take().unwrap()).lines();
    // libtest prints "test NAME ... " on the same line, before the first line of output.
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.ends_with("starting"))),
        "the app did not start"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_of_uid(uid).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the sandboxed command never appeared"
        );
        std::thread::yield_now();
    }
    app.kill().unwrap();
    app.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<_> = processes_of_uid(uid)
            .into_iter()
            .filter(|(_, state)| *state != 'Z')
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running after the app died: {left:?}"
        );
        std::thread::yield_now();
    }
}
