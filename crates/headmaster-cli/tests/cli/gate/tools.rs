//! `tool list|enable|disable|set-tier|config|add-rule|remove-rule|history`: changes by an
//! Admin take effect and are listed; bad input and missing capabilities are refused.

use super::{admin, audit, count, instance_with, json_as, refused};
use crate::harness::{as_user, PASSWORD};

#[test]
fn tools_and_policy_are_administered_and_every_change_is_in_the_history() {
    let cli = instance_with(&[("vera", "viewer")]);
    let list = admin(&cli, &["tool", "list"]);
    let actions = list["actions"].as_array().unwrap();
    assert!(actions.len() >= 14);
    assert!(actions.iter().all(|a| a["enabled"] == false), "{list}");

    admin(&cli, &["tool", "enable", "file"]);
    admin(
        &cli,
        &["tool", "enable", "memory.write", "--tier", "medium"],
    );
    admin(&cli, &["tool", "disable", "file.write"]);
    admin(&cli, &["tool", "set-tier", "memory.write", "high"]);
    admin(
        &cli,
        &["tool", "config", "http", "allowed_hosts=api.example.com"],
    );
    let rule = admin(
        &cli,
        &[
            "tool",
            "add-rule",
            "r1: on memory.write when arg key like secret-* then raise critical",
        ],
    );
    assert_eq!(rule["id"], "r1");
    admin(&cli, &["tool", "remove-rule", "r1"]);

    // Bad input and missing capabilities: non-zero, a stable code, nothing changed.
    refused(
        &json_as(&cli, "alice", &["tool", "config", "http", "no_such_key=1"]),
        "invalid_input",
    );
    refused(
        &json_as(&cli, "alice", &["tool", "set-tier", "file.read", "urgent"]),
        "invalid_input",
    );
    refused(
        &json_as(&cli, "alice", &["tool", "add-rule", "not a rule"]),
        "invalid_input",
    );
    refused(
        &json_as(&cli, "alice", &["tool", "remove-rule", "r1"]),
        "invalid_input",
    );
    refused(
        &json_as(&cli, "vera", &["tool", "enable", "shell"]),
        "forbidden",
    );
    refused(
        &json_as(&cli, "vera", &["tool", "set-tier", "file.read", "low"]),
        "forbidden",
    );

    let list = admin(&cli, &["tool", "list"]);
    let state = |name: &str| -> (bool, String) {
        let action = list["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap();
        (
            action["enabled"].as_bool().unwrap(),
            action["tier"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(state("file.read"), (true, "low".into()));
    assert!(!state("file.write").0);
    assert_eq!(state("memory.write"), (true, "high".into()));
    assert!(!state("shell.exec").0, "a Viewer enabled a tool");
    assert_eq!(
        list["config"]["http"]["allowed_hosts"][0],
        "api.example.com"
    );
    assert!(list["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"] != "r1"));

    let history = admin(&cli, &["tool", "history"]);
    let changes: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "policy.rule_removed",
            "policy.rule_added",
            "policy.tool_configured",
            "policy.tier_set",
            "policy.tool_disabled",
            "policy.tool_enabled",
            "policy.tool_enabled",
        ]
    );
    let text = cli.run(&["tool", "history"], &as_user("alice", PASSWORD));
    assert!(
        text.ok().stdout.contains("policy.rule_removed"),
        "{}",
        text.stdout
    );
    assert_eq!(count(&audit(&cli), "access.denied", "denied"), 2);
}
