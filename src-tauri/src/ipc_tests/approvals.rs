//! The approvals inbox and its watcher: a request filed by another process (the CLI) reaches
//! the signed-in Approver's inbox without any command from the window — the watcher announces
//! it with `approvals-changed` — and, approved from the window, runs once; standing grants are
//! created, listed and revoked.

use headmaster_core::store::Layout;
use headmaster_core::tools::Tier;
use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
use serde_json::{json, Value};

use super::{
    add_member, call, code, events, first_workspace, other_process, signed_in_admin, wait_for,
    window,
};
use crate::events::APPROVALS_CHANGED;

#[test]
fn a_request_from_another_process_is_announced_shown_with_its_diff_and_runs_once_approved() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let window = window(&data);
    signed_in_admin(&window);
    add_member(&window, "oscar", "operator");
    let ws = first_workspace(&window);
    call(
        &window,
        "enable_tool",
        json!({ "workspaceId": ws, "target": "file", "tier": null }),
    )
    .unwrap();
    let changes = events(&window, APPROVALS_CHANGED);

    let (cli, oscar) = other_process(&data, "oscar");
    let outcome = tauri::async_runtime::block_on(cli.propose_call(
        &oscar,
        ws.parse().unwrap(),
        CallRequest {
            action: "file.write".into(),
            args: json!({ "path": "notes/x.txt", "content": "hello\nworld\n" }),
            reasoning: Some("Keep the meeting notes".into()),
            proposer: Proposer::User,
        },
    ))
    .expect("the Operator proposes");
    let CallOutcome::Pending {
        approval_id, tier, ..
    } = outcome
    else {
        panic!("a write outside drafts/ waits for approval: {outcome:?}");
    };
    assert_eq!(tier, Tier::High);

    wait_for(&changes, "the new request", |c| {
        c["new"] == json!([approval_id]) && c["pending"] == 1
    });
    let inbox = call(
        &window,
        "list_approvals",
        json!({ "workspaceId": ws, "status": "pending" }),
    )
    .unwrap()["items"]
        .clone();
    assert_eq!(inbox.as_array().map(Vec::len), Some(1));
    assert_eq!(inbox[0]["can_decide"], true);
    assert_eq!(inbox[0]["on_behalf_of_name"], "oscar");

    let detail = call(
        &window,
        "show_approval",
        json!({ "workspaceId": ws, "id": approval_id }),
    )
    .unwrap();
    assert_eq!(detail["affected"]["kind"], "file_write");
    let diff = detail["affected"]["diff"].as_str().unwrap();
    assert!(diff.contains("+hello\n+world"), "{diff}");
    assert_eq!(detail["reasoning"], "Keep the meeting notes");
    assert!(detail["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_str().unwrap().contains("drafts/")));

    let decided = call(
        &window,
        "decide_approval",
        json!({ "workspaceId": ws, "id": approval_id, "decision": "approve", "comment": "fine" }),
    )
    .unwrap();
    assert_eq!(decided["status"], "executed", "{decided}");
    assert_eq!(
        (decided["approvals"].as_u64(), decided["quorum"].as_u64()),
        (Some(1), Some(1))
    );
    let written = Layout::new(&data)
        .workspace_files(ws.parse().unwrap())
        .join("notes/x.txt");
    assert_eq!(std::fs::read_to_string(written).unwrap(), "hello\nworld\n");

    wait_for(&changes, "the emptied inbox", |c| c["pending"] == 0);
    let again = call(
        &window,
        "decide_approval",
        json!({ "workspaceId": ws, "id": approval_id, "decision": "approve", "comment": null }),
    )
    .expect_err("a decided request");
    assert_eq!(code(&again), "conflict", "{again}");
    let decided_list = call(
        &window,
        "list_approvals",
        json!({ "workspaceId": ws, "status": "decided" }),
    )
    .unwrap()["items"]
        .clone();
    assert_eq!(decided_list[0]["status"], "executed");
    let shown = call(
        &window,
        "show_approval",
        json!({ "workspaceId": ws, "id": approval_id }),
    )
    .unwrap();
    assert_eq!(shown["decisions"][0]["comment"], "fine");
}

#[test]
fn grants_are_created_listed_and_revoked() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    add_member(&window, "oscar", "operator");
    let ws = first_workspace(&window);

    let grant = call(
        &window,
        "create_grant",
        json!({ "workspaceId": ws, "grant": {
            "action": "email.send", "principal": "oscar", "args": { "to": "like:*@acme.test" }, "minutes": 60,
        } }),
    )
    .unwrap();
    assert_eq!(grant["active"], true);
    let listed =
        call(&window, "list_grants", json!({ "workspaceId": ws })).unwrap()["items"].clone();
    assert_eq!(ids(&listed), vec![grant["id"].clone()]);
    call(
        &window,
        "revoke_grant",
        json!({ "workspaceId": ws, "id": grant["id"] }),
    )
    .unwrap();
    let listed =
        call(&window, "list_grants", json!({ "workspaceId": ws })).unwrap()["items"].clone();
    assert_eq!(listed[0]["active"], false);
    assert!(listed[0]["revoked_at"].is_string());

    let too_long = call(
        &window,
        "create_grant",
        json!({ "workspaceId": ws, "grant": { "action": "email.send", "principal": "oscar", "minutes": 1441 } }),
    )
    .expect_err("more than 24 hours");
    assert_eq!(code(&too_long), "invalid_input", "{too_long}");
    let bad = call(
        &window,
        "decide_approval",
        json!({ "workspaceId": ws, "id": "x", "decision": "maybe" }),
    )
    .expect_err("not a decision");
    assert_eq!(code(&bad), "invalid_input");
}

fn ids(list: &Value) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].clone())
        .collect()
}
