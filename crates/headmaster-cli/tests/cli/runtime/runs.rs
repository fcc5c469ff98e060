//! `run start|list|show|cancel|resume` and `draft list|show`: a playbook run that waits for
//! another Operator's confirmation, is resumed and leaves a draft; a cancelled run; bad input.

use serde_json::Value;

use super::{file, json_as, ok, refused, team, USER_PASSWORD};
use crate::harness::as_user;

/// Reads the client's notes, then drafts the update from them.
const NOTES_TO_DRAFT: &str = r#"
name = "notes-to-draft"
tools = ["memory.read", "draft.save"]

[[steps]]
id = "notes"
tool = "memory.read"
args = { key = "client-notes" }

[[steps]]
id = "draft"
tool = "draft.save"
args = { key = "cli-update", title = "Update: {{task}}", body = "For {{task}}: {{steps.notes.output.value}}" }

[[steps]]
id = "done"
finish = "drafted version {{steps.draft.output.version}}"
"#;

#[test]
fn a_run_waits_for_another_operator_is_resumed_and_leaves_a_draft() {
    let cli = team();
    ok(json_as(
        &cli,
        "alice",
        &["tool", "set-tier", "draft.save", "medium"],
    ));
    ok(json_as(
        &cli,
        "alice",
        &[
            "agent",
            "create",
            "--playbook",
            &file(&cli, "notes.toml", NOTES_TO_DRAFT),
        ],
    ));

    let run = ok(json_as(
        &cli,
        "bob",
        &["run", "start", "notes-to-draft", "--task", "Client Corp"],
    ));
    assert_eq!(run["status"], "waiting_confirmation");
    assert_eq!(run["agent_name"], "notes-to-draft");
    assert_eq!(run["started_by"], "bob");
    let run_id = run["id"].as_str().unwrap().to_string();
    let request = run["waiting_on"].as_str().unwrap().to_string();
    let listed = ok(json_as(&cli, "dave", &["run", "list"]));
    assert_eq!(listed[0]["id"], run["id"]);
    assert_eq!(listed[0]["stalled"], false);
    let shown = ok(json_as(&cli, "dave", &["run", "show", &run_id]));
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tool_call", "result", "tool_call", "decision"]);
    assert_eq!(
        shown["timeline"][3]["body"]["approval_id"],
        Value::from(request.clone())
    );
    refused(
        &json_as(&cli, "bob", &["approval", "approve", &request]),
        "forbidden",
    );
    ok(json_as(&cli, "dave", &["approval", "approve", &request]));

    let done = ok(json_as(&cli, "bob", &["run", "resume", &run_id]));
    assert_eq!(done["status"], "completed");
    assert_eq!(done["outcome"], "drafted version 1");
    let drafts = ok(json_as(&cli, "dave", &["draft", "list"]));
    assert_eq!(drafts.as_array().unwrap().len(), 1);
    assert_eq!(drafts[0]["key"], "cli-update");
    assert_eq!(drafts[0]["title"], "Update: Client Corp");
    assert_eq!(drafts[0]["run_id"], Value::from(run_id.clone()));
    let draft = ok(json_as(&cli, "dave", &["draft", "show", "cli-update"]));
    assert_eq!(draft["versions"][0][0]["version"], 1);
    assert_eq!(
        draft["versions"][0][1],
        "For Client Corp: shipped the importer"
    );
    let text = cli.run(
        &["draft", "show", "cli-update"],
        &as_user("dave", USER_PASSWORD),
    );
    assert!(
        text.ok()
            .stdout
            .contains("For Client Corp: shipped the importer"),
        "{}",
        text.stdout
    );
    refused(
        &json_as(&cli, "bob", &["run", "resume", &run_id]),
        "conflict",
    );

    // A second run is cancelled while it waits; it cannot be resumed or cancelled again.
    let text = cli.run(
        &["run", "start", "notes-to-draft", "--task", "Globex"],
        &as_user("bob", USER_PASSWORD),
    );
    let line = text.ok().stdout.clone();
    assert!(
        line.contains("is waiting_confirmation (waiting on "),
        "{line}"
    );
    let second = ok(json_as(&cli, "bob", &["run", "list"]))
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["task"] == "Globex")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(line.contains(&second), "{line}");
    assert_eq!(
        ok(json_as(&cli, "bob", &["run", "cancel", &second]))["status"],
        "cancelled"
    );
    refused(
        &json_as(&cli, "bob", &["run", "resume", &second]),
        "conflict",
    );
    refused(
        &json_as(&cli, "bob", &["run", "cancel", &second]),
        "conflict",
    );
    let pending = ok(json_as(&cli, "dave", &["approval", "list"]))["items"].clone();
    assert_eq!(
        pending.as_array().unwrap().len(),
        0,
        "the cancelled run's request is withdrawn: {pending}"
    );

    // Bad input.
    let message = refused(
        &json_as(&cli, "bob", &["run", "start", "nobody", "--task", "x"]),
        "not_found",
    );
    assert!(message.contains("nobody"), "{message}");
    refused(
        &json_as(
            &cli,
            "bob",
            &["run", "start", "notes-to-draft", "--task", ""],
        ),
        "invalid_input",
    );
    refused(
        &json_as(
            &cli,
            "bob",
            &["run", "show", "01a21d5d-0000-7000-8000-000000000000"],
        ),
        "not_found",
    );
    refused(
        &json_as(&cli, "bob", &["draft", "show", "no-such-draft"]),
        "not_found",
    );
    assert_eq!(
        ok(json_as(&cli, "bob", &["run", "list"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
