//! `shell.exec` through the gate runs in the real sandbox: output comes back, and commands that
//! write outside the workspace, read outside the allowed roots, open a socket, fork without
//! bound or run past their time limit fail there. Each run is audited with what happened.
//!
//! The shell action is set to `low` here so that plain commands run without an approval; lines
//! the judgement raises (a script the engine cannot read, a write outside the workspace) are
//! approved by as many Approvers as their tier needs. The point is what the sandbox allows once
//! a command does run (the policy's own judgement of command lines is in `chained` and in the
//! policy crate's corpus).

use headmaster_core::states::ApprovalStatus;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use headmaster_core::access::Role;
use headmaster_core::tools::CallOutcome;
use serde_json::{json, Value};

use crate::support::{executed, having, Gate};

async fn shell_gate(settings: &[(&str, &str)]) -> Gate {
    let gate = Gate::new().await;
    gate.enable("shell").await;
    gate.set_tier("shell.exec", "low").await;
    if !settings.is_empty() {
        gate.configure("shell", settings).await;
    }
    gate.files_created();
    gate
}

/// Runs `command` and returns its result and the `tool.executed` payload's output.
async fn run(gate: &Gate, command: &str) -> (Value, Value) {
    let mark = gate.mark().await;
    let mut outcome = gate
        .propose(&gate.admin, "shell.exec", json!({ "command": command }))
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    let mut reviewers = 0;
    while let CallOutcome::Pending { approval_id, .. } = &outcome {
        reviewers += 1;
        assert!(
            reviewers <= 3,
            "{command}: still pending after {reviewers} approvals"
        );
        let reviewer = gate
            .member(&format!("reviewer{mark}x{reviewers}"), Role::Approver)
            .await;
        let decided = gate
            .approve(&reviewer, approval_id)
            .await
            .unwrap_or_else(|e| panic!("{command}: approving: {e}"));
        match decided.executed {
            Some(done) => outcome = done,
            None => assert_eq!(
                decided.status,
                ApprovalStatus::Pending,
                "{command}: {decided:?}"
            ),
        }
    }
    let output = executed(&outcome).clone();
    let events = gate.events_after(mark).await;
    assert_eq!(
        having(&events, "tool.executed", "allowed").len(),
        1,
        "{command}"
    );
    let audited = gate.entries_after(mark, "tool.executed").await[0].payload["output"].clone();
    (output, audited)
}

/// A directory outside the workspace that the sandbox user could write and read if only file
/// permissions applied, so that only the sandbox stands in the way.
fn open_outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "SHELL SECRET outside the roots").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    dir
}

#[tokio::test]
async fn a_command_runs_in_the_workspace_folder_and_its_output_comes_back() {
    let gate = shell_gate(&[]).await;
    let (output, audited) = run(
        &gate,
        "echo hello from the sandbox; printf 'made' > made.txt; id -u",
    )
    .await;
    assert_eq!(output["exit_code"], 0, "{output}");
    let stdout = output["stdout"].as_str().unwrap();
    assert!(stdout.starts_with("hello from the sandbox\n"), "{stdout}");
    let uid: u32 = stdout.lines().nth(1).unwrap().trim().parse().unwrap();
    assert_ne!(uid, 0, "commands never run as root");
    assert!(!output["profile"].as_str().unwrap().is_empty(), "{output}");
    assert_eq!(
        std::fs::read_to_string(gate.files().join("made.txt")).unwrap(),
        "made"
    );
    assert_eq!(audited["exit_code"], 0);
    assert_eq!(audited["stdout"], output["stdout"]);
}

