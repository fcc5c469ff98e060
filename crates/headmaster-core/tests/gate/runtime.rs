//! The agent runtime's path to execution: an agent's boundary-crossing call parks its run,
//! a person approves, and the call runs when the run resumes — with the arguments kept in the
//! run's checkpoint, which `execute_approved` checks against the approved hash. Changing them
//! after the approval (re-sealing the checkpoint with the workspace key, as someone holding the
//! keys could) is refused and audited, and an approved call runs once however often the run is
//! resumed.

use headmaster_core::access::Role;
use headmaster_core::states::ApprovalStatus;
use headmaster_core::states::RunStatus;
use headmaster_core::vault::seal::Aad;
use serde_json::{json, Value};

use crate::support::smtp::SmtpSink;
use crate::support::{actions, having, Gate};

const PLAYBOOK: &str = r#"
name = "mailer"
tools = ["email.send"]

[[steps]]
id = "send"
tool = "email.send"
args = { to = ["carol@partner.example"], subject = "Quote", body = "The approved quote: 100 EUR." }
reasoning = "Send the quote the customer asked for."

[[steps]]
id = "done"
finish = "sent"
"#;

/// A gate whose `mailer` agent's run has parked on its email; returns the run and request ids.
async fn parked(sink: &SmtpSink) -> (Gate, String, String) {
    let gate = Gate::new().await;
    gate.enable("email").await;
    gate.instance()
        .configure_tool(&gate.admin, gate.ws, "email", &sink.settings())
        .await
        .unwrap();
    gate.instance()
        .create_playbook_agent(&gate.admin, gate.ws, PLAYBOOK)
        .await
        .unwrap();
    let run = gate
        .fx
        .instance
        .start_run(&gate.admin, gate.ws, "mailer", "quote for Carol", true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::WaitingApproval, "{run:?}");
    let approval = run.waiting_on.clone().expect("the run waits on a request");
    assert_eq!(sink.messages().len(), 0);
    (gate, run.id, approval)
}

/// The run's checkpoint, decrypted with a second vault over the instance's keys.
async fn checkpoint(gate: &Gate, run_id: &str) -> Value {
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT state FROM runs WHERE id = ?")
        .bind(run_id)
        .fetch_one(gate.raw())
        .await
        .unwrap();
    let scope = gate.ws.to_string();
    let vault = gate.fx.test_vault().await;
    let plain = vault
        .open(&Aad::new(&scope, "runs", "state", run_id), &sealed)
        .await
        .unwrap();
    serde_json::from_slice(&plain).unwrap()
}

#[tokio::test]
async fn arguments_changed_in_the_runs_checkpoint_after_approval_are_refused() {
    let sink = SmtpSink::start();
    let (gate, run_id, approval) = parked(&sink).await;
    let approver = gate.member("paula", Role::Approver).await;

    let decision = gate.approve(&approver, &approval).await.unwrap();
    assert_eq!(decision.status, ApprovalStatus::Approved);
    assert!(
        decision.executed.is_none(),
        "an agent's call runs when its run resumes"
    );

    // After the approval, the arguments the run will present are changed.
    let mut state = checkpoint(&gate, &run_id).await;
    let pending = &mut state["pending"];
    assert_eq!(pending["approval_id"], approval.as_str());
    pending["args"]["to"] = json!(["attacker@evil.example"]);
    pending["args"]["body"] = json!("Wire 10000 EUR to the attacker.");
    let scope = gate.ws.to_string();
    let resealed = gate
        .fx
        .test_vault()
        .await
        .seal(
            &Aad::new(&scope, "runs", "state", &run_id),
            &serde_json::to_vec(&state).unwrap(),
        )
        .await
        .unwrap();
    sqlx::query("UPDATE runs SET state = ? WHERE id = ?")
        .bind(&resealed)
        .bind(&run_id)
        .execute(gate.raw())
        .await
        .unwrap();

    let mark = gate.mark().await;
    let run = gate
        .fx
        .instance
        .resume_run(&gate.admin, gate.ws, &run_id)
        .await
        .unwrap();
    assert_eq!(sink.messages().len(), 0, "changed arguments were sent");
    let events = gate.events_after(mark).await;
    let refused = having(&events, "tool.execution_refused", "denied");
    assert_eq!(refused.len(), 1, "{:?}", actions(&events));
    assert_eq!(refused[0].approval_id, approval);
    assert!(having(&events, "tool.executed", "allowed").is_empty());
    let payload = &gate.entries_after(mark, "tool.execution_refused").await[0].payload;
    assert_ne!(payload["approved_sha256"], payload["presented_sha256"]);
    assert_ne!(run.status, RunStatus::Completed, "{run:?}");
    assert_ne!(gate.status(&approval).await, "executed");
}

#[tokio::test]
async fn an_agents_approved_call_runs_once_however_often_its_run_is_resumed() {
    let sink = SmtpSink::start();
    let (gate, run_id, approval) = parked(&sink).await;
    let approver = gate.member("paula", Role::Approver).await;

    // Resuming before the decision sends nothing.
    let waiting = gate
        .fx
        .instance
        .resume_run(&gate.admin, gate.ws, &run_id)
        .await
        .unwrap();
    assert_eq!(waiting.status, RunStatus::WaitingApproval);
    assert_eq!(sink.messages().len(), 0);

    gate.approve(&approver, &approval).await.unwrap();
    let run = gate
        .fx
        .instance
        .resume_run(&gate.admin, gate.ws, &run_id)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["body"], "The approved quote: 100 EUR.");
    assert_eq!(gate.status(&approval).await, "executed");

    let again = gate
        .fx
        .instance
        .resume_run(&gate.admin, gate.ws, &run_id)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "conflict", "{again}");
    let error = gate.approve(&approver, &approval).await.unwrap_err();
    assert_eq!(error.code(), "conflict");
    assert_eq!(sink.messages().len(), 1, "an approved call ran twice");
    let executed: Vec<_> = gate
        .entries()
        .await
        .into_iter()
        .filter(|e| e.action == "tool.executed" && e.approval_id == approval)
        .collect();
    assert_eq!(executed.len(), 1);
    assert_eq!(executed[0].actor_kind, "agent");
}
