//! Runs through the shell: a run started from the window is queued and driven by the runtime
//! worker, not by the command; it waits for approval, and when the request is rejected in
//! another process the worker resumes it to the end. The timeline, the draft and the updates
//! sent to the window show each step.

use headmaster_core::approvals::ApprovalDecision;
use serde_json::{json, Value};

use super::{
    add_member, call, events, first_workspace, other_process, signed_in_admin, wait_for, window,
};
use crate::events::RUN_UPDATED;

#[test]
fn a_started_run_is_driven_by_the_worker_and_resumed_after_a_decision_elsewhere() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let window = window(&data);
    signed_in_admin(&window);
    add_member(&window, "ann", "approver");
    let ws = first_workspace(&window);

    let examples = call(&window, "example_playbooks", json!({})).unwrap();
    let weekly = examples
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "weekly-client-update")
        .expect("the weekly update example")
        .clone();
    let agent = call(
        &window,
        "install_example_playbook",
        json!({ "workspaceId": ws, "file": weekly["file"] }),
    )
    .unwrap();
    assert_eq!(agent["name"], "weekly-client-update");
    assert_eq!(
        call(&window, "list_agents", json!({ "workspaceId": ws })).unwrap()[0]["name"],
        "weekly-client-update"
    );
    for tool in ["memory", "draft", "email"] {
        call(
            &window,
            "enable_tool",
            json!({ "workspaceId": ws, "target": tool, "tier": null }),
        )
        .unwrap();
    }
    let settings = [
        ("host", "127.0.0.1"),
        ("port", "2525"),
        ("tls", "none"),
        ("from", "agents@acme.test"),
    ]
    .map(|(key, value)| json!({ "key": key, "value": value }));
    call(
        &window,
        "configure_tool",
        json!({ "workspaceId": ws, "tool": "email", "settings": settings }),
    )
    .unwrap();
    for (key, value) in [
        ("client-notes", "Shipped v2."),
        ("client-email", "carol@client.test"),
    ] {
        call(
            &window,
            "write_memory",
            json!({ "workspaceId": ws, "key": key, "value": value }),
        )
        .unwrap();
    }
    assert_eq!(
        call(&window, "list_memory", json!({ "workspaceId": ws }))
            .unwrap()
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    let updates = events(&window, RUN_UPDATED);
    let run = call(
        &window,
        "start_run",
        json!({ "workspaceId": ws, "agent": "weekly-client-update", "task": "Client Co" }),
    )
    .unwrap();
    assert_eq!(
        run["status"], "queued",
        "the command does not drive the run itself"
    );
    let run_id = run["id"].as_str().unwrap().to_string();
    let seen = wait_for(&updates, "the run to wait for approval", |u| {
        u["run_id"] == run_id.as_str() && u["status"] == "waiting_approval"
    });
    assert!(seen.iter().any(|u| u["status"] == "running"), "{seen:?}");
    assert!(
        seen.iter().all(|u| u["workspace_id"] == ws.as_str()),
        "{seen:?}"
    );

    let waiting = call(
        &window,
        "show_run",
        json!({ "workspaceId": ws, "runId": run_id }),
    )
    .unwrap();
    let approval = waiting["waiting_on"]
        .as_str()
        .expect("the request it waits for")
        .to_string();
    assert_eq!(
        kinds(&waiting)[..4],
        ["tool_call", "result", "tool_call", "result"]
    );
    assert_eq!(kinds(&waiting).last().map(String::as_str), Some("decision"));
    assert_eq!(waiting["drafts"][0]["key"], "weekly-update");
    // The starter may not decide their own run's request.
    let inbox = call(
        &window,
        "list_approvals",
        json!({ "workspaceId": ws, "status": "pending" }),
    )
    .unwrap()["items"]
        .clone();
    assert_eq!(inbox[0]["id"], approval.as_str());
    assert_eq!(inbox[0]["can_decide"], false);

    let (cli, ann) = other_process(&data, "ann");
    tauri::async_runtime::block_on(cli.decide_approval(
        &ann,
        ws.parse().unwrap(),
        &approval,
        ApprovalDecision::Reject,
        Some("not this week"),
    ))
    .expect("the Approver rejects");
    wait_for(&updates, "the run to complete", |u| {
        u["run_id"] == run_id.as_str() && u["status"] == "completed"
    });

    let done = call(
        &window,
        "show_run",
        json!({ "workspaceId": ws, "runId": run_id }),
    )
    .unwrap();
    let outcome = done["outcome"].as_str().unwrap();
    assert!(outcome.contains("not sent"), "{outcome}");
    assert_eq!(kinds(&done).last().map(String::as_str), Some("finish"));
    let draft = call(
        &window,
        "show_draft",
        json!({ "workspaceId": ws, "id": "weekly-update" }),
    )
    .unwrap();
    let body = draft["versions"][0][1].as_str().unwrap();
    assert!(body.contains("Shipped v2."), "{body}");
    let runs = call(&window, "list_runs", json!({ "workspaceId": ws })).unwrap();
    assert_eq!(
        (runs[0]["id"].as_str(), runs[0]["status"].as_str()),
        (Some(run_id.as_str()), Some("completed"))
    );
    let drafts = call(&window, "list_drafts", json!({ "workspaceId": ws })).unwrap();
    assert_eq!(drafts.as_array().map(Vec::len), Some(1));
}

fn kinds(run: &Value) -> Vec<String> {
    run["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap().to_string())
        .collect()
}
