//! `workspace`, `user`, `member`, `role` and `keys` driven as a script would, with `--json`:
//! what they print, and how refusals look (non-zero exit, `{"error":{"code",…}}`, nothing
//! changed, the denial on record).

use headmaster_core::access::Scope;
use headmaster_core::audit::{AuditFilter, Source};
use headmaster_core::instance::Environment;
use headmaster_core::store::Layout;
use headmaster_core::vault::keys::SecretBytes;
use headmaster_core::{Instance, Unlock};
use serde_json::Value;

use crate::harness::{as_user, Cli, Run, PASSPHRASE, PASSWORD};

const USER_PASSWORD: &str = "a new user's long password";

/// Runs `--json args…` as `user`.
fn json_as(cli: &Cli, user: &str, password: &str, args: &[&str]) -> Run {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    cli.run(&all, &as_user(user, password))
}

/// Runs `--json args…` as alice, the first Admin, and returns the JSON printed.
fn admin(cli: &Cli, args: &[&str]) -> Value {
    json_as(cli, "alice", PASSWORD, args).ok().json()
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v[field].as_str().unwrap().to_string())
        .collect()
}

/// Adds `user` with an org role, reading the password from an environment variable.
fn add_user(cli: &Cli, user: &str, org_role: &str) -> Value {
    let mut env = as_user("alice", PASSWORD);
    env.push(("NEW_USER_PASSWORD", USER_PASSWORD));
    cli.run(
        &[
            "--json",
            "user",
            "add",
            user,
            "--password-env",
            "NEW_USER_PASSWORD",
            "--org-role",
            org_role,
        ],
        &env,
    )
    .ok()
    .json()
}

/// A refusal: non-zero exit, nothing on stdout, the error code on stderr.
fn refused(run: &Run, code: &str) {
    run.failed();
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert_eq!(run.error_json()["error"]["code"], code, "{}", run.stderr);
}

#[test]
fn workspaces_users_members_and_roles_round_trip_as_json() {
    let cli = Cli::new();
    cli.init().ok();

    let created = admin(&cli, &["workspace", "create", "Research"]);
    assert_eq!(created["name"], "Research");
    assert_eq!(created["role"], "Admin");
    assert_eq!(
        names(&admin(&cli, &["workspace", "list"]), "name"),
        ["Acme", "Research"]
    );
    let renamed = admin(&cli, &["workspace", "rename", "research", "Lab"]);
    assert_eq!(renamed["name"], "Lab");
    assert_eq!(renamed["id"], created["id"]);

    let bob = add_user(&cli, "bob", "viewer");
    assert_eq!(bob["username"], "bob");
    assert_eq!(bob["org_role"], "Viewer");
    assert_eq!(
        names(&admin(&cli, &["user", "list"]), "username"),
        ["alice", "bob"]
    );

    let role = admin(
        &cli,
        &[
            "role",
            "create",
            "reviewers",
            "--capabilities",
            "workspace.read,audit.read",
        ],
    );
    assert_eq!(role["name"], "reviewers");
    assert_eq!(
        role["capabilities"],
        serde_json::json!(["workspace.read", "audit.read"])
    );
    let roles = admin(&cli, &["role", "list"]);
    assert_eq!(
        names(&roles, "name"),
        ["Viewer", "Operator", "Approver", "Admin", "reviewers"]
    );

    admin(
        &cli,
        &[
            "--workspace",
            "Lab",
            "member",
            "add",
            "bob",
            "--role",
            "reviewers",
        ],
    );
    let members = admin(&cli, &["--workspace", "Lab", "member", "list"]);
    assert_eq!(names(&members, "username"), ["alice", "bob"]);
    assert_eq!(names(&members, "role"), ["Admin", "reviewers"]);
    admin(
        &cli,
        &[
            "--workspace",
            "Lab",
            "member",
            "set-role",
            "bob",
            "operator",
        ],
    );
    let members = admin(&cli, &["--workspace", "Lab", "member", "list"]);
    assert_eq!(names(&members, "role"), ["Admin", "Operator"]);
    let me = json_as(&cli, "bob", USER_PASSWORD, &["whoami"]).ok().json();
    assert_eq!(
        names(&me["workspaces"], "name"),
        ["Lab"],
        "bob sees only his workspace"
    );
    admin(&cli, &["--workspace", "Lab", "member", "remove", "bob"]);
    assert_eq!(
        names(
            &admin(&cli, &["--workspace", "Lab", "member", "list"]),
            "username"
        ),
        ["alice"]
    );

    assert_eq!(
        admin(&cli, &["role", "delete", "reviewers"])["deleted"],
        "reviewers"
    );
    assert_eq!(names(&admin(&cli, &["role", "list"]), "name").len(), 4);

    assert_eq!(admin(&cli, &["user", "disable", "bob"])["disabled"], "bob");
    let users = admin(&cli, &["user", "list"]);
    assert_eq!(users[1]["disabled"], true);
    refused(
        &json_as(&cli, "bob", USER_PASSWORD, &["whoami"]),
        "account_disabled",
    );

    refused(
        &json_as(&cli, "alice", PASSWORD, &["workspace", "delete", "Lab"]),
        "error",
    );
    assert_eq!(
        names(&admin(&cli, &["workspace", "list"]), "name"),
        ["Acme", "Lab"]
    );
    assert_eq!(
        admin(&cli, &["workspace", "delete", "Lab", "--yes"])["deleted"],
        created["id"]
    );
    assert_eq!(
        names(&admin(&cli, &["workspace", "list"]), "name"),
        ["Acme"]
    );
}

