//! Every operation passes the gate.
//!
//! The structural test reads the core's source and fails when a public `Instance` operation
//! takes a `Session` but touches `self` before `self.authorize(…)` (or before calling another
//! method that does), or when a public operation without a session appears that is not on the
//! short, reasoned list of pre-authentication and system operations. The behavioural tests call
//! every operation above a Viewer's (and an Operator's) role and check each is refused and the
//! denial recorded in the right chain.

use std::collections::BTreeMap;
use std::path::Path;

use headmaster_core::access::{BuiltinRole, Scope};
use headmaster_core::audit::AuditFilter;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::vault::{no_progress, KeyScope};
use headmaster_core::{Error, Instance, Session};
use sqlx::SqlitePool;

use crate::common::{denials, secret, Fixture, PASSWORD};

/// Operations that need a live session but no capability: anyone signed in may use them.
const SESSION_ONLY: &[(&str, &str)] = &[
    ("sign_out", "ending one's own session"),
    ("whoami", "reading one's own identity and memberships"),
    ("list_workspaces", "listing one's own memberships; shows nothing else"),
    ("resolve_workspace", "finds one of one's own workspaces through list_workspaces"),
];

/// Public `Instance` functions that take no session, and why that is right.
const NO_SESSION: &[(&str, &str)] = &[
    ("init", "creates the installation; nobody exists to authenticate yet"),
    ("open", "unlocks the installation with the keychain or passphrase"),
    ("sign_in", "authentication itself; audited, throttled"),
    ("resume", "turns a bearer token into a session; checks the session"),
    ("store_cli_token", "seals the CLI's own token after sign-in"),
    ("load_cli_token", "reads the CLI's own sealed token before resuming"),
    ("clear_cli_token", "removes the CLI's own token file at logout"),
    ("org_name", "the organisation's name for the sign-in screen"),
    ("maintain_keys", "run by the system at start: finish, age-rotate and retire keys"),
    ("subscribe", "in-process notifications for the shell: ids and states only, nothing sealed"),
    ("id", "accessor, no data"),
    ("layout", "accessor, no data"),
    ("protection", "accessor, no data"),
    ("clock", "accessor, no data"),
    ("shared_clock", "accessor, no data"),
];

/// A function found in an `impl Instance` block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Function {
    name: String,
    public: bool,
    takes_session: bool,
    /// The first `self.…` the body touches: a method name with `(`, or a field name.
    first_self_use: Option<String>,
}

