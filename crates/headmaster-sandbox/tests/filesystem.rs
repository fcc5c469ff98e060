//! Writes land only in the workspace and reads only in the read roots, whichever path trick
//! the command uses. The targets are world-writable (or world-readable), so the refusals come
//! from the sandbox and not from file permissions.

use std::path::Path;

use headmaster_sandbox::{run, CommandSpec, Exit, SandboxConfig, SandboxError};

use crate::fixture::{open_dir, open_file, Sandbox};

fn assert_refused(outcome: &headmaster_sandbox::Outcome, target: &Path) {
    assert_ne!(outcome.exit, Exit::Code(0), "the escape command succeeded");
    assert!(!target.exists(), "{} was written", target.display());
}

#[test]
fn write_to_tmp_is_refused() {
    let sandbox = Sandbox::new();
    let target = Path::new("/tmp").join(format!("escape-{}", sandbox.uid()));
    let outcome = sandbox.sh(&format!("echo x > {}", target.display()));
    assert_refused(&outcome, &target);
    assert!(
        outcome.stderr.text().contains("Permission denied"),
        "{}",
        outcome.stderr.text()
    );
}

#[test]
fn write_through_dot_dot_is_refused() {
    let outside = open_dir();
    let workspace = outside.path().join("ws");
    std::fs::create_dir(&workspace).unwrap();
    let mut sandbox = Sandbox::new();
    sandbox.config.workspace_dir = workspace;
    let outcome = sandbox.sh("echo x > ../escape && echo written");
    assert_refused(&outcome, &outside.path().join("escape"));
    assert!(!outcome.stdout.text().contains("written"));
}

#[test]
fn write_through_a_symlink_placed_in_the_workspace_is_refused() {
    let outside = open_dir();
    let sandbox = Sandbox::new();
    std::os::unix::fs::symlink(outside.path(), sandbox.path().join("link")).unwrap();
    let outcome = sandbox.sh("echo x > link/escape");
    assert_refused(&outcome, &outside.path().join("escape"));
}

#[test]
fn hard_link_to_an_outside_file_is_refused() {
    let outside = open_dir();
    let victim = outside.path().join("victim");
    open_file(&victim, "original\n");
    let sandbox = Sandbox::new();
    let outcome = sandbox.sh(&format!(
        "ln {} hard && echo changed >> hard",
        victim.display()
    ));
    assert_refused(&outcome, &sandbox.path().join("hard"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original\n");
}

#[test]
fn moving_a_file_out_of_the_workspace_is_refused() {
    let outside = open_dir();
    let sandbox = Sandbox::new();
    let target = outside.path().join("moved");
    let outcome = sandbox.sh(&format!("echo data > f && mv f {}", target.display()));
    assert_refused(&outcome, &target);
    assert!(sandbox.path().join("f").exists(), "the source was lost");
}

#[test]
fn outside_files_cannot_be_modified_or_deleted() {
    let outside = open_dir();
    let victim = outside.path().join("victim");
    open_file(&victim, "original\n");
    let sandbox = Sandbox::new();
    let outcome = sandbox.sh(&format!(
        "echo more >> {0}; : > {0}; rm -f {0}; touch {0}.new",
        victim.display()
    ));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original\n");
    assert!(!outside.path().join("victim.new").exists());
    assert_ne!(outcome.exit, Exit::Code(0));
}

#[test]
fn reading_a_file_outside_the_read_roots_is_refused() {
    let outside = open_dir();
    let secret = outside.path().join("secret.txt");
    open_file(&secret, "the-secret-contents\n");
    let sandbox = Sandbox::new();
    let outcome = sandbox.sh(&format!("cat {0}; cp {0} copy.txt", secret.display()));
    assert_ne!(outcome.exit, Exit::Code(0));
    assert!(!outcome.stdout.text().contains("the-secret-contents"));
    assert!(
        outcome.stderr.text().contains("Permission denied"),
        "{}",
        outcome.stderr.text()
    );
    assert!(!sandbox.path().join("copy.txt").exists());
}

#[test]
fn the_same_read_works_once_the_directory_is_a_read_root() {
    let outside = open_dir();
    let secret = outside.path().join("secret.txt");
    open_file(&secret, "the-secret-contents\n");
    let mut sandbox = Sandbox::new();
    sandbox.config.read_roots.push(outside.path().to_path_buf());
    let outcome = sandbox.sh(&format!("cat {}", secret.display()));
    assert_eq!(outcome.stdout.text(), "the-secret-contents\n");
}

#[test]
fn etc_outside_the_allowlist_and_proc_are_unreadable() {
    let sandbox = Sandbox::new();
    let outcome = sandbox.sh("cat /etc/machine-id; ls /etc; cat /proc/1/environ; ls /root");
    assert_eq!(outcome.stdout.text(), "");
    assert_eq!(
        outcome.stderr.text().matches("Permission denied").count(),
        4,
        "{}",
        outcome.stderr.text()
    );
}

#[test]
fn a_working_directory_outside_the_workspace_is_refused_before_running() {
    let sandbox = Sandbox::new();
    std::os::unix::fs::symlink("/usr", sandbox.path().join("usr-link")).unwrap();
    for cwd in ["../", "/usr", "usr-link"] {
        let error = run(&sandbox.config, &CommandSpec::new("touch ran").in_dir(cwd)).unwrap_err();
        assert!(
            matches!(error, SandboxError::WorkingDirectory { .. }),
            "{cwd}: {error}"
        );
    }
    assert!(!Path::new("/usr/ran").exists());
}

#[test]
fn a_workspace_containing_system_directories_is_refused() {
    let error = run(&SandboxConfig::new("/"), &CommandSpec::new("true")).unwrap_err();
    assert!(matches!(error, SandboxError::Workspace { .. }), "{error}");
}
