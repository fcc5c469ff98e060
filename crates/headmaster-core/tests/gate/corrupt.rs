//! Stored bodies that open but do not decode. Each is re-sealed here with the workspace key,
//! as someone holding the keys (or a bug) could leave it: authentic ciphertext of JSON that is
//! broken or of the wrong shape. Every read of one fails with `corrupt_data` naming the row,
//! where it used to show a default (an empty step, no result, a run carrying on).

use headmaster_core::approvals::PageRequest;
use headmaster_core::states::ApprovalStatus;
use headmaster_core::states::RunStatus;
use std::collections::BTreeMap;

use headmaster_core::access::Role;
use headmaster_core::approvals::GrantRequest;
use headmaster_core::vault::seal::Aad;
use headmaster_core::Error;
use serde_json::json;

use crate::support::{pending_id, Gate};

/// A playbook that writes one memory entry, then finishes.
const WRITER: &str = r#"
name = "writer"
tools = ["memory.write"]

[[steps]]
id = "write"
tool = "memory.write"
args = { key = "note", value = "written by the agent" }

[[steps]]
id = "done"
finish = "written"
"#;

/// Seals `plain` for `table.column` of row `id` in the gate's workspace and stores it there.
async fn reseal(gate: &Gate, table: &str, column: &str, id: &str, plain: &[u8]) {
    let scope = gate.ws.to_string();
    let sealed = gate
        .fx
        .test_vault()
        .await
        .seal(&Aad::new(&scope, table, column, id), plain)
        .await
        .unwrap();
    let updated = sqlx::query(&format!("UPDATE {table} SET {column} = ? WHERE id = ?"))
        .bind(&sealed)
        .bind(id)
        .execute(gate.raw())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(updated, 1, "no {table} row {id}");
}

/// Asserts that `error` reports corrupt data naming `id` and saying what to do.
fn assert_corrupt(error: &Error, what: &str, id: &str) {
    assert_eq!(error.code(), "corrupt_data", "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("{what} {id} is corrupt")),
        "{message}"
    );
    assert!(message.contains("headmaster audit verify"), "{message}");
}

/// A gate with memory enabled, writing it high tier (a call waits for an Approver), and the
/// `writer` agent defined.
async fn writer_gate() -> Gate {
    let gate = Gate::new().await;
    gate.enable("memory").await;
    gate.set_tier("memory.write", "high").await;
    gate.instance()
        .create_playbook_agent(&gate.admin, gate.ws, WRITER)
        .await
        .unwrap();
    gate
}

