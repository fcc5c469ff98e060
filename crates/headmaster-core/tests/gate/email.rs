//! `email.send` against a real SMTP server on loopback: nothing is sent while a request waits,
//! the message goes out with exactly the approved recipients and body once the right people
//! approved, and it goes out once, whatever is decided afterwards or at the same moment.

use headmaster_core::access::Role;
use headmaster_core::approvals::PageRequest;
use headmaster_core::states::ApprovalStatus;
use headmaster_core::tools::CallOutcome;
use serde_json::{json, Value};

use crate::common::denials;
use crate::support::smtp::SmtpSink;
use crate::support::{actions, having, pending_id, pending_tier, Gate};

/// A gate with email enabled, sending through `sink`, `acme.test` as the own domain.
async fn email_gate(sink: &SmtpSink) -> Gate {
    let gate = Gate::new().await;
    gate.enable("email").await;
    gate.instance()
        .configure_tool(&gate.admin, gate.ws, "email", &sink.settings())
        .await
        .unwrap();
    gate.instance()
        .set_own_domains(&gate.admin, gate.ws, &["acme.test".to_string()])
        .await
        .unwrap();
    gate
}

fn recipients(message: &Value) -> Vec<String> {
    let mut all: Vec<String> = message["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn email_is_sent_only_after_approval_to_the_exact_recipients_and_exactly_once() {
    let sink = SmtpSink::start();
    let gate = email_gate(&sink).await;
    let operator = gate.member("oscar", Role::Operator).await;
    let approver = gate.member("paula", Role::Approver).await;
    let second = gate.member("quinn", Role::Approver).await;
    let body = "Hello Carol,\n\nthe signed contract is attached in spirit.\n\nAcme\n";

    let mark = gate.mark().await;
    let outcome = gate
        .propose(
            &gate.admin,
            "email.send",
            json!({
                "to": ["carol@partner.example"],
                "cc": ["dan@acme.test"],
                "bcc": ["audit@acme.test"],
                "subject": "Contract",
                "body": body
            }),
        )
        .await
        .unwrap();
    // A recipient outside the workspace's domain makes it high: one Approver.
    assert_eq!(pending_tier(&outcome), ("high".to_string(), 1));
    let id = pending_id(&outcome);
    assert_eq!(sink.messages().len(), 0, "sent while pending");

    let detail = gate
        .instance()
        .show_approval(&approver, gate.ws, &id)
        .await
        .unwrap();
    assert_eq!(detail.affected["kind"], "email");
    let shown: Vec<&str> = detail.affected["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown,
        ["carol@partner.example", "dan@acme.test", "audit@acme.test"]
    );
    assert!(detail.affected["body_preview"]
        .as_str()
        .unwrap()
        .starts_with("Hello Carol"));

    // Neither an Operator nor the requester can send it.
    let error = gate.approve(&operator, &id).await.unwrap_err();
    assert_eq!(error.code(), "forbidden");
    let error = gate.approve(&gate.admin, &id).await.unwrap_err();
    assert_eq!(error.code(), "forbidden");
    assert_eq!(sink.messages().len(), 0, "sent without an Approver");
    assert_eq!(gate.status(&id).await, "pending");

    let decision = gate.approve(&approver, &id).await.unwrap();
    assert_eq!(decision.status, ApprovalStatus::Executed);
    assert!(matches!(
        decision.executed,
        Some(CallOutcome::Executed { .. })
    ));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["mail_from"], "agents@acme.test");
    assert_eq!(
        recipients(&messages[0]),
        ["audit@acme.test", "carol@partner.example", "dan@acme.test"]
    );
    assert_eq!(messages[0]["subject"], "Contract");
    assert_eq!(messages[0]["body"], body);

    // Deciding again — another Approver, or the same one — sends nothing more.
    for who in [&second, &approver] {
        let error = gate.approve(who, &id).await.unwrap_err();
        assert_eq!(error.code(), "conflict", "{error}");
    }
    assert_eq!(sink.messages().len(), 1, "an approved call ran twice");

    let events = gate.events_after(mark).await;
    assert_eq!(
        actions(&events),
        [
            "tool.proposed",
            "approval.requested",
            "access.denied",
            "approval.decision_refused",
            "approval.approved",
            "approval.executing",
            "tool.executed",
            "approval.decision_refused",
            "approval.decision_refused",
        ]
    );
    assert_eq!(denials(gate.raw(), "approval.decide").await, 1);
    let ran = having(&events, "tool.executed", "allowed");
    assert_eq!(ran[0].approval_id, id);
    let refused = gate.entries_after(mark, "approval.decision_refused").await;
    assert!(refused[0].payload["reason"]
        .as_str()
        .unwrap()
        .contains("proposed"));
    assert!(refused[1].payload["reason"]
        .as_str()
        .unwrap()
        .contains("already executed"));
    let detail = gate
        .instance()
        .show_approval(&approver, gate.ws, &id)
        .await
        .unwrap();
    assert_eq!(detail.decisions.len(), 1);
    assert_eq!(detail.decisions[0].decider, "paula");
    assert!(detail.result.is_some());
    assert!(!detail.summary.can_decide);
}