#[tokio::test]
async fn writing_outside_the_workspace_and_reading_outside_the_roots_fail() {
    let gate = shell_gate(&[]).await;
    let outside = open_outside();
    let planted = outside.path().join("planted.txt");
    let secret = outside.path().join("secret.txt");
    for command in [
        format!("touch {}", planted.display()),
        format!("echo planted | tee {}", planted.display()),
        format!("ln -s /etc/passwd {}", planted.display()),
        format!("mkdir {}", planted.display()),
    ] {
        let (output, audited) = run(&gate, &command).await;
        assert_ne!(output["exit_code"], 0, "{command}: {output}");
        assert_ne!(audited["exit_code"], 0);
        assert!(!planted.exists(), "{command} wrote outside the workspace");
    }
    for command in [
        format!("cat {}", secret.display()),
        "cat ../../instance.db".to_string(),
        format!("ls {}", outside.path().display()),
    ] {
        let (output, _) = run(&gate, &command).await;
        assert_ne!(output["exit_code"], 0, "{command}: {output}");
        assert!(
            !output["stdout"].as_str().unwrap().contains("SHELL SECRET"),
            "{command}: {output}"
        );
        assert!(!output["stdout"].as_str().unwrap().contains("secret.txt"));
    }
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "SHELL SECRET outside the roots"
    );
}

#[tokio::test]
async fn opening_a_socket_fails_and_nothing_connects() {
    let gate = shell_gate(&[]).await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // A script file: the judgement cannot read it, so an Approver lets it run.
    std::fs::write(
        gate.files().join("net.py"),
        format!(
            "import socket, sys\n\
             for family, address in ((socket.AF_INET, ('127.0.0.1', {port})), (socket.AF_INET6, ('::1', {port}))):\n\
             \x20   try:\n\
             \x20       s = socket.socket(family, socket.SOCK_STREAM)\n\
             \x20       s.settimeout(2)\n\
             \x20       s.connect(address)\n\
             \x20       print('connected', address)\n\
             \x20       sys.exit(0)\n\
             \x20   except OSError as error:\n\
             \x20       print('blocked', family, error)\n\
             try:\n\
             \x20   socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', {port}))\n\
             \x20   print('udp sent')\n\
             \x20   sys.exit(0)\n\
             except OSError as error:\n\
             \x20   print('blocked udp', error)\n\
             sys.exit(3)\n"
        ),
    )
    .unwrap();
    let (output, audited) = run(&gate, "python3 net.py").await;
    assert_eq!(output["exit_code"], 3, "{output}");
    let stdout = output["stdout"].as_str().unwrap();
    assert!(
        !stdout.contains("connected") && !stdout.contains("udp sent"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("blocked").count(), 3, "{stdout}");
    assert_eq!(audited["exit_code"], 3);
    assert!(
        listener.accept().is_err(),
        "a connection from the sandbox reached the listener"
    );
}

#[tokio::test]
async fn a_command_past_its_time_limit_is_killed() {
    let gate = shell_gate(&[("wall_seconds", "1")]).await;
    let started = std::time::Instant::now();
    let (output, audited) = run(&gate, "echo started; sleep 30; echo finished").await;
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert_eq!(output["stdout"], "started\n", "{output}");
    assert!(output["killed_for"].is_string(), "{output}");
    assert!(output["exit_code"].is_null(), "{output}");
    assert!(output["duration_ms"].as_u64().unwrap() < 5000, "{output}");
    assert_eq!(audited["killed_for"], output["killed_for"]);
}

#[tokio::test]
async fn a_fork_bomb_is_bounded_and_its_whole_tree_is_gone_afterwards() {
    let gate = shell_gate(&[("wall_seconds", "2"), ("max_processes", "16")]).await;
    // Each child that really started appends a line before it sleeps; `sh FILE` runs a script
    // the judgement cannot read, so an Approver lets it run.
    std::fs::write(
        gate.files().join("bomb.sh"),
        "while :; do sh -c 'echo x >> alive; exec sleep 60' & done\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (output, audited) = run(&gate, "sh bomb.sh").await;
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert_ne!(output["exit_code"], 0, "{output}");
    assert_eq!(audited["killed_for"], output["killed_for"]);
    assert_eq!(audited["exit_code"], output["exit_code"]);
    let alive = std::fs::read_to_string(gate.files().join("alive")).unwrap_or_default();
    assert!(
        alive.lines().count() <= 16,
        "{} children started under a limit of 16",
        alive.lines().count()
    );
    let left = processes_in(&gate.files());
    assert!(left.is_empty(), "processes outlived the command: {left:?}");
}

/// Processes whose working directory is inside `dir`.
fn processes_in(dir: &Path) -> Vec<String> {
    let dir = std::fs::canonicalize(dir).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|entry| {
            std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}