#[test]
fn bad_input_is_refused_with_a_clear_code_and_changes_nothing() {
    let cli = Cli::new();
    cli.init().ok();
    add_user(&cli, "bob", "viewer");
    for (args, code) in [
        (vec!["workspace", "create", "ACME"], "already_exists"),
        (
            vec!["member", "add", "nobody", "--role", "viewer"],
            "not_found",
        ),
        (
            vec!["member", "add", "bob", "--role", "wizard"],
            "not_found",
        ),
        (vec!["member", "remove", "alice"], "conflict"),
        (vec!["member", "set-role", "alice", "viewer"], "conflict"),
        (
            vec!["--workspace", "Nowhere", "member", "list"],
            "not_found",
        ),
        (
            vec!["role", "create", "x", "--capabilities", "fly.to_the_moon"],
            "invalid_input",
        ),
        (vec!["user", "disable", "alice"], "conflict"),
    ] {
        refused(&json_as(&cli, "alice", PASSWORD, &args), code);
    }
    assert_eq!(
        names(&admin(&cli, &["workspace", "list"]), "name"),
        ["Acme"]
    );
    let members = admin(&cli, &["member", "list"]);
    assert_eq!(names(&members, "username"), ["alice"]);
    assert_eq!(names(&members, "role"), ["Admin"]);
    assert_eq!(names(&admin(&cli, &["role", "list"]), "name").len(), 4);
}

#[tokio::test]
async fn a_viewer_calling_operator_and_admin_commands_is_refused_and_recorded() {
    let cli = Cli::new();
    cli.init().ok();
    add_user(&cli, "vera", "viewer");
    admin(&cli, &["member", "add", "vera", "--role", "viewer"]);

    // What a Viewer may do works.
    let members = json_as(&cli, "vera", USER_PASSWORD, &["member", "list"])
        .ok()
        .json();
    assert_eq!(names(&members, "username"), ["alice", "vera"]);

    let attempts: [&[&str]; 7] = [
        &["member", "add", "alice", "--role", "viewer"],
        &["member", "set-role", "alice", "viewer"],
        &["workspace", "rename", "Acme", "Mine"],
        &["keys", "rotate", "--workspace", "Acme"],
        &["workspace", "create", "Shadow"],
        &[
            "user",
            "add",
            "mallory",
            "--password-env",
            "HEADMASTER_PASSWORD",
        ],
        &["role", "create", "sneaky", "--capabilities", "key.manage"],
    ];
    for args in attempts {
        let run = json_as(&cli, "vera", USER_PASSWORD, args);
        refused(&run, "forbidden");
        let message = run.error_json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains("permission denied"), "{message}");
    }
    assert_eq!(
        names(&admin(&cli, &["workspace", "list"]), "name"),
        ["Acme"]
    );
    assert_eq!(
        names(&admin(&cli, &["user", "list"]), "username"),
        ["alice", "vera"]
    );

    // Each refusal is in the audit log: workspace operations in the workspace's chain,
    // organisation operations in the instance chain.
    let instance = Instance::open(
        Layout::new(&cli.home),
        Unlock {
            passphrase: Some(SecretBytes::from(PASSPHRASE.to_string())),
        },
        Environment::default(),
    )
    .await
    .unwrap();
    let session = instance
        .sign_in(
            "alice",
            &SecretBytes::from(PASSWORD.to_string()),
            Source::local("test", "cli-tests"),
        )
        .await
        .unwrap()
        .session;
    let acme = instance
        .resolve_workspace(&session, Some("Acme"))
        .await
        .unwrap()
        .id
        .parse()
        .unwrap();
    let denied = |page: headmaster_core::audit::AuditPage| -> Vec<String> {
        let mut targets: Vec<String> = page.entries.into_iter().map(|e| e.target).collect();
        targets.sort();
        targets
    };
    let filter = AuditFilter {
        action: Some("access.denied".into()),
        ..AuditFilter::default()
    };
    let in_workspace = instance
        .query_audit(&session, Scope::Workspace(acme), &filter)
        .await
        .unwrap();
    assert_eq!(
        denied(in_workspace),
        [
            "keys.rotate",
            "member.add",
            "member.set_role",
            "workspace.rename"
        ]
    );
    let in_instance = instance
        .query_audit(&session, Scope::Org, &filter)
        .await
        .unwrap();
    assert_eq!(
        denied(in_instance),
        ["role.create", "user.add", "workspace.create"]
    );
}

