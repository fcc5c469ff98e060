//! Execution is bound to what was approved. The public API never takes arguments at execution
//! (a person's call runs with the arguments sealed in its request), so these tests change the
//! stored request behind the core's back, as someone with write access to the database would:
//! a hash that no longer matches the arguments, or another request's sealed arguments moved
//! into the approved row. Either way nothing runs, and the refusal is audited.

use headmaster_core::access::Role;
use headmaster_core::tools::canonical::call_hash;
use serde_json::json;

use crate::support::{actions, having, pending_id, Gate};

async fn high_memory_gate() -> (Gate, headmaster_core::Session) {
    let gate = Gate::new().await;
    gate.enable("memory").await;
    gate.set_tier("memory.write", "high").await;
    let approver = gate.member("paula", Role::Approver).await;
    (gate, approver)
}

async fn memory_value(gate: &Gate, key: &str) -> Option<String> {
    gate.propose(&gate.admin, "memory.read", json!({ "key": key }))
        .await
        .ok()
        .map(|outcome| {
            crate::support::executed(&outcome)["value"]
                .as_str()
                .unwrap()
                .to_string()
        })
}

#[tokio::test]
async fn arguments_that_do_not_hash_to_the_approved_hash_are_not_run() {
    let (gate, approver) = high_memory_gate().await;
    let outcome = gate
        .propose(
            &gate.admin,
            "memory.write",
            json!({ "key": "limit", "value": "approved value" }),
        )
        .await
        .unwrap();
    let id = pending_id(&outcome);
    let swapped = call_hash(
        "memory.write",
        &json!({ "key": "limit", "value": "swapped value" }),
    );
    sqlx::query("UPDATE approvals SET args_hash = ? WHERE id = ?")
        .bind(&swapped)
        .bind(&id)
        .execute(gate.raw())
        .await
        .unwrap();

    let mark = gate.mark().await;
    let error = gate.approve(&approver, &id).await.unwrap_err();
    assert_eq!(error.code(), "forbidden", "{error}");
    assert!(error.to_string().contains("differ"), "{error}");
    let events = gate.events_after(mark).await;
    assert_eq!(
        actions(&events),
        ["approval.approved", "tool.execution_refused"]
    );
    assert_eq!(events[1].outcome, "denied");
    assert_eq!(events[1].approval_id, id);
    let refused = &gate.entries_after(mark, "tool.execution_refused").await[0];
    assert_eq!(refused.payload["approved_sha256"], swapped.as_str());
    assert_eq!(
        refused.payload["presented_sha256"],
        call_hash(
            "memory.write",
            &json!({ "key": "limit", "value": "approved value" })
        )
        .as_str()
    );
    assert_ne!(gate.status(&id).await, "executed");
    assert_eq!(memory_value(&gate, "limit").await, None);
}

#[tokio::test]
async fn another_requests_sealed_arguments_moved_into_an_approved_row_are_not_run() {
    let (gate, approver) = high_memory_gate().await;
    let harmless = pending_id(
        &gate
            .propose(
                &gate.admin,
                "memory.write",
                json!({ "key": "note", "value": "harmless" }),
            )
            .await
            .unwrap(),
    );
    let harmful = pending_id(
        &gate
            .propose(
                &gate.admin,
                "memory.write",
                json!({ "key": "policy", "value": "harmful" }),
            )
            .await
            .unwrap(),
    );
    // The approver will approve `harmless`; its row now carries `harmful`'s sealed arguments
    // and their (correct) hash.
    sqlx::query(
        "UPDATE approvals SET request = (SELECT request FROM approvals WHERE id = ?2),
                              args_hash = (SELECT args_hash FROM approvals WHERE id = ?2)
         WHERE id = ?1",
    )
    .bind(&harmless)
    .bind(&harmful)
    .execute(gate.raw())
    .await
    .unwrap();

    let mark = gate.mark().await;
    let error = gate.approve(&approver, &harmless).await.unwrap_err();
    assert_ne!(error.code(), "storage", "{error}");
    let events = gate.events_after(mark).await;
    assert!(
        having(&events, "tool.executed", "allowed").is_empty(),
        "{events:?}"
    );
    assert_ne!(gate.status(&harmless).await, "executed");
    assert_eq!(gate.status(&harmful).await, "pending");
    assert_eq!(
        memory_value(&gate, "policy").await,
        None,
        "the moved arguments ran"
    );
    assert_eq!(memory_value(&gate, "note").await, None);
    assert!(
        events.iter().any(|e| matches!(e.outcome.as_str(), "denied" | "failed") && e.approval_id == harmless),
        "the refused execution must be audited: {events:?}"
    );
}
