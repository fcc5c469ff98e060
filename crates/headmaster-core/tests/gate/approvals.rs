//! Who may decide what: the tier table (medium: Operator, Approver or Admin; high: Approver or
//! Admin; critical: two distinct Approvers), and the refusals — self-approval, an Operator on a
//! high request, a Viewer on a medium one, a second vote, an expired or already decided
//! request — each audited and changing nothing.

use headmaster_core::access::Role;
use headmaster_core::approvals::ExpiryConfig;
use headmaster_core::approvals::PageRequest;
use headmaster_core::states::ApprovalDecision;
use headmaster_core::states::ApprovalStatus;
use headmaster_core::tools::Proposer;
use headmaster_core::Session;
use serde_json::json;

use crate::common::denials;
use crate::support::{actions, having, pending_id, Gate};

/// Proposes a `memory.write` of `key` as the Admin at whatever tier `memory.write` has now.
async fn request(gate: &Gate, key: &str) -> String {
    let outcome = gate
        .propose(
            &gate.admin,
            "memory.write",
            json!({ "key": key, "value": "v" }),
        )
        .await
        .unwrap();
    pending_id(&outcome)
}

/// Whether `memory.write` of `key` ran (read back through the tool, as the Admin).
async fn written(gate: &Gate, key: &str) -> bool {
    gate.propose(&gate.admin, "memory.read", json!({ "key": key }))
        .await
        .is_ok()
}

async fn memory_gate() -> Gate {
    let gate = Gate::new().await;
    gate.enable("memory").await;
    gate
}

#[tokio::test]
async fn the_tier_table_decides_who_may_decide() {
    let gate = memory_gate().await;
    let viewer = gate.member("vera", Role::Viewer).await;
    let operator = gate.member("oscar", Role::Operator).await;
    let approver = gate.member("paula", Role::Approver).await;
    let approver2 = gate.member("quinn", Role::Approver).await;
    let admin2 = gate.member("adam", Role::Admin).await;
    let people: [(&str, &Session); 5] = [
        ("viewer", &viewer),
        ("operator", &operator),
        ("approver", &approver),
        ("approver2", &approver2),
        ("admin2", &admin2),
    ];
    let table: [(&str, &[&str]); 3] = [
        ("medium", &["operator", "approver", "approver2", "admin2"]),
        ("high", &["approver", "approver2", "admin2"]),
        ("critical", &["approver", "approver2", "admin2"]),
    ];
    for (tier, allowed) in table {
        gate.set_tier("memory.write", tier).await;
        let probe = request(&gate, &format!("{tier}-probe")).await;
        let capability = if tier == "medium" {
            "approval.confirm"
        } else {
            "approval.decide"
        };
        for (name, session) in people {
            let listed = gate
                .instance()
                .list_approvals(session, gate.ws, Some("pending"), &PageRequest::default())
                .await
                .unwrap()
                .items;
            let entry = listed.iter().find(|a| a.id == probe).unwrap();
            assert_eq!(entry.tier.as_str(), tier);
            assert_eq!(entry.can_decide, allowed.contains(&name), "{tier}: {name}");
            if !allowed.contains(&name) {
                let before = denials(gate.raw(), capability).await;
                let error = gate.approve(session, &probe).await.unwrap_err();
                assert_eq!(error.code(), "forbidden", "{tier}: {name}");
                assert_eq!(
                    denials(gate.raw(), capability).await,
                    before + 1,
                    "{tier}: {name}"
                );
            }
        }
        assert_eq!(
            gate.status(&probe).await,
            "pending",
            "a refusal changed {tier}"
        );

        if tier == "critical" {
            for (first, second) in [(&approver, &admin2), (&approver2, &approver)] {
                let key = format!("critical-{}", uuid::Uuid::now_v7());
                let id = request(&gate, &key).await;
                let one = gate.approve(first, &id).await.unwrap();
                assert_eq!(
                    (one.status.as_str(), one.approvals, one.quorum),
                    ("pending", 1, 2)
                );
                assert!(
                    !written(&gate, &key).await,
                    "ran after one of two approvals"
                );
                let two = gate.approve(second, &id).await.unwrap();
                assert_eq!(two.status, ApprovalStatus::Executed);
                assert!(written(&gate, &key).await);
            }
        } else {
            for (name, session) in people.iter().filter(|(n, _)| allowed.contains(n)) {
                let key = format!("{tier}-{name}");
                let id = request(&gate, &key).await;
                let decision = gate.approve(session, &id).await.unwrap();
                assert_eq!(
                    (decision.status.as_str(), decision.quorum),
                    ("executed", 1),
                    "{tier}: {name}"
                );
                assert!(written(&gate, &key).await, "{tier}: {name}");
            }
        }
    }
}

