//! The command sees a clean environment plus what the caller passes, nothing of the app's.

use std::collections::BTreeSet;

use crate::fixture::Sandbox;

fn variable_names(env_output: &str) -> BTreeSet<String> {
    env_output
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn nothing_of_the_parent_environment_is_inherited() {
    let sandbox = Sandbox::new();
    // The test process always has variables of its own (cargo sets several); none may appear.
    let parent: BTreeSet<String> = std::env::vars().map(|(name, _)| name).collect();
    assert!(
        parent.iter().any(|name| name.starts_with("CARGO")),
        "run the tests through cargo"
    );
    let outcome = sandbox.sh("env");
    let names = variable_names(&outcome.stdout.text());
    // `PWD` is exported by the shell itself.
    let expected: BTreeSet<String> = ["HOME", "LANG", "PATH", "PWD", "TMPDIR"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, expected, "{}", outcome.stdout.text());
    let workspace = sandbox.path().display().to_string();
    assert!(outcome.stdout.text().contains("PATH=/usr/bin:/bin\n"));
    assert!(outcome
        .stdout
        .text()
        .contains(&format!("HOME={workspace}\n")));
}

#[test]
fn explicitly_passed_variables_are_visible() {
    let mut sandbox = Sandbox::new();
    sandbox
        .config
        .env
        .insert("HEADMASTER_TEST_SECRET".into(), "injected-value".into());
    let outcome = sandbox.sh("printf %s \"$HEADMASTER_TEST_SECRET\"");
    assert_eq!(outcome.stdout.text(), "injected-value");
    assert!(
        !outcome.profile.contains("injected-value"),
        "{}",
        outcome.profile
    );
    assert!(outcome.profile.contains("HEADMASTER_TEST_SECRET"));
}