#[tokio::test]
async fn a_timeline_step_that_does_not_decode_fails_show_run() {
    let gate = writer_gate().await;
    gate.set_tier("memory.write", "low").await;
    let run = gate
        .fx
        .instance
        .start_run(&gate.admin, gate.ws, "writer", "take a note", true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let detail = gate
        .instance()
        .show_run(&gate.admin, gate.ws, &run.id)
        .await
        .unwrap();
    assert!(!detail.timeline.is_empty());
    assert!(detail.timeline.iter().all(|s| !s.body.is_null()));

    let step: String = sqlx::query_scalar("SELECT id FROM run_steps WHERE run_id = ? LIMIT 1")
        .bind(&run.id)
        .fetch_one(gate.raw())
        .await
        .unwrap();
    reseal(&gate, "run_steps", "body", &step, b"{\"kind\": tool_call").await;
    let error = gate
        .instance()
        .show_run(&gate.admin, gate.ws, &run.id)
        .await
        .unwrap_err();
    assert_corrupt(&error, "run step", &step);
    assert!(
        error.to_string().contains("not valid JSON at line 1"),
        "{error}"
    );
}

#[tokio::test]
async fn a_run_checkpoint_of_the_wrong_shape_stops_the_run() {
    let gate = writer_gate().await;
    let run = gate
        .fx
        .instance
        .start_run(&gate.admin, gate.ws, "writer", "take a note", true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::WaitingApproval, "{run:?}");

    // Valid JSON, but not a checkpoint.
    reseal(&gate, "runs", "state", &run.id, b"[1, 2, 3]").await;
    let error = gate
        .fx
        .instance
        .resume_run(&gate.admin, gate.ws, &run.id)
        .await
        .unwrap_err();
    assert_corrupt(&error, "run checkpoint", &run.id);
    assert!(error.to_string().contains("wrong shape"), "{error}");
}

#[tokio::test]
async fn an_approval_result_that_does_not_decode_fails_show_approval() {
    let gate = writer_gate().await;
    let approver = gate.member("paula", Role::Approver).await;
    let outcome = gate
        .propose(
            &gate.admin,
            "memory.write",
            json!({ "key": "k", "value": "v" }),
        )
        .await
        .unwrap();
    let id = pending_id(&outcome);
    let decision = gate.approve(&approver, &id).await.unwrap();
    assert_eq!(decision.status, ApprovalStatus::Executed);
    let shown = gate
        .instance()
        .show_approval(&gate.admin, gate.ws, &id)
        .await
        .unwrap();
    assert!(shown.result.is_some(), "{shown:?}");

    reseal(&gate, "approvals", "result", &id, b"not json").await;
    let error = gate
        .instance()
        .show_approval(&gate.admin, gate.ws, &id)
        .await
        .unwrap_err();
    assert_corrupt(&error, "approval result", &id);
}

#[tokio::test]
async fn a_parked_runs_call_whose_stored_result_does_not_decode_stops_the_run() {
    let gate = writer_gate().await;
    let run = gate
        .fx
        .instance
        .start_run(&gate.admin, gate.ws, "writer", "take a note", true)
        .await
        .unwrap();
    let approval = run.waiting_on.clone().expect("the run waits on a request");

    // The call ran (in another process, say) and its stored result is damaged; the run reads
    // it back when it resumes instead of running the call again.
    reseal(&gate, "approvals", "result", &approval, b"{\"ok\":").await;
    sqlx::query("UPDATE approvals SET status = 'executed' WHERE id = ?")
        .bind(&approval)
        .execute(gate.raw())
        .await
        .unwrap();
    let error = gate
        .fx
        .instance
        .resume_run(&gate.admin, gate.ws, &run.id)
        .await
        .unwrap_err();
    assert_corrupt(&error, "approval result", &approval);
    assert!(error.to_string().contains("JSON ends early"), "{error}");
    let detail = gate
        .instance()
        .show_run(&gate.admin, gate.ws, &run.id)
        .await
        .unwrap();
    assert_ne!(
        detail.summary.status,
        RunStatus::Completed,
        "{:?}",
        detail.summary
    );
}

#[tokio::test]
async fn a_grant_without_its_argument_patterns_fails_list_grants() {
    let gate = writer_gate().await;
    gate.member("oscar", Role::Operator).await;
    let created = gate
        .instance()
        .create_grant(
            &gate.admin,
            gate.ws,
            GrantRequest {
                action: "memory.write".into(),
                principal: "oscar".into(),
                args: BTreeMap::new(),
                minutes: 60,
            },
        )
        .await
        .unwrap();
    assert_eq!(created.args, json!({}));

    reseal(
        &gate,
        "grants",
        "spec",
        &created.id,
        json!({ "id": created.id, "tool": "memory", "action": "write" })
            .to_string()
            .as_bytes(),
    )
    .await;
    let error = gate
        .instance()
        .list_grants(&gate.admin, gate.ws, &PageRequest::default())
        .await
        .unwrap_err();
    assert_corrupt(&error, "grant", &created.id);
}

#[tokio::test]
async fn a_workspace_setting_that_does_not_decode_fails_reads_and_calls() {
    let gate = writer_gate().await;
    gate.instance()
        .list_tools(&gate.admin, gate.ws)
        .await
        .unwrap();

    reseal(&gate, "settings", "value", "policy", b"{\"actions\": 7}").await;
    let error = gate
        .instance()
        .list_tools(&gate.admin, gate.ws)
        .await
        .unwrap_err();
    assert_corrupt(&error, "workspace setting", "policy");
    let error = gate
        .propose(&gate.admin, "memory.read", json!({ "key": "k" }))
        .await
        .unwrap_err();
    assert_corrupt(&error, "workspace setting", "policy");
}
