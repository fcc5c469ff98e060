//! `call TOOL.ACTION --args JSON`: the decision (executed, pending with its request id, or
//! denied) on stdout, and a non-zero exit for a denial or invalid arguments.

use super::{admin, audit, count, instance_with, json_as, refused, workspace_file};
use crate::harness::{as_user, PASSWORD};

#[test]
fn call_prints_the_decision_or_the_pending_request_and_exits_non_zero_on_denial() {
    let cli = instance_with(&[]);
    admin(&cli, &["tool", "enable", "file"]);

    let ran = admin(
        &cli,
        &[
            "call",
            "file.write",
            "--args",
            r#"{"path":"drafts/a.txt","content":"draft"}"#,
        ],
    );
    assert_eq!(ran["status"], "executed");
    assert_eq!(ran["output"]["created"], true);

    let waiting = admin(
        &cli,
        &[
            "call",
            "file.write",
            "--args",
            r#"{"path":"notes/a.txt","content":"final"}"#,
            "--reason",
            "publish the notes",
        ],
    );
    assert_eq!(waiting["status"], "pending");
    assert_eq!(
        (waiting["tier"].as_str(), waiting["quorum"].as_u64()),
        (Some("high"), Some(1))
    );
    assert!(!waiting["approval_id"].as_str().unwrap().is_empty());
    assert_eq!(
        workspace_file(&cli.home, "notes/a.txt"),
        None,
        "written while pending"
    );

    let text = cli.run(
        &[
            "call",
            "file.write",
            "--args",
            r#"{"path":"notes/b.txt","content":"x"}"#,
        ],
        &as_user("alice", PASSWORD),
    );
    assert!(
        text.ok().stdout.starts_with("Waiting for approval "),
        "{}",
        text.stdout
    );

    // Denied by the policy: the decision on stdout, the error on stderr, a non-zero exit.
    let denied = json_as(
        &cli,
        "alice",
        &["call", "shell.exec", "--args", r#"{"command":"ls"}"#],
    );
    denied.failed();
    assert_eq!(denied.json()["status"], "denied");
    assert!(denied.error_json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("denied"));

    refused(
        &json_as(&cli, "alice", &["call", "file.read", "--args", "{not json"]),
        "invalid_input",
    );
    refused(
        &json_as(
            &cli,
            "alice",
            &["call", "file.read", "--args", r#"{"path":"../x"}"#],
        ),
        "invalid_input",
    );
    refused(
        &json_as(
            &cli,
            "alice",
            &[
                "call",
                "file.read",
                "--args",
                r#"{"path":"a","mode":"raw"}"#,
            ],
        ),
        "invalid_input",
    );
    refused(
        &json_as(&cli, "alice", &["call", "file.erase", "--args", "{}"]),
        "not_found",
    );

    let events = audit(&cli);
    assert_eq!(count(&events, "tool.denied", "denied"), 1);
    assert_eq!(count(&events, "tool.rejected", "denied"), 3);
    assert_eq!(count(&events, "approval.requested", "pending"), 2);
    assert_eq!(count(&events, "tool.executed", "allowed"), 1);
}
