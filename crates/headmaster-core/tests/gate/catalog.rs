//! The catalog is deny-by-default: disabled tools and actions, calls by people without the
//! capability, and arguments outside an action's schema are all refused before anything runs,
//! and each refusal is in the workspace's audit chain. Policy changes are audited and listed.

use headmaster_core::access::Role;
use headmaster_core::Error;
use serde_json::json;

use crate::common::denials;
use crate::support::{actions, denied, executed, having, pending_tier, Gate};

#[tokio::test]
async fn every_action_is_denied_until_an_admin_enables_it_and_after_it_is_disabled() {
    let gate = Gate::new().await;
    let overview = gate
        .instance()
        .list_tools(&gate.admin, gate.ws)
        .await
        .unwrap();
    assert!(overview.actions.len() >= 14, "{:?}", overview.actions.len());
    let enabled: Vec<&str> = overview
        .actions
        .iter()
        .filter(|a| a.enabled)
        .map(|a| a.name.as_str())
        .collect();
    assert!(enabled.is_empty(), "enabled out of the box: {enabled:?}");

    // A disabled tool: every one of its actions is denied, and the denial is audited.
    for (action, args) in [
        ("file.read", json!({ "path": "notes.txt" })),
        ("memory.write", json!({ "key": "k", "value": "v" })),
        ("shell.exec", json!({ "command": "true" })),
        (
            "email.send",
            json!({ "to": ["bob@acme.test"], "subject": "s", "body": "b" }),
        ),
        ("http.get", json!({ "url": "https://example.com/" })),
    ] {
        let mark = gate.mark().await;
        let outcome = gate.propose(&gate.admin, action, args).await.unwrap();
        let reasons = denied(&outcome);
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("disabled") || r.contains("not enabled")),
            "{action}: {reasons:?}"
        );
        let events = gate.events_after(mark).await;
        assert_eq!(
            actions(&events),
            ["tool.proposed", "tool.denied"],
            "{action}"
        );
        assert_eq!(events[1].outcome, "denied");
        assert_eq!(events[1].target, action);
    }

    // Enabling a tool enables its actions; disabling one action denies just that one.
    gate.enable("file").await;
    gate.instance()
        .disable_tool(&gate.admin, gate.ws, "file.write")
        .await
        .unwrap();
    std::fs::write(gate.files_created().join("notes.txt"), "hello").unwrap();
    let read = gate
        .propose(&gate.admin, "file.read", json!({ "path": "notes.txt" }))
        .await
        .unwrap();
    assert_eq!(executed(&read)["content"], "hello");
    let mark = gate.mark().await;
    let write = gate
        .propose(
            &gate.admin,
            "file.write",
            json!({ "path": "drafts/a.txt", "content": "x" }),
        )
        .await
        .unwrap();
    denied(&write);
    assert!(!gate.files().join("drafts/a.txt").exists());
    let events = gate.events_after(mark).await;
    assert_eq!(having(&events, "tool.denied", "denied").len(), 1);
    assert!(having(&events, "tool.executed", "allowed").is_empty());

    // The catalog reports the state an Admin set.
    let overview = gate
        .instance()
        .list_tools(&gate.admin, gate.ws)
        .await
        .unwrap();
    let state = |name: &str| {
        overview
            .actions
            .iter()
            .find(|a| a.name == name)
            .unwrap()
            .enabled
    };
    assert!(state("file.read") && state("file.list"));
    assert!(!state("file.write") && !state("email.send"));
}