#[tokio::test]
async fn a_critical_email_needs_a_second_distinct_approver() {
    let sink = SmtpSink::start();
    let gate = email_gate(&sink).await;
    let first = gate.member("paula", Role::Approver).await;
    let second = gate.member("quinn", Role::Approver).await;
    let to: Vec<String> = (1..=11)
        .map(|n| format!("member{n:02}@acme.test"))
        .collect();

    let outcome = gate
        .propose(
            &gate.admin,
            "email.send",
            json!({ "to": to, "subject": "All hands", "body": "Meeting at noon.\n" }),
        )
        .await
        .unwrap();
    // More than ten recipients: critical, two Approvers.
    assert_eq!(pending_tier(&outcome), ("critical".to_string(), 2));
    let id = pending_id(&outcome);

    let after_one = gate.approve(&first, &id).await.unwrap();
    assert_eq!(
        (
            after_one.status.as_str(),
            after_one.approvals,
            after_one.quorum
        ),
        ("pending", 1, 2)
    );
    assert!(after_one.executed.is_none());
    assert_eq!(sink.messages().len(), 0, "sent after one of two approvals");

    // The same Approver again does not count as the second.
    let mark = gate.mark().await;
    let error = gate.approve(&first, &id).await.unwrap_err();
    assert_eq!(error.code(), "conflict");
    assert_eq!(
        actions(&gate.events_after(mark).await),
        ["approval.decision_refused"]
    );
    assert_eq!(sink.messages().len(), 0);
    let listed = gate
        .instance()
        .list_approvals(&second, gate.ws, Some("pending"), &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert!(listed[0].can_decide && listed[0].approvals == 1);
    let listed = gate
        .instance()
        .list_approvals(&first, gate.ws, Some("pending"), &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert!(!listed[0].can_decide, "one who voted cannot vote again");

    let done = gate.approve(&second, &id).await.unwrap();
    assert_eq!((done.status.as_str(), done.approvals), ("executed", 2));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let mut expected = to.clone();
    expected.sort();
    assert_eq!(recipients(&messages[0]), expected);
}

#[tokio::test]
async fn two_approvers_deciding_at_the_same_moment_send_the_message_once() {
    let sink = SmtpSink::start();
    let gate = email_gate(&sink).await;
    let first = gate.member("paula", Role::Approver).await;
    let second = gate.member("quinn", Role::Approver).await;
    for round in 0..3 {
        let outcome = gate
            .propose(
                &gate.admin,
                "email.send",
                json!({ "to": ["carol@partner.example"], "subject": format!("Round {round}"), "body": "x\n" }),
            )
            .await
            .unwrap();
        let id = pending_id(&outcome);
        let (a, b) = tokio::join!(gate.approve(&first, &id), gate.approve(&second, &id));
        let refused = match (a, b) {
            (Ok(_), Err(refused)) | (Err(refused), Ok(_)) => refused,
            (a, b) => panic!("round {round}: exactly one decision must win: {a:?} / {b:?}"),
        };
        assert_eq!(refused.code(), "conflict", "{refused}");
        assert_eq!(gate.status(&id).await, "executed");
        assert_eq!(sink.messages().len(), round + 1, "round {round}");
    }
}