#[test]
fn keys_status_and_rotate() {
    let cli = Cli::new();
    cli.init().ok();
    let status = admin(&cli, &["keys", "status"]);
    assert_eq!(status["protection"], "passphrase");
    assert_eq!(status["kek_version"], 1);
    let instance = &status["scopes"][0];
    assert_eq!(instance["scope"], "instance");
    let data: Vec<&Value> = instance["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["purpose"] == "data")
        .collect();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["state"], "active");
    assert_eq!(
        data[0]["rows"], 3,
        "org name, the Admin's password hash, the workspace's name"
    );
    assert_eq!(status["scopes"][1]["name"], "Acme");

    // Waits for the retirement grace period before destroying the old key.
    let rotated = admin(&cli, &["keys", "rotate"]);
    assert_eq!(rotated["scope"], "instance");
    assert_eq!(rotated["data_version"], 2);
    assert_eq!(rotated["rows_reencrypted"], 3);
    assert_eq!(rotated["retired"], serde_json::json!([1]));

    let after = admin(&cli, &["keys", "status"]);
    let versions: Vec<(u64, String, u64)> = after["scopes"][0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["purpose"] == "data")
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_string(),
                v["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(versions, [(2, "active".to_string(), 3)]);
    assert!(after["scopes"][0]["last_rotation"].is_string());
    // Everything is still readable under the new key.
    let me = admin(&cli, &["whoami"]);
    assert_eq!(me["org_name"], "Acme");
    assert_eq!(me["workspaces"][0]["name"], "Acme");
}

/// The instance's data-key versions, straight from the database.
async fn instance_data_versions(pool: &sqlx::SqlitePool) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT version FROM wrapped_keys WHERE scope = 'instance' AND purpose = 'data' ORDER BY version",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_overdue_rotation_is_announced_not_run_before_a_command_and_keys_maintain_does_it() {
    let cli = Cli::new();
    cli.init().ok();
    let url = format!(
        "sqlite://{}",
        Layout::new(&cli.home).instance_db().display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    // As if nobody had run Headmaster for 400 days (the period is 90).
    sqlx::query(
        "UPDATE wrapped_keys SET created_at = created_at - ? WHERE scope = 'instance' AND purpose = 'data'",
    )
    .bind(400 * 86_400_000_i64)
    .execute(&pool)
    .await
    .unwrap();

    let whoami = cli.run(&["whoami"], &as_user("alice", PASSWORD));
    whoami.ok();
    assert!(
        whoami.stderr.contains(
            "note: the keys of instance are due for re-encryption (its data key is 400 days old)"
        ),
        "{}",
        whoami.stderr
    );
    assert!(
        whoami.stderr.contains("headmaster keys maintain"),
        "{}",
        whoami.stderr
    );
    assert_eq!(
        instance_data_versions(&pool).await,
        [1],
        "a command unrelated to keys does not re-encrypt"
    );

    let maintained = admin(&cli, &["keys", "maintain"]);
    assert_eq!(
        maintained["rotations"][0]["scope"], "instance",
        "{maintained}"
    );
    assert_eq!(maintained["rotations"][0]["data_version"], 2);
    assert_eq!(maintained["due"], serde_json::json!([]));
    assert!(instance_data_versions(&pool).await.contains(&2));

    let again = cli.run(&["whoami"], &as_user("alice", PASSWORD));
    again.ok();
    assert!(
        !again.stderr.contains("due for re-encryption"),
        "{}",
        again.stderr
    );
    pool.close().await;
}

#[test]
fn a_bad_run_concurrency_setting_is_refused_with_what_to_set() {
    let cli = Cli::new();
    cli.init().ok();
    for bad in ["0", "many", "100000"] {
        let mut env = as_user("alice", PASSWORD);
        env.push(("HEADMASTER_MAX_CONCURRENT_RUNS", bad));
        let run = cli.run(&["whoami"], &env);
        run.failed();
        assert!(
            run.stderr
                .contains("set it to a whole number from 1 to 256"),
            "{bad}: {}",
            run.stderr
        );
    }
    let mut env = as_user("alice", PASSWORD);
    env.push(("HEADMASTER_MAX_CONCURRENT_RUNS", "2"));
    cli.run(&["whoami"], &env).ok();
}
