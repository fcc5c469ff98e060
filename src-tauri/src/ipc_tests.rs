//! The shell through its IPC boundary, on Tauri's mock runtime with the real capabilities
//! (`generate_context!`): every declared command is registered and granted and nothing else is,
//! commands reach the core with the signed-in session, refusals keep their stable code, and key
//! rotation reports its progress to the calling window. The submodules cover the audit, tools,
//! approval and runtime commands and the background workers behind them.
//!
//! Instances here use passphrase protection so the tests need no keychain; the desktop
//! end-to-end suite covers the keychain.

mod approvals;
mod audit;
mod runs;
mod tools;

use std::sync::mpsc;
use std::time::Duration;

use headmaster_core::store::Layout;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Listener, Manager, WebviewWindow, WebviewWindowBuilder};

use crate::events::KEY_PROGRESS;
use crate::state::{AppState, MaintenancePhase};

const COMMANDS: &[&str] = include!("../commands.in");
const PASSWORD: &str = "correct horse battery staple";
const PASSPHRASE: &str = "a long enough passphrase";
/// How long a test waits for background work (the workers tick every second).
const PATIENCE: Duration = Duration::from_secs(20);

/// The app on the mock runtime with its data in `home`, and its main window.
fn window(home: &std::path::Path) -> WebviewWindow<tauri::test::MockRuntime> {
    let app = crate::app(mock_builder(), AppState::new(Layout::new(home)))
        .build(crate::context())
        .expect("the app builds on the mock runtime");
    WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the main window opens")
}

/// Invokes `command` as the page would; `Err` carries the rejection (ours are `{code, message}`,
/// Tauri's own are strings).
fn call(
    window: &WebviewWindow<tauri::test::MockRuntime>,
    command: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: command.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("a valid URL"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request)
        .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

fn code(rejection: &Value) -> &str {
    rejection["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not a command error: {rejection}"))
}

/// Sets up an instance (passphrase mode) with `alice` as its Admin and signs her in.
fn signed_in_admin(window: &WebviewWindow<tauri::test::MockRuntime>) {
    let request = json!({
        "org_name": "Acme Corp",
        "username": "alice",
        "password": PASSWORD,
        "protection": "passphrase",
        "passphrase": PASSPHRASE,
    });
    call(window, "setup", json!({ "request": request })).expect("setup succeeds");
    call(
        window,
        "sign_in",
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .expect("alice signs in");
}

#[test]
fn every_declared_command_is_registered_and_granted_to_the_main_window() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    for command in COMMANDS {
        // Without arguments a command either runs (and, with no instance unlocked, is refused by
        // the shell with a code) or fails to parse its arguments: both prove it was reached.
        match call(&window, command, json!({})) {
            Ok(_) => {}
            Err(Value::String(text)) => {
                assert!(
                    text.starts_with("invalid args"),
                    "{command} did not run: {text}"
                );
            }
            Err(error) => assert!(error["code"].is_string(), "{command}: {error}"),
        }
    }
}

#[test]
fn the_window_gets_nothing_it_was_not_granted() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    let capability: Value = serde_json::from_str(include_str!("../capabilities/main.json"))
        .expect("the capability is JSON");
    let mut granted: Vec<String> = capability["permissions"]
        .as_array()
        .expect("a permission list")
        .iter()
        .map(|p| p.as_str().expect("permission names").to_string())
        .collect();
    granted.sort();
    let mut expected: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .chain([
            "core:event:allow-listen".into(),
            "core:event:allow-unlisten".into(),
        ])
        .collect();
    expected.sort();
    assert_eq!(granted, expected);

    for (command, args) in [
        (
            "plugin:event|emit",
            json!({ "event": "key-rotation-progress", "payload": {} }),
        ),
        (
            "plugin:notification|notify",
            json!({ "options": { "title": "hi" } }),
        ),
        ("plugin:window|close", json!({})),
        ("not_a_command", json!({})),
    ] {
        let refused = call(&window, command, args).expect_err(command);
        let text = refused.as_str().unwrap_or_default();
        assert!(text.contains("not allowed"), "{command}: {refused}");
    }
}

