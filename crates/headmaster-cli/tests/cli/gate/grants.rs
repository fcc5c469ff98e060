//! `grant create|list|revoke`: a grant lets its principal's matching calls run, each use
//! audited with the grant's id; revoked, it does nothing.

use serde_json::Value;

use super::{admin, audit, count, instance_with, json_as, refused};

#[test]
fn grants_are_created_listed_used_and_revoked() {
    let cli = instance_with(&[("bob", "approver"), ("carol", "operator")]);
    admin(
        &cli,
        &["tool", "enable", "memory.write", "--tier", "medium"],
    );
    refused(
        &json_as(
            &cli,
            "carol",
            &["grant", "create", "memory.write", "--principal", "carol"],
        ),
        "forbidden",
    );
    refused(
        &json_as(
            &cli,
            "bob",
            &[
                "grant",
                "create",
                "memory.write",
                "--principal",
                "carol",
                "--minutes",
                "2000",
            ],
        ),
        "invalid_input",
    );
    let grant = json_as(
        &cli,
        "bob",
        &[
            "grant",
            "create",
            "memory.write",
            "--principal",
            "carol",
            "--arg",
            "key=like:notes-*",
            "--minutes",
            "30",
        ],
    )
    .ok()
    .json();
    let id = grant["id"].as_str().unwrap().to_string();
    assert_eq!(grant["active"], true);

    let used = json_as(
        &cli,
        "carol",
        &[
            "call",
            "memory.write",
            "--args",
            r#"{"key":"notes-1","value":"v"}"#,
        ],
    )
    .ok()
    .json();
    assert_eq!(used["status"], "executed");
    assert_eq!(used["grant"], id.as_str());
    let outside = json_as(
        &cli,
        "carol",
        &[
            "call",
            "memory.write",
            "--args",
            r#"{"key":"other","value":"v"}"#,
        ],
    )
    .ok()
    .json();
    assert_eq!(outside["status"], "pending");

    refused(
        &json_as(&cli, "carol", &["grant", "revoke", &id]),
        "forbidden",
    );
    json_as(&cli, "bob", &["grant", "revoke", &id]).ok();
    let list = json_as(&cli, "carol", &["grant", "list"]).ok().json()["items"].clone();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["active"], false);
    assert!(list[0]["revoked_at"].is_string());
    let after = json_as(
        &cli,
        "carol",
        &[
            "call",
            "memory.write",
            "--args",
            r#"{"key":"notes-2","value":"v"}"#,
        ],
    )
    .ok()
    .json();
    assert_eq!(after["status"], "pending", "a revoked grant was honoured");

    let events = audit(&cli);
    let uses: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "grant.used")
        .collect();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0]["target"], id.as_str());
    assert_eq!(count(&events, "grant.revoked", "allowed"), 1);
}
