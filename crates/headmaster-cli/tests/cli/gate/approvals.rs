//! `approval list|show|approve|reject`: the inbox shows who may decide, the detail shows the
//! diff, and only the right people decide, once.

use super::{admin, audit, count, instance_with, json_as, refused, workspace_file};

#[test]
fn approvals_are_listed_shown_and_decided_by_the_right_people_only() {
    let cli = instance_with(&[("bob", "approver"), ("carol", "operator")]);
    admin(&cli, &["tool", "enable", "file"]);
    // Two requests wait: both write outside drafts/, which is high.
    admin(
        &cli,
        &[
            "call",
            "file.write",
            "--args",
            r#"{"path":"notes/plan.txt","content":"old\n"}"#,
        ],
    );
    let id = admin(
        &cli,
        &[
            "call",
            "file.write",
            "--args",
            r#"{"path":"notes/plan.txt","content":"new\n"}"#,
        ],
    )["approval_id"]
        .as_str()
        .unwrap()
        .to_string();
    let inbox = json_as(&cli, "bob", &["approval", "list"]).ok().json()["items"].clone();
    let mine = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .unwrap();
    assert_eq!(mine["can_decide"], true);
    assert_eq!(mine["on_behalf_of_name"], "alice");
    let theirs = json_as(&cli, "carol", &["approval", "list"]).ok().json()["items"].clone();
    assert!(theirs
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["can_decide"] == false));

    let detail = json_as(&cli, "bob", &["approval", "show", &id]).ok().json();
    assert_eq!(detail["affected"]["path"], "notes/plan.txt");
    assert!(
        detail["affected"]["diff"]
            .as_str()
            .unwrap()
            .contains("+new"),
        "{detail}"
    );
    assert_eq!(detail["args"]["content"], "new\n");

    refused(
        &json_as(&cli, "alice", &["approval", "approve", &id]),
        "forbidden",
    );
    refused(
        &json_as(&cli, "carol", &["approval", "approve", &id]),
        "forbidden",
    );
    refused(
        &json_as(&cli, "bob", &["approval", "approve", "no-such-id"]),
        "not_found",
    );
    let approved = json_as(
        &cli,
        "bob",
        &["approval", "approve", &id, "--comment", "fine"],
    )
    .ok()
    .json();
    assert_eq!(approved["status"], "executed");
    assert_eq!(
        workspace_file(&cli.home, "notes/plan.txt").as_deref(),
        Some("new\n")
    );
    refused(
        &json_as(&cli, "bob", &["approval", "approve", &id]),
        "conflict",
    );

    let other = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] != id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rejected = json_as(
        &cli,
        "bob",
        &["approval", "reject", &other, "--comment", "not now"],
    )
    .ok()
    .json();
    assert_eq!(rejected["status"], "rejected");
    refused(
        &json_as(&cli, "bob", &["approval", "approve", &other]),
        "conflict",
    );
    let decided = json_as(&cli, "alice", &["approval", "list", "--status", "decided"])
        .ok()
        .json()["items"]
        .clone();
    assert_eq!(decided.as_array().unwrap().len(), 2);
    let shown = json_as(&cli, "alice", &["approval", "show", &other])
        .ok()
        .json();
    assert_eq!(shown["decisions"][0]["comment"], "not now");
    assert_eq!(shown["decisions"][0]["decider"], "bob");
    assert_eq!(
        workspace_file(&cli.home, "notes/plan.txt").as_deref(),
        Some("new\n")
    );
    refused(
        &json_as(&cli, "alice", &["approval", "list", "--status", "maybe"]),
        "invalid_input",
    );

    let events = audit(&cli);
    assert_eq!(count(&events, "approval.decision_refused", "denied"), 3);
    assert_eq!(count(&events, "access.denied", "denied"), 1);
    assert_eq!(count(&events, "approval.approved", "allowed"), 1);
    assert_eq!(count(&events, "approval.rejected", "allowed"), 1);
}