#[test]
fn rotation_reports_progress_to_the_window_and_returns_its_report() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    let (tx, rx) = mpsc::channel();
    window.listen(KEY_PROGRESS, move |event| {
        let progress: Value = serde_json::from_str(event.payload()).expect("a JSON payload");
        tx.send(progress).expect("the test is listening");
    });

    let report =
        call(&window, "rotate_keys", json!({ "scope": "instance" })).expect("the Admin rotates");
    assert_eq!(report["scope"], "instance");
    assert_eq!(report["data_version"], 2);
    let rows = report["rows_reencrypted"].as_u64().expect("a row count");
    assert!(rows > 0, "{report}");

    let mut seen = Vec::new();
    while seen
        .last()
        .is_none_or(|p: &KeyProgressJson| p.done < p.total || p.total != rows)
    {
        let progress = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("progress arrives");
        seen.push(serde_json::from_value(progress).expect("a progress report"));
    }
    assert_eq!(
        seen.first().map(|p| (p.scope.as_str(), p.done)),
        Some(("instance", 0))
    );
    assert!(
        seen.windows(2).all(|w| w[0].done <= w[1].done),
        "progress went backwards"
    );

    let status = call(&window, "keys_status", json!({ "workspaceId": null })).expect("status");
    let data_versions: Vec<(u64, &str, u64)> = status["scopes"][0]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter(|v| v["purpose"] == "data")
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["state"].as_str().unwrap(),
                v["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(data_versions, vec![(1, "retired", 0), (2, "active", rows)]);
}

#[test]
fn an_operator_is_refused_admin_commands_and_keeps_working() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    let added = call(
        &window,
        "add_user",
        json!({ "username": "oscar", "password": PASSWORD, "orgRole": "operator" }),
    )
    .expect("the Admin adds a user");
    assert_eq!(added["org_role"], "Operator");
    let workspace = call(&window, "whoami", json!({})).unwrap()["workspaces"][0]["id"].clone();
    call(
        &window,
        "add_member",
        json!({ "workspaceId": workspace, "username": "oscar", "role": "operator" }),
    )
    .expect("the Admin adds a member");
    let assignable = call(&window, "list_roles", json!({ "workspaceId": workspace }))
        .expect("the workspace's Admin lists the roles to assign");
    assert_eq!(assignable.as_array().map(Vec::len), Some(4));
    call(&window, "sign_out", json!({})).expect("sign-out");
    call(
        &window,
        "sign_in",
        json!({ "username": "oscar", "password": PASSWORD }),
    )
    .expect("oscar signs in");

    for (command, args) in [
        ("list_users", json!({})),
        ("rotate_keys", json!({ "scope": "instance" })),
        (
            "remove_member",
            json!({ "workspaceId": workspace, "username": "alice" }),
        ),
        ("create_workspace", json!({ "name": "Mine" })),
        ("list_roles", json!({})),
        ("list_roles", json!({ "workspaceId": workspace })),
    ] {
        let refused = call(&window, command, args).expect_err(command);
        assert_eq!(code(&refused), "forbidden", "{command}: {refused}");
    }
    let members = call(&window, "list_members", json!({ "workspaceId": workspace }))
        .expect("an Operator lists members");
    assert_eq!(members.as_array().map(Vec::len), Some(2));
    assert_eq!(
        call(&window, "whoami", json!({})).unwrap()["username"],
        "oscar"
    );

    let malformed = call(
        &window,
        "list_members",
        json!({ "workspaceId": "Acme Corp" }),
    )
    .expect_err("not an id");
    assert_eq!(code(&malformed), "invalid_input");
}

#[test]
fn the_maintenance_pass_is_shown_to_signed_in_people_only() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    let before = call(&window, "maintain_keys", json!({})).expect_err("nobody is signed in");
    assert_eq!(code(&before), "locked");
    signed_in_admin(&window);
    let first = call(&window, "maintain_keys", json!({})).expect("the pass at unlock");
    assert_eq!(first["pass"], 1);
    assert_eq!(
        first["reports"],
        json!([]),
        "a new instance has nothing to rotate"
    );
    let second = call(&window, "maintain_keys", json!({})).expect("the same pass again");
    assert_eq!(second["pass"], 1, "asking does not start another pass");
}

/// Makes the instance's data key look `days` old, as if the app had not run for that long.
fn age_instance_key(home: &std::path::Path, days: i64) {
    tauri::async_runtime::block_on(async {
        let url = format!("sqlite://{}", Layout::new(home).instance_db().display());
        let pool = sqlx::SqlitePool::connect(&url)
            .await
            .expect("the instance database");
        sqlx::query(
            "UPDATE wrapped_keys SET created_at = created_at - ? WHERE scope = 'instance' AND purpose = 'data'",
        )
        .bind(days * 86_400_000)
        .execute(&pool)
        .await
        .expect("the key's age changes");
        pool.close().await;
    });
}

/// The instance's data-key versions, straight from the database.
fn instance_data_versions(home: &std::path::Path) -> Vec<i64> {
    tauri::async_runtime::block_on(async {
        let url = format!("sqlite://{}", Layout::new(home).instance_db().display());
        let pool = sqlx::SqlitePool::connect(&url)
            .await
            .expect("the instance database");
        let versions = sqlx::query_scalar(
            "SELECT version FROM wrapped_keys WHERE scope = 'instance' AND purpose = 'data' ORDER BY version",
        )
        .fetch_all(&pool)
        .await
        .expect("the key versions");
        pool.close().await;
        versions
    })
}