#[tokio::test]
async fn nobody_decides_their_own_request_or_their_agents() {
    let gate = memory_gate().await;
    gate.set_tier("memory.write", "high").await;
    let approver = gate.member("paula", Role::Approver).await;
    let own = gate
        .propose(
            &approver,
            "memory.write",
            json!({ "key": "own", "value": "v" }),
        )
        .await
        .unwrap();
    let agents = gate
        .propose_as(
            &approver,
            "memory.write",
            json!({ "key": "agents", "value": "v" }),
            Proposer::Agent {
                agent_id: "agent-1".into(),
                run_id: "run-1".into(),
                step_id: "step-1".into(),
            },
        )
        .await
        .unwrap();
    for outcome in [&own, &agents] {
        let id = pending_id(outcome);
        let mark = gate.mark().await;
        let error = gate.approve(&approver, &id).await.unwrap_err();
        assert_eq!(error.code(), "forbidden", "{error}");
        let events = gate.events_after(mark).await;
        assert_eq!(actions(&events), ["approval.decision_refused"]);
        assert_eq!(events[0].outcome, "denied");
        assert_eq!(events[0].approval_id, id);
        assert_eq!(gate.status(&id).await, "pending");
        let listed = gate
            .instance()
            .list_approvals(&approver, gate.ws, Some("pending"), &PageRequest::default())
            .await
            .unwrap()
            .items;
        assert!(!listed.iter().find(|a| a.id == id).unwrap().can_decide);
    }
    assert!(!written(&gate, "own").await);

    // Someone else may; an agent's approved call waits for its run instead of running here.
    let agents_id = pending_id(&agents);
    let decision = gate.approve(&gate.admin, &agents_id).await.unwrap();
    assert_eq!(decision.status, ApprovalStatus::Approved);
    assert!(decision.executed.is_none());
    assert!(!written(&gate, "agents").await);
}

#[tokio::test]
async fn an_operator_cannot_approve_a_high_request() {
    let gate = memory_gate().await;
    gate.set_tier("memory.write", "high").await;
    let operator = gate.member("oscar", Role::Operator).await;
    let id = request(&gate, "k").await;
    let mark = gate.mark().await;
    let error = gate.approve(&operator, &id).await.unwrap_err();
    assert_eq!(error.code(), "forbidden");
    assert!(error.to_string().contains("approval.decide"), "{error}");
    let events = gate.events_after(mark).await;
    assert_eq!(actions(&events), ["access.denied"]);
    assert_eq!(
        (events[0].target.as_str(), events[0].outcome.as_str()),
        ("approval.decide", "denied")
    );
    assert_eq!(gate.status(&id).await, "pending");
    assert!(!written(&gate, "k").await);
}

#[tokio::test]
async fn a_viewer_cannot_confirm_a_medium_request() {
    let gate = memory_gate().await;
    gate.set_tier("memory.write", "medium").await;
    let viewer = gate.member("vera", Role::Viewer).await;
    let id = request(&gate, "k").await;
    let mark = gate.mark().await;
    for decide in [true, false] {
        let error = if decide {
            gate.approve(&viewer, &id).await.unwrap_err()
        } else {
            gate.reject(&viewer, &id, "no").await.unwrap_err()
        };
        assert_eq!(error.code(), "forbidden");
    }
    let events = gate.events_after(mark).await;
    assert_eq!(actions(&events), ["access.denied", "access.denied"]);
    assert!(events.iter().all(|e| e.target == "approval.confirm"));
    assert_eq!(gate.status(&id).await, "pending");
    assert!(!written(&gate, "k").await);
}

