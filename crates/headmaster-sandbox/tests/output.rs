//! The command works inside the workspace, and its output comes back separated and capped.

use headmaster_sandbox::{run, CommandSpec, Exit, KillReason};

use crate::fixture::Sandbox;

#[test]
fn output_produced_inside_the_sandbox_comes_back() {
    let sandbox = Sandbox::new();
    let outcome = sandbox.sh("echo hello > out.txt && cat out.txt");
    assert_eq!(
        outcome.exit,
        Exit::Code(0),
        "stderr: {}",
        outcome.stderr.text()
    );
    assert_eq!(outcome.stdout.text(), "hello\n");
    assert!(!outcome.stdout.truncated);
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("out.txt")).unwrap(),
        "hello\n"
    );
    assert!(outcome.success());
    assert!(
        outcome.profile.contains("enforced by Landlock ABI"),
        "{}",
        outcome.profile
    );
}

#[test]
fn stderr_and_exit_status_are_reported_separately() {
    let sandbox = Sandbox::new();
    let outcome = sandbox.sh("echo out; echo oops >&2; exit 3");
    assert_eq!(outcome.exit, Exit::Code(3));
    assert_eq!(outcome.stdout.text(), "out\n");
    assert_eq!(outcome.stderr.text(), "oops\n");
    assert_eq!(outcome.killed_for, None);
}

#[test]
fn command_starts_in_the_requested_subdirectory() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path().join("sub")).unwrap();
    let outcome = run(
        &sandbox.config,
        &CommandSpec::new("pwd; echo x > here.txt").in_dir("sub"),
    )
    .unwrap();
    let expected = sandbox.path().canonicalize().unwrap().join("sub");
    assert_eq!(outcome.stdout.text().trim(), expected.to_str().unwrap());
    assert!(sandbox.path().join("sub/here.txt").exists());
}

#[test]
fn files_the_app_created_as_root_stay_writable_by_the_sandbox_user() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path().join("drafts")).unwrap();
    std::fs::write(sandbox.path().join("drafts/notes.txt"), "first\n").unwrap();
    let outcome = sandbox.sh("echo second >> drafts/notes.txt && echo third > drafts/new.txt");
    assert_eq!(
        outcome.exit,
        Exit::Code(0),
        "stderr: {}",
        outcome.stderr.text()
    );
    let notes = std::fs::read_to_string(sandbox.path().join("drafts/notes.txt")).unwrap();
    assert_eq!(notes, "first\nsecond\n");
}

#[test]
fn output_past_the_cap_is_truncated_flagged_and_stopped() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.max_output_bytes = 64 * 1024;
    let outcome = sandbox.sh("yes | head -c 10000000");
    assert_eq!(outcome.stdout.bytes.len(), 64 * 1024);
    assert!(outcome.stdout.truncated);
    assert!(outcome.stdout.bytes.chunks(2).all(|pair| pair == b"y\n"));
    assert_eq!(outcome.killed_for, Some(KillReason::OutputLimit));
    assert!(!outcome.stderr.truncated);
}

#[test]
fn output_under_the_cap_is_complete() {
    let mut sandbox = Sandbox::new();
    sandbox.config.limits.max_output_bytes = 64 * 1024;
    let outcome = sandbox.sh("yes | head -c 60000");
    assert_eq!(outcome.stdout.bytes.len(), 60_000);
    assert!(!outcome.stdout.truncated);
    assert_eq!(outcome.killed_for, None);
    assert_eq!(outcome.exit, Exit::Code(0));
}

#[test]
fn a_workspace_under_a_private_directory_works_through_relative_paths() {
    // The app's data lives under its own home (e.g. /root/.local/share), which the sandbox
    // user cannot search; the command starts inside the workspace, so relative paths work.
    let private = tempfile::tempdir().unwrap();
    let workspace = private.path().join("files");
    std::fs::create_dir(&workspace).unwrap();
    let mut sandbox = Sandbox::new();
    sandbox.config.workspace_dir = workspace.clone();
    let outcome = sandbox.sh("echo kept > note.txt && cat note.txt && ls");
    assert_eq!(
        outcome.stdout.text(),
        "kept\nnote.txt\n",
        "{}",
        outcome.stderr.text()
    );
    assert_eq!(
        std::fs::read_to_string(workspace.join("note.txt")).unwrap(),
        "kept\n"
    );
}