#[test]
fn an_aged_key_is_rotated_in_the_background_without_anyone_opening_the_keys_screen() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("data");
    {
        let window = window(&home);
        signed_in_admin(&window);
    }
    // Four hundred days later (past the 90-day period), the app starts again and is unlocked;
    // nobody calls any key command.
    age_instance_key(&home, 400);
    assert_eq!(instance_data_versions(&home), [1]);
    let window = window(&home);
    let mut phase = window.state::<AppState>().maintenance.subscribe();
    call(&window, "unlock", json!({ "passphrase": PASSPHRASE })).expect("unlocks");
    // The worker's first pass starts at unlock; wait for it to end, however it ends.
    let ended = tauri::async_runtime::block_on(async {
        let ended = phase.wait_for(|p| {
            matches!(
                p,
                MaintenancePhase::Done { .. } | MaintenancePhase::Failed { .. }
            )
        });
        tokio::time::timeout(PATIENCE, ended)
            .await
            .expect("the maintenance pass at unlock ended in time")
            .expect("the worker is running")
            .clone()
    });
    assert!(
        matches!(ended, MaintenancePhase::Done { .. }),
        "the pass at unlock failed: {ended:?}"
    );
    assert!(
        instance_data_versions(&home).contains(&2),
        "the aged key was not rotated: {:?}",
        instance_data_versions(&home)
    );
    // What the worker did is what the window is told after sign-in.
    call(
        &window,
        "sign_in",
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .expect("alice signs in");
    let outcome = call(&window, "maintain_keys", json!({})).expect("the pass's outcome");
    assert_eq!(outcome["reports"][0]["scope"], "instance", "{outcome}");
    assert_eq!(outcome["reports"][0]["data_version"], 2, "{outcome}");
}

/// The main window's `workspace_id` (the one created at setup).
fn first_workspace(window: &WebviewWindow<tauri::test::MockRuntime>) -> String {
    call(window, "whoami", json!({})).expect("whoami")["workspaces"][0]["id"]
        .as_str()
        .expect("a workspace id")
        .to_string()
}

/// Adds `username` with `role` in the first workspace, as the signed-in Admin.
fn add_member(window: &WebviewWindow<tauri::test::MockRuntime>, username: &str, role: &str) {
    call(
        window,
        "add_user",
        json!({ "username": username, "password": PASSWORD, "orgRole": "viewer" }),
    )
    .expect("the Admin adds a user");
    let workspace = first_workspace(window);
    call(
        window,
        "add_member",
        json!({ "workspaceId": workspace, "username": username, "role": role }),
    )
    .expect("the Admin adds a member");
}

/// Every payload of `event` the window receives from now on.
fn events(window: &WebviewWindow<tauri::test::MockRuntime>, event: &str) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    window.listen(event, move |event| {
        let payload: Value = serde_json::from_str(event.payload()).expect("a JSON payload");
        // The receiver is dropped when its test ends; later events are of no interest.
        let _ = tx.send(payload);
    });
    rx
}

/// Waits for the first payload that satisfies `wanted`, returning it and every payload before.
fn wait_for(rx: &mpsc::Receiver<Value>, what: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let payload = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; saw {seen:?}"));
        let done = wanted(&payload);
        seen.push(payload);
        if done {
            return seen;
        }
    }
}

/// The same data directory opened a second time, as another process (the CLI) would, with
/// `username` signed in there.
fn other_process(
    home: &std::path::Path,
    username: &str,
) -> (
    std::sync::Arc<headmaster_core::Instance>,
    headmaster_core::Session,
) {
    use headmaster_core::audit::Source;
    use headmaster_core::vault::keys::SecretBytes;
    use headmaster_core::{Environment, Instance, Unlock};
    tauri::async_runtime::block_on(async {
        let instance = Instance::open(
            Layout::new(home),
            Unlock {
                passphrase: Some(SecretBytes::from(PASSPHRASE.to_string())),
            },
            Environment::default(),
        )
        .await
        .expect("the data directory opens a second time");
        let signed = instance
            .sign_in(
                username,
                &SecretBytes::from(PASSWORD.to_string()),
                Source::local("cli", "ipc-tests"),
            )
            .await
            .expect("the other process signs in");
        (instance, signed.session)
    })
}

/// `KeyProgress` as the UI reads it back.
#[derive(Debug, serde::Deserialize)]
struct KeyProgressJson {
    scope: String,
    done: u64,
    total: u64,
}