#[tokio::test]
async fn only_admins_change_tools_policy_and_credentials_and_viewers_call_nothing() {
    let gate = Gate::new().await;
    let operator = gate.member("oscar", Role::Operator).await;
    let viewer = gate.member("vera", Role::Viewer).await;
    let i = gate.instance();
    let ws = gate.ws;
    let pairs = vec![("allowed_hosts".to_string(), "example.com".to_string())];

    let refusals: Vec<(&str, Error)> = vec![
        (
            "tool.enable",
            i.enable_tool(&operator, ws, "file", None)
                .await
                .unwrap_err(),
        ),
        (
            "tool.disable",
            i.disable_tool(&operator, ws, "file").await.unwrap_err(),
        ),
        (
            "tool.configure",
            i.configure_tool(&operator, ws, "http", &pairs)
                .await
                .unwrap_err(),
        ),
        (
            "tool.set_tier",
            i.set_tool_tier(&operator, ws, "file", "low")
                .await
                .unwrap_err(),
        ),
        (
            "tool.add_rule",
            i.add_rule(&operator, ws, "r1: on file.read then raise high")
                .await
                .unwrap_err(),
        ),
        (
            "credential.set",
            i.set_credential(&operator, ws, "API", "v")
                .await
                .unwrap_err(),
        ),
        (
            "credential.list",
            i.list_credentials(&operator, ws).await.unwrap_err(),
        ),
        (
            "credential.delete",
            i.delete_credential(&operator, ws, "API").await.unwrap_err(),
        ),
        (
            "tool.call",
            gate.propose(&viewer, "file.read", json!({ "path": "a" }))
                .await
                .unwrap_err(),
        ),
    ];
    for (operation, error) in &refusals {
        assert_eq!(error.code(), "forbidden", "{operation}: {error}");
        assert_eq!(
            denials(gate.raw(), operation).await,
            1,
            "{operation} refused but not audited once"
        );
    }
    // Nothing changed.
    let overview = i.list_tools(&gate.admin, ws).await.unwrap();
    assert!(overview.actions.iter().all(|a| !a.enabled));
    assert!(overview.config.http.allowed_hosts.is_empty());
    assert!(overview.rules.iter().all(|r| r.id != "r1"));
    assert!(i
        .list_credentials(&gate.admin, ws)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn arguments_outside_the_schema_are_rejected_and_audited_before_the_policy() {
    let gate = Gate::new().await;
    for tool in ["file", "email", "http", "shell", "memory", "draft"] {
        gate.enable(tool).await;
    }
    let bad = [
        ("file.read", json!({ "path": "a.txt", "extra": 1 })),
        ("file.read", json!({ "path": 5 })),
        ("file.read", json!(["a.txt"])),
        ("file.write", json!({ "path": "drafts/a.txt" })),
        (
            "file.write",
            json!({ "path": "drafts/a.txt", "content": "x", "encoding": "rot13" }),
        ),
        (
            "email.send",
            json!({ "to": "bob@acme.test", "subject": "s", "body": "b" }),
        ),
        (
            "email.send",
            json!({ "to": ["not an address"], "subject": "s", "body": "b" }),
        ),
        (
            "email.send",
            json!({ "to": [], "subject": "s", "body": "b" }),
        ),
        (
            "email.send",
            json!({ "to": ["bob@acme.test"], "subject": "s", "body": "{{credential:SMTP}}" }),
        ),
        ("http.get", json!({ "url": "ftp://example.com/file" })),
        (
            "http.get",
            json!({ "url": "https://example.com/", "body": "x" }),
        ),
        (
            "http.post",
            json!({ "url": "https://example.com/", "headers": { "Host": "evil" } }),
        ),
        ("shell.exec", json!({ "command": "" })),
        ("shell.exec", json!({ "command": "ls", "cwd": "../.." })),
        ("shell.exec", json!({ "command": "ls", "cwd": "/etc" })),
        (
            "shell.exec",
            json!({ "command": "echo {{credential:API}}" }),
        ),
        ("memory.write", json!({ "key": "k" })),
        (
            "draft.save",
            json!({ "title": "t", "body": "b", "author": "me" }),
        ),
        ("file.delete", json!({ "path": "a.txt" })),
    ];
    for (action, args) in bad {
        let mark = gate.mark().await;
        let error = gate
            .propose(&gate.admin, action, args.clone())
            .await
            .expect_err(&format!("{action} {args} was accepted"));
        assert!(
            matches!(error.code(), "invalid_input" | "not_found"),
            "{action} {args}: {error}"
        );
        let events = gate.events_after(mark).await;
        assert_eq!(
            actions(&events),
            ["tool.rejected"],
            "{action} {args}: the rejection must be the only event"
        );
        assert_eq!(events[0].outcome, "denied");
        assert_eq!(events[0].target, action);
        let entry = &gate.entries_after(mark, "tool.rejected").await[0];
        assert!(
            !entry.payload["error"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{action}: the audit payload says why: {}",
            entry.payload
        );
    }
    assert!(!gate.files().join("drafts").exists());
}

#[tokio::test]
async fn policy_changes_are_audited_listed_as_history_and_take_effect() {
    let gate = Gate::new().await;
    let i = gate.instance();
    gate.enable("memory").await;
    let rule = i
        .add_rule(
            &gate.admin,
            gate.ws,
            "secret-keys: on memory.write when arg key like secret-* then raise high # keys that hold secrets",
        )
        .await
        .unwrap();
    assert_eq!(rule.id, "secret-keys");

    // The rule raises a matching call to high; other keys still run at once.
    let raised = gate
        .propose(
            &gate.admin,
            "memory.write",
            json!({ "key": "secret-a", "value": "v" }),
        )
        .await
        .unwrap();
    assert_eq!(pending_tier(&raised), ("high".to_string(), 1));
    let plain = gate
        .propose(
            &gate.admin,
            "memory.write",
            json!({ "key": "plain", "value": "v" }),
        )
        .await
        .unwrap();
    assert_eq!(executed(&plain)["written"], true);

    i.remove_rule(&gate.admin, gate.ws, "secret-keys")
        .await
        .unwrap();
    let after = gate
        .propose(
            &gate.admin,
            "memory.write",
            json!({ "key": "secret-b", "value": "v" }),
        )
        .await
        .unwrap();
    executed(&after);
    gate.set_tier("memory.write", "medium").await;
    let medium = gate
        .propose(
            &gate.admin,
            "memory.write",
            json!({ "key": "plain", "value": "w" }),
        )
        .await
        .unwrap();
    assert_eq!(pending_tier(&medium), ("medium".to_string(), 1));
    gate.configure("file", &[("max_read_bytes", "4096")]).await;
    i.disable_tool(&gate.admin, gate.ws, "memory")
        .await
        .unwrap();

    let history = i.policy_history(&gate.admin, gate.ws).await.unwrap();
    let listed: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        listed,
        [
            "policy.tool_disabled",
            "policy.tool_configured",
            "policy.tier_set",
            "policy.rule_removed",
            "policy.rule_added",
            "policy.tool_enabled",
        ],
        "newest first"
    );
    assert!(history.iter().all(|e| e.actor_name == "alice"));
    assert_eq!(history[3].payload["rule_id"], "secret-keys");
    assert_eq!(history[2].payload["tier"], "medium");

    // A rule that does not parse changes nothing and says why.
    let error = i
        .add_rule(
            &gate.admin,
            gate.ws,
            "broken: on memory.write when then deny",
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_input");
    assert_eq!(
        i.policy_history(&gate.admin, gate.ws).await.unwrap().len(),
        6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_of_a_new_memory_key_all_succeed_into_one_entry() {
    let gate = std::sync::Arc::new(Gate::new().await);
    gate.enable("memory").await;
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let gate = std::sync::Arc::clone(&gate);
            tokio::spawn(async move {
                gate.propose(
                    &gate.admin,
                    "memory.write",
                    json!({ "key": "shared", "value": format!("writer {i}") }),
                )
                .await
            })
        })
        .collect();
    for writer in writers {
        let outcome = writer.await.unwrap().expect("every writer succeeds");
        assert_eq!(executed(&outcome)["written"], true);
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory")
        .fetch_one(gate.raw())
        .await
        .unwrap();
    assert_eq!(rows, 1, "one key, one entry");
    let value = gate
        .propose(&gate.admin, "memory.read", json!({ "key": "shared" }))
        .await
        .unwrap();
    assert!(executed(&value)["value"]
        .as_str()
        .is_some_and(|v| v.starts_with("writer ")));
}
