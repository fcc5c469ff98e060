//! `agent`, `run`, `draft` and `memory` driven as a script would, with `--json`: agents from a
//! playbook file and from an OpenAI-compatible endpoint (a scripted server on loopback), a run
//! that waits for another Operator's confirmation and is resumed, cancelled runs, drafts, and
//! how refusals look (non-zero exit, `{"error":{"code",…}}` on stderr, nothing on stdout).

mod agents;
mod runs;

use serde_json::Value;

use crate::harness::{as_user, Cli, Run, PASSWORD};

/// The password of bob and dave.
pub const USER_PASSWORD: &str = "a team member's long password";

/// `--json args…` as `user`.
pub fn json_as(cli: &Cli, user: &str, args: &[&str]) -> Run {
    let password = if user == "alice" {
        PASSWORD
    } else {
        USER_PASSWORD
    };
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    cli.run(&all, &as_user(user, password))
}

/// Succeeds and returns the JSON printed.
pub fn ok(run: Run) -> Value {
    run.ok().json()
}

/// A refusal: non-zero exit, nothing on stdout, the error code on stderr; returns the message.
pub fn refused(run: &Run, code: &str) -> String {
    run.failed();
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    let error = run.error_json();
    assert_eq!(error["error"]["code"], code, "{}", run.stderr);
    error["error"]["message"].as_str().unwrap().to_string()
}

/// An instance with bob and dave as Operators of Acme, memory and drafts enabled, and the
/// client's notes in memory.
pub fn team() -> Cli {
    let cli = Cli::new();
    cli.init().ok();
    for user in ["bob", "dave"] {
        let mut env = as_user("alice", PASSWORD);
        env.push(("NEW_USER_PASSWORD", USER_PASSWORD));
        cli.run(
            &["user", "add", user, "--password-env", "NEW_USER_PASSWORD"],
            &env,
        )
        .ok();
        ok(json_as(
            &cli,
            "alice",
            &["member", "add", user, "--role", "operator"],
        ));
    }
    for tool in ["memory", "draft"] {
        ok(json_as(&cli, "alice", &["tool", "enable", tool]));
    }
    let written = ok(json_as(
        &cli,
        "alice",
        &["memory", "set", "client-notes", "shipped the importer"],
    ));
    assert_eq!(written["written"], "client-notes");
    cli
}

/// Writes `text` to a file beside the data directory and returns its path.
pub fn file(cli: &Cli, name: &str, text: &str) -> String {
    let path = cli.home.parent().unwrap().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

pub fn shipped(name: &str) -> String {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../playbooks")
    .join(name)
    .to_string_lossy()
    .into_owned()
}

pub fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect()
}