#[tokio::test]
async fn one_approver_cannot_approve_a_critical_request_twice() {
    let gate = memory_gate().await;
    gate.set_tier("memory.write", "critical").await;
    let approver = gate.member("paula", Role::Approver).await;
    let id = request(&gate, "k").await;
    gate.approve(&approver, &id).await.unwrap();
    let mark = gate.mark().await;
    for _ in 0..2 {
        let error = gate.approve(&approver, &id).await.unwrap_err();
        assert_eq!(error.code(), "conflict", "{error}");
    }
    let events = gate.events_after(mark).await;
    assert_eq!(
        actions(&events),
        ["approval.decision_refused", "approval.decision_refused"]
    );
    let votes: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM approval_decisions WHERE approval_id = ?")
            .bind(&id)
            .fetch_one(gate.raw())
            .await
            .unwrap();
    assert_eq!(votes, 1);
    assert_eq!(gate.status(&id).await, "pending");
    assert!(!written(&gate, "k").await);
}

#[tokio::test]
async fn an_expired_request_is_expired_audited_and_cannot_be_approved() {
    let gate = memory_gate().await;
    gate.set_tier("memory.write", "medium").await;
    let approver = gate.member("paula", Role::Approver).await;
    let i = gate.instance();
    let bad = i
        .set_approval_expiry(
            &gate.admin,
            gate.ws,
            ExpiryConfig {
                medium_minutes: 0,
                high_minutes: 60,
                critical_minutes: 60,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_input");
    i.set_approval_expiry(
        &gate.admin,
        gate.ws,
        ExpiryConfig {
            medium_minutes: 1,
            high_minutes: 60,
            critical_minutes: 60,
        },
    )
    .await
    .unwrap();
    let id = request(&gate, "late").await;
    let fresh = request(&gate, "fresh").await;
    gate.fx.clock.advance_ms(59_000);
    let listed = i
        .list_approvals(&approver, gate.ws, Some("pending"), &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(listed.len(), 2, "not expired before its time");
    assert!(listed.iter().all(|a| a.ms_left > 0 && a.can_decide));
    gate.approve(&approver, &fresh).await.unwrap();

    gate.fx.clock.advance_ms(2_000);
    let mark = gate.mark().await;
    let error = gate.approve(&approver, &id).await.unwrap_err();
    assert_eq!(error.code(), "conflict", "{error}");
    assert!(error.to_string().contains("expired"), "{error}");
    let events = gate.events_after(mark).await;
    assert_eq!(
        actions(&events),
        ["approval.expired", "approval.decision_refused"]
    );
    assert_eq!(
        (events[0].actor_kind.as_str(), events[0].outcome.as_str()),
        ("system", "denied")
    );
    assert_eq!(events[0].approval_id, id);
    assert_eq!(gate.status(&id).await, "expired");
    assert!(!written(&gate, "late").await);
    assert!(written(&gate, "fresh").await);
    let detail = i.show_approval(&approver, gate.ws, &id).await.unwrap();
    assert_eq!(
        (detail.summary.ms_left, detail.summary.can_decide),
        (0, false)
    );
}

#[tokio::test]
async fn a_decided_request_cannot_be_decided_again_and_the_reason_goes_back() {
    let gate = memory_gate().await;
    gate.set_tier("memory.write", "high").await;
    let approver = gate.member("paula", Role::Approver).await;
    let second = gate.member("quinn", Role::Approver).await;
    let id = request(&gate, "k").await;
    let decision = gate
        .reject(&approver, &id, "not this key, use the archive")
        .await
        .unwrap();
    assert_eq!(decision.status, ApprovalStatus::Rejected);

    let mark = gate.mark().await;
    for (who, approve) in [(&second, true), (&second, false), (&approver, true)] {
        let error = if approve {
            gate.approve(who, &id).await.unwrap_err()
        } else {
            gate.reject(who, &id, "again").await.unwrap_err()
        };
        assert_eq!(error.code(), "conflict", "{error}");
        assert!(error.to_string().contains("rejected"), "{error}");
    }
    let events = gate.events_after(mark).await;
    assert_eq!(
        having(&events, "approval.decision_refused", "denied").len(),
        3
    );
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(gate.status(&id).await, "rejected");
    assert!(!written(&gate, "k").await);

    // The proposer sees who rejected it and why.
    let detail = gate
        .instance()
        .show_approval(&gate.admin, gate.ws, &id)
        .await
        .unwrap();
    assert_eq!(detail.decisions.len(), 1);
    assert_eq!(detail.decisions[0].decision, ApprovalDecision::Reject);
    assert_eq!(
        detail.decisions[0].comment.as_deref(),
        Some("not this key, use the archive")
    );
    let rejected = gate.entries_after(0, "approval.rejected").await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        rejected[0].payload["comment"],
        "not this key, use the archive"
    );
}
