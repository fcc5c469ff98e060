//! Every public operation passes the gate: a structural test over the core's source.
//!
//! It fails when a public `Instance` operation takes a `Session` but touches `self` before
//! `self.authorize(…)` (or before calling another method that does), or when a public function
//! without a session appears that is not on the short, reasoned list of pre-authentication and
//! system operations below. The behavioural side is in `gate`.

use crate::rust_source::{instance_functions, Function};

/// Operations that need a live session but no capability: anyone signed in may use them.
const SESSION_ONLY: &[(&str, &str)] = &[
    ("sign_out", "ending one's own session"),
    ("whoami", "reading one's own identity and memberships"),
    (
        "list_workspaces",
        "listing one's own memberships; shows nothing else",
    ),
    (
        "resolve_workspace",
        "finds one of one's own workspaces through list_workspaces",
    ),
];

/// Public `Instance` functions that take no session, and why that is right.
const NO_SESSION: &[(&str, &str)] = &[
    (
        "init",
        "creates the installation; nobody exists to authenticate yet",
    ),
    (
        "open",
        "unlocks the installation with the keychain or passphrase",
    ),
    ("sign_in", "authentication itself; audited, throttled"),
    (
        "resume",
        "turns a bearer token into a session; checks the session",
    ),
    ("store_cli_token", "seals the CLI's own token after sign-in"),
    (
        "load_cli_token",
        "reads the CLI's own sealed token before resuming",
    ),
    (
        "clear_cli_token",
        "removes the CLI's own token file at logout",
    ),
    ("org_name", "the organisation's name for the sign-in screen"),
    (
        "maintain_keys",
        "run by the system at start: finish, age-rotate and retire keys",
    ),
    (
        "maintain",
        "the maintenance service both front ends run: system work, audited as the system",
    ),
    (
        "sync_in_background",
        "the desktop's background upload to the server an Admin joined: system work, audited as the system",
    ),
    (
        "rotations_due",
        "which scopes maintenance must re-encrypt: scope names and key ages, nothing sealed",
    ),
    (
        "maintain_audit",
        "run by the system at start: archive events past the retention period",
    ),
    (
        "vault",
        "compiled only with the `internals` feature, for this repository's benchmarks",
    ),
    (
        "device",
        "compiled only with the `internals` feature, for this repository's benchmarks",
    ),
    (
        "workspace_database",
        "compiled only with the `internals` feature, for this repository's benchmarks",
    ),
    (
        "subscribe",
        "in-process notifications for the shell: ids and states only, nothing sealed",
    ),
    (
        "tick_runs",
        "the background worker: resumes and flags runs, no person's request",
    ),
    (
        "dispatch_runs",
        "the background worker's pass without waiting; runs act with their starter's authority",
    ),
    ("id", "accessor, no data"),
    ("layout", "accessor, no data"),
    ("protection", "accessor, no data"),
    ("clock", "accessor, no data"),
    ("shared_clock", "accessor, no data"),
];

/// Problems found: public operations that skip the gate or are unaccounted for.
fn gate_violations(functions: &[Function]) -> Vec<String> {
    // A function is gated if its first use of `self` is the gate, or a call to a gated method.
    let mut capability: Vec<&str> = vec!["authorize"];
    let mut session_only: Vec<&str> = vec!["session_state"];
    loop {
        let before = (capability.len(), session_only.len());
        for f in functions.iter().filter(|f| f.takes_session) {
            let Some(first) = f
                .first_self_use
                .as_deref()
                .and_then(|u| u.strip_suffix('('))
            else {
                continue;
            };
            if capability.contains(&first) && !capability.contains(&f.name.as_str()) {
                capability.push(&f.name);
            } else if session_only.contains(&first) && !session_only.contains(&f.name.as_str()) {
                session_only.push(&f.name);
            }
        }
        if (capability.len(), session_only.len()) == before {
            break;
        }
    }
    let mut problems = Vec::new();
    for f in functions.iter().filter(|f| f.public) {
        let name = f.name.as_str();
        if !f.takes_session {
            if !NO_SESSION.iter().any(|(n, _)| *n == name) {
                problems.push(format!("{name}: public operation without a Session (gate it, or list it in NO_SESSION with a reason)"));
            }
        } else if capability.contains(&name) {
            continue;
        } else if session_only.contains(&name) {
            if !SESSION_ONLY.iter().any(|(n, _)| *n == name) {
                problems.push(format!("{name}: checks the session but no capability"));
            }
        } else {
            problems.push(format!(
                "{name}: touches self.{} before the gate",
                f.first_self_use.as_deref().unwrap_or("(nothing)")
            ));
        }
    }
    problems
}

fn core_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("src");
    for file in crate::common::files_under(&root) {
        if file.extension().is_some_and(|e| e == "rs") {
            let name = file.strip_prefix(&root).unwrap().display().to_string();
            out.push((name, std::fs::read_to_string(&file).unwrap()));
        }
    }
    out
}

#[test]
fn every_public_operation_passes_the_gate_before_touching_data() {
    let mut functions = Vec::new();
    for (_, source) in core_sources() {
        functions.extend(instance_functions(&source));
    }
    let gated: Vec<&str> = functions
        .iter()
        .filter(|f| f.public && f.takes_session)
        .map(|f| f.name.as_str())
        .collect();
    for known in [
        "add_member",
        "create_role",
        "rotate_keys",
        "keys_status",
        "list_users",
        "delete_workspace",
        "sign_out",
    ] {
        assert!(gated.contains(&known), "the scan missed {known}: {gated:?}");
    }
    assert!(gated.len() >= 25, "{gated:?}");
    let problems = gate_violations(&functions);
    assert!(problems.is_empty(), "{problems:#?}");
    // Every listed exception still exists (stale entries would hide a future operation).
    for (name, _) in SESSION_ONLY.iter().chain(NO_SESSION) {
        assert!(
            functions.iter().any(|f| f.public && f.name == *name),
            "{name} is listed but gone"
        );
    }
}

#[test]
fn the_gate_scan_catches_an_operation_that_skips_the_gate() {
    let source = r#"
        impl Instance {
            /// Gated. A comment mentioning self.pool first must not count.
            pub async fn gated(&self, session: &Session) -> Result<()> {
                let text = "self.pool { }";
                self.authorize(session, Scope::Org, Capability::OrgUsers, "x").await?;
                self.pool.execute().await
            }
            pub async fn delegates(&self, session: &Session, w: WorkspaceId) -> Result<()> {
                let myself = 1;
                self
                    .gated(session).await?;
                Ok(())
            }
            pub async fn reads_first(&self, session: &Session) -> Result<()> {
                // self.authorize(session, …) in a comment is no gate.
                let rows = sqlx::query("SELECT '}' ").fetch_all(&self.pool).await?;
                self.authorize(session, Scope::Org, Capability::OrgUsers, "x").await?;
                Ok(())
            }
            pub fn sneaky(&self, c: char) -> bool { c == '{' }
            fn helper<'a>(&'a self) -> &'a str { "" }
            pub async fn resume(&self, token: &SessionToken) -> Result<()> { Ok(()) }
        }
    "#;
    let functions = instance_functions(source);
    let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "gated",
            "delegates",
            "reads_first",
            "sneaky",
            "helper",
            "resume"
        ]
    );
    assert!(
        !functions[5].takes_session,
        "a SessionToken is not a Session"
    );
    let problems = gate_violations(&functions);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("reads_first: touches self.pool"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("sneaky: public operation without a Session"),
        "{problems:?}"
    );
}
