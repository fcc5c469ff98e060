//! `tool`, `credential`, `call`, `approval` and `grant` driven as a script would: what they
//! print with `--json`, and that every denial or refusal exits non-zero with a stable error
//! code on stderr. Each refusal is also found in the workspace's audit chain
//! (`audit query`), and a credential value never appears in any output or stored byte.

mod approvals;
mod calls;
mod credentials;
mod grants;
mod tools;

use std::path::Path;

use serde_json::Value;

use crate::harness::{as_user, Cli, Run, PASSWORD};

/// Runs `--json args…` as `user` (every user here has the standard password).
pub fn json_as(cli: &Cli, user: &str, args: &[&str]) -> Run {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    cli.run(&all, &as_user(user, PASSWORD))
}

/// Runs `--json args…` as alice, the first Admin, expecting success, and returns the JSON.
pub fn admin(cli: &Cli, args: &[&str]) -> Value {
    json_as(cli, "alice", args).ok().json()
}

/// A refusal: non-zero exit and the error code on stderr.
pub fn refused(run: &Run, code: &str) {
    run.failed();
    assert_eq!(run.error_json()["error"]["code"], code, "{}", run.stderr);
}

/// An instance with alice (Admin) and members with the given workspace roles.
pub fn instance_with(members: &[(&str, &str)]) -> Cli {
    let cli = Cli::new();
    cli.init().ok();
    for (user, role) in members {
        let mut env = as_user("alice", PASSWORD);
        env.push(("NEW_PASSWORD", PASSWORD));
        cli.run(
            &[
                "--json",
                "user",
                "add",
                user,
                "--password-env",
                "NEW_PASSWORD",
            ],
            &env,
        )
        .ok();
        admin(&cli, &["member", "add", user, "--role", role]);
    }
    cli
}

/// The workspace chain's events (newest first), as `audit query` prints them.
pub fn audit(cli: &Cli) -> Vec<Value> {
    let page = admin(
        cli,
        &["--workspace", "Acme", "audit", "query", "--limit", "1000"],
    );
    page["entries"].as_array().unwrap().clone()
}

/// How many events of the workspace chain have this action and outcome.
pub fn count(events: &[Value], action: &str, outcome: &str) -> usize {
    events
        .iter()
        .filter(|e| e["action"] == action && e["outcome"] == outcome)
        .count()
}

/// The content of `path` in the (only) workspace's files folder, if it exists.
pub fn workspace_file(home: &Path, path: &str) -> Option<String> {
    let folders = std::fs::read_dir(home.join("files")).ok()?;
    folders
        .filter_map(|d| d.ok())
        .find_map(|d| std::fs::read_to_string(d.path().join(path)).ok())
}