/// Blanks comments and the contents of string and character literals (keeping byte offsets),
/// so braces and text inside them cannot confuse the scan.
fn strip_literals(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = bytes.to_vec();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(bytes.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < bytes.len() && depth > 0 {
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if bytes[i] == b'r'
            && (i == 0 || !ident(bytes[i - 1]) || (bytes[i - 1] == b'b' && (i < 2 || !ident(bytes[i - 2]))))
            && matches!(rest.get(1), Some(b'"') | Some(b'#'))
            && rest[1..].iter().skip_while(|&&b| b == b'#').next() == Some(&b'"')
        {
            let hashes = rest[1..].iter().take_while(|&&b| b == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = i + 2 + hashes;
            let end = bytes[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(bytes.len(), |p| body + p + close.len());
            blank(&mut out, body, end - close.len());
            i = end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else if bytes[i] == b'\'' {
            // A character literal ('x', '\n', '\u{..}', 'é'), or else a lifetime.
            let literal_end = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|&b| b == b'\'').map(|p| i + 2 + p)
            } else {
                source[i + 1..]
                    .chars()
                    .next()
                    .map(|c| i + 1 + c.len_utf8())
                    .filter(|&end| bytes.get(end) == Some(&b'\''))
            };
            match literal_end {
                Some(end) => {
                    blank(&mut out, i + 1, end);
                    i = end + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were blanked")
}

/// The offset just past the bracket matching the one at `open`.
fn matching(text: &[u8], open: usize) -> usize {
    let (o, c) = (text[open], if text[open] == b'{' { b'}' } else { b')' });
    let mut depth = 0;
    for (i, &b) in text.iter().enumerate().skip(open) {
        if b == o {
            depth += 1;
        } else if b == c {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
    }
    panic!("unbalanced brackets");
}

/// The functions of every `impl Instance` block in `source`.
fn instance_functions(source: &str) -> Vec<Function> {
    let clean = strip_literals(source);
    let text = clean.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = clean[from..].find("impl Instance") {
        let start = from + at;
        let after = &clean[start + "impl Instance".len()..];
        if !after.trim_start().starts_with('{') {
            from = start + 1;
            continue;
        }
        let open = start + "impl Instance".len() + after.find('{').unwrap();
        let close = matching(text, open);
        let mut depth = 0;
        let mut i = open + 1;
        while i < close - 1 {
            match text[i] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b'f' if depth == 0
                    && clean[i..].starts_with("fn ")
                    && (i == 0 || text[i - 1].is_ascii_whitespace()) =>
                {
                    let prefix = clean[..i].rsplit(['{', '}', ';']).next().unwrap_or("");
                    let public = prefix.split_whitespace().any(|w| w == "pub");
                    let name: String = clean[i + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let params_open = i + clean[i..].find('(').unwrap();
                    let params_close = matching(text, params_open);
                    let params: String = clean[params_open..params_close].split_whitespace().collect();
                    let body_open = params_close + clean[params_close..].find(['{', ';']).unwrap();
                    let body_close = if text[body_open] == b'{' { matching(text, body_open) } else { body_open };
                    let body = &clean[body_open..body_close];
                    let first_self_use = first_self_use(body);
                    out.push(Function {
                        name,
                        public,
                        takes_session: params.contains(":&Session,") || params.contains(":&Session)"),
                        first_self_use,
                    });
                    i = body_close;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        from = close;
    }
    out
}

/// The first member of `self` a body uses (`self.x`, `self\n    .x(`): `name(` for a method
/// call, `name` for a field.
fn first_self_use(body: &str) -> Option<String> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = body[from..].find("self") {
        let start = from + at;
        from = start + 4;
        if body[..start].chars().next_back().is_some_and(word) {
            continue;
        }
        let Some(rest) = body[from..].trim_start().strip_prefix('.') else {
            continue;
        };
        let rest = rest.trim_start();
        let member: String = rest.chars().take_while(|c| word(*c)).collect();
        if member.is_empty() {
            continue;
        }
        let call = rest[member.len()..].trim_start().starts_with('(');
        return Some(if call { format!("{member}(") } else { member });
    }
    None
}

/// Problems found: public operations that skip the gate or are unaccounted for.
fn gate_violations(functions: &[Function]) -> Vec<String> {
    // A function is gated if its first use of `self` is the gate, or a call to a gated method.
    let mut capability: Vec<&str> = vec!["authorize"];
    let mut session_only: Vec<&str> = vec!["session_state"];
    loop {
        let before = (capability.len(), session_only.len());
        for f in functions.iter().filter(|f| f.takes_session) {
            let Some(first) = f.first_self_use.as_deref().and_then(|u| u.strip_suffix('(')) else {
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
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
    let gated: Vec<&str> = functions.iter().filter(|f| f.public && f.takes_session).map(|f| f.name.as_str()).collect();
    for known in ["add_member", "create_role", "rotate_keys", "keys_status", "list_users", "delete_workspace", "sign_out"] {
        assert!(gated.contains(&known), "the scan missed {known}: {gated:?}");
    }
    assert!(gated.len() >= 25, "{gated:?}");
    let problems = gate_violations(&functions);
    assert!(problems.is_empty(), "{problems:#?}");
    // Every listed exception still exists (stale entries would hide a future operation).
    for (name, _) in SESSION_ONLY.iter().chain(NO_SESSION) {
        assert!(functions.iter().any(|f| f.public && f.name == *name), "{name} is listed but gone");
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
    assert_eq!(names, ["gated", "delegates", "reads_first", "sneaky", "helper", "resume"]);
    assert!(!functions[5].takes_session, "a SessionToken is not a Session");
    let problems = gate_violations(&functions);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("reads_first: touches self.pool"), "{problems:?}");
    assert!(problems[1].starts_with("sneaky: public operation without a Session"), "{problems:?}");
}

/// Calls every operation that needs more than `session`'s role and returns, per operation, the
/// error and the chain that must hold its denial (`true`: the instance chain).
async fn above_role(i: &Instance, session: &Session, w: WorkspaceId) -> Vec<(&'static str, bool, Error)> {
    let mut out = Vec::new();
    let mut push = |action: &'static str, instance: bool, result: Result<(), Error>| {
        out.push((action, instance, result.expect_err(action)));
    };
    push("member.add", false, i.add_member(session, w, "bob", "viewer").await);
    push("member.set_role", false, i.set_member_role(session, w, "alice", "viewer").await);
    push("member.remove", false, i.remove_member(session, w, "alice").await);
    push("workspace.rename", false, i.rename_workspace(session, w, "Mine now").await);
    push("workspace.delete", false, i.delete_workspace(session, w).await);
    push("keys.status", false, i.keys_status(session, Some(w)).await.map(drop));
    push("keys.rotate", false, i.rotate_keys(session, KeyScope::Workspace(w), &no_progress).await.map(drop));
    push("keys.retire", false, i.retire_unused_keys(session, KeyScope::Workspace(w)).await.map(drop));
    push("user.add", true, i.add_user(session, "mallory", &secret(PASSWORD), BuiltinRole::Viewer).await.map(drop));
    push("user.list", true, i.list_users(session).await.map(drop));
    push("user.disable", true, i.disable_user(session, "alice").await);
    push("user.enable", true, i.enable_user(session, "alice").await);
    push("user.set_role", true, i.set_org_role(session, "bob", BuiltinRole::Admin).await);
    push("role.create", true, i.create_role(session, "mine", &["workspace.read".into()]).await.map(drop));
    push("role.list", true, i.list_roles(session).await.map(drop));
    push("role.delete", true, i.delete_role(session, "existing").await);
    push("workspace.create", true, i.create_workspace(session, "Another").await.map(drop));
    push("keys.status", true, i.keys_status(session, None).await.map(drop));
    push("keys.rotate", true, i.rotate_keys(session, KeyScope::Instance, &no_progress).await.map(drop));
    push("keys.retire", true, i.retire_unused_keys(session, KeyScope::Instance).await.map(drop));
    push("keys.rotate_kek", true, i.rotate_kek(session, Some(secret("a brand new passphrase"))).await.map(drop));
    push("keys.set_period", true, i.set_rotation_period(session, 30).await);
    push(
        "audit.query",
        true,
        i.query_audit(session, Scope::Org, &AuditFilter::default()).await.map(drop),
    );
    out
}

/// `access.denied` records per (chain, operation) where the instance chain is `true`.
async fn denial_counts(
    instance: &SqlitePool,
    workspace: &SqlitePool,
    results: &[(&'static str, bool, Error)],
) -> BTreeMap<(bool, &'static str), i64> {
    let mut out = BTreeMap::new();
    for (action, in_instance, _) in results {
        let pool = if *in_instance { instance } else { workspace };
        out.insert((*in_instance, *action), denials(pool, action).await);
    }
    out
}

#[tokio::test]
async fn roles_below_admin_are_refused_everything_above_them_and_each_refusal_is_recorded() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    fx.instance.create_role(&admin, "existing", &["audit.read".into()]).await.unwrap();
    let instance_pool = fx.raw().await;
    let workspace_pool = fx.raw_workspace(w).await;
    for (user, role) in [
        ("vera", BuiltinRole::Viewer),
        ("otto", BuiltinRole::Operator),
        ("april", BuiltinRole::Approver),
    ] {
        let session = fx.user(&admin, user, role).await;
        fx.instance.add_member(&admin, w, user, role.name()).await.unwrap();
        // What the role allows still works.
        let members = fx.instance.list_members(&session, w).await.unwrap();
        assert!(members.iter().any(|m| m.username == user));
        fx.instance
            .query_audit(&session, Scope::Workspace(w), &AuditFilter::default())
            .await
            .unwrap();

        let first = above_role(&fx.instance, &session, w).await;
        let before = denial_counts(&instance_pool, &workspace_pool, &first).await;
        let again = above_role(&fx.instance, &session, w).await;
        let after = denial_counts(&instance_pool, &workspace_pool, &again).await;
        let mut calls: BTreeMap<(bool, &str), i64> = BTreeMap::new();
        for (action, in_instance, error) in &again {
            assert_eq!(error.code(), "forbidden", "{user} {action}: {error}");
            *calls.entry((*in_instance, *action)).or_default() += 1;
        }
        for (key, count) in calls {
            let chain = if key.0 { "instance" } else { "workspace" };
            assert_eq!(after[&key] - before[&key], count, "{user}: denials of {} in the {chain} chain", key.1);
        }
        assert_eq!(members.len(), fx.instance.list_members(&admin, w).await.unwrap().len());
        assert_eq!(fx.instance.list_workspaces(&admin).await.unwrap()[0].name, "Acme");
    }
}

#[tokio::test]
async fn a_non_member_gets_not_found_and_the_denial_is_recorded_in_the_instance_chain() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    let outsider = fx.user(&admin, "olga", BuiltinRole::Viewer).await;
    let pool = fx.raw().await;
    let workspace_events = crate::common::actions(&fx.raw_workspace(w).await).await.len();
    let results = above_role(&fx.instance, &outsider, w).await;
    for (action, in_instance, error) in &results {
        let expected = if *in_instance { "forbidden" } else { "not_found" };
        assert_eq!(error.code(), expected, "{action}: {error}");
    }
    assert_eq!(denials(&pool, "member.add").await, 1);
    assert_eq!(denials(&pool, "workspace.delete").await, 1);
    assert_eq!(denials(&pool, "keys.status").await, 2);
    assert_eq!(
        crate::common::actions(&fx.raw_workspace(w).await).await.len(),
        workspace_events,
        "a non-member's attempts reached the workspace's file"
    );
    assert!(fx.instance.list_members(&outsider, w).await.is_err());
}
