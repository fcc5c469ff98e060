//! Standing grants: an active grant lets matching medium and high calls of its principal run
//! without a new decision, each use audited with the grant's id; it never covers other
//! arguments, other people or critical calls. A revoked or expired grant is not honoured: the
//! call waits for a person again, and no `grant.used` is written for it.

use std::collections::BTreeMap;

use headmaster_core::access::Role;
use headmaster_core::approvals::GrantRequest;
use headmaster_core::approvals::PageRequest;
use headmaster_core::tools::CallOutcome;
use serde_json::json;

use crate::support::smtp::SmtpSink;
use crate::support::{having, pending_tier, Gate};

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

fn grant_for(principal: &str, minutes: i64) -> GrantRequest {
    GrantRequest {
        action: "email.send".into(),
        principal: principal.into(),
        args: BTreeMap::from([("to".to_string(), "like:*@acme.test".to_string())]),
        minutes,
    }
}

fn mail(to: &[&str]) -> serde_json::Value {
    json!({ "to": to, "subject": "Status", "body": "All green.\n" })
}

#[tokio::test]
async fn an_active_grant_is_honoured_within_its_scope_and_each_use_names_it() {
    let sink = SmtpSink::start();
    let gate = email_gate(&sink).await;
    let approver = gate.member("paula", Role::Approver).await;
    let operator = gate.member("oscar", Role::Operator).await;
    let other = gate.member("olga", Role::Operator).await;
    let i = gate.instance();

    // An Operator cannot create grants.
    let error = i
        .create_grant(&operator, gate.ws, grant_for("oscar", 60))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "forbidden");
    let too_long = i
        .create_grant(&approver, gate.ws, grant_for("oscar", 25 * 60))
        .await
        .unwrap_err();
    assert_eq!(too_long.code(), "invalid_input", "{too_long}");

    let grant = i
        .create_grant(&approver, gate.ws, grant_for("oscar", 60))
        .await
        .unwrap();
    assert!(grant.active);
    let mark = gate.mark().await;
    let outcome = gate
        .propose(&operator, "email.send", mail(&["bob@acme.test"]))
        .await
        .unwrap();
    match &outcome {
        CallOutcome::Executed { grant: used, .. } => {
            assert_eq!(used.as_deref(), Some(grant.id.as_str()))
        }
        other => panic!("the grant was not honoured: {other:?}"),
    }
    assert_eq!(sink.messages().len(), 1);
    let events = gate.events_after(mark).await;
    let used = having(&events, "grant.used", "allowed");
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].target, grant.id);
    let payload = &gate.entries_after(mark, "grant.used").await[0].payload;
    assert_eq!(payload["grant_id"], grant.id.as_str());
    assert_eq!(having(&events, "tool.executed", "allowed").len(), 1);

    // Outside its scope the grant does nothing: other arguments, another person, critical.
    let mark = gate.mark().await;
    let outside = gate
        .propose(&operator, "email.send", mail(&["carol@partner.example"]))
        .await
        .unwrap();
    assert_eq!(pending_tier(&outside).0, "high");
    let someone_else = gate
        .propose(&other, "email.send", mail(&["bob@acme.test"]))
        .await
        .unwrap();
    assert_eq!(pending_tier(&someone_else).0, "medium");
    let many: Vec<String> = (1..=11).map(|n| format!("m{n}@acme.test")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let critical = gate
        .propose(&operator, "email.send", mail(&many))
        .await
        .unwrap();
    assert_eq!(pending_tier(&critical), ("critical".to_string(), 2));
    assert!(having(&gate.events_after(mark).await, "grant.used", "allowed").is_empty());
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_revoked_or_expired_grant_is_not_honoured() {
    let sink = SmtpSink::start();
    let gate = email_gate(&sink).await;
    let approver = gate.member("paula", Role::Approver).await;
    let operator = gate.member("oscar", Role::Operator).await;
    let i = gate.instance();

    let revoked = i
        .create_grant(&approver, gate.ws, grant_for("oscar", 60))
        .await
        .unwrap();
    let error = i
        .revoke_grant(&operator, gate.ws, &revoked.id)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "forbidden");
    i.revoke_grant(&approver, gate.ws, &revoked.id)
        .await
        .unwrap();
    let mark = gate.mark().await;
    let outcome = gate
        .propose(&operator, "email.send", mail(&["bob@acme.test"]))
        .await
        .unwrap();
    assert_eq!(
        pending_tier(&outcome).0,
        "medium",
        "a revoked grant was honoured"
    );
    let events = gate.events_after(mark).await;
    assert!(
        having(&events, "grant.used", "allowed").is_empty(),
        "{events:?}"
    );
    assert!(having(&events, "tool.executed", "allowed").is_empty());

    let expiring = i
        .create_grant(&approver, gate.ws, grant_for("oscar", 1))
        .await
        .unwrap();
    let used = gate
        .propose(&operator, "email.send", mail(&["bob@acme.test"]))
        .await
        .unwrap();
    assert!(matches!(used, CallOutcome::Executed { .. }), "{used:?}");
    assert_eq!(sink.messages().len(), 1);
    gate.fx.clock.advance_ms(61_000);
    let mark = gate.mark().await;
    let outcome = gate
        .propose(&operator, "email.send", mail(&["bob@acme.test"]))
        .await
        .unwrap();
    assert_eq!(
        pending_tier(&outcome).0,
        "medium",
        "an expired grant was honoured"
    );
    let events = gate.events_after(mark).await;
    assert!(
        having(&events, "grant.used", "allowed").is_empty(),
        "{events:?}"
    );
    assert_eq!(sink.messages().len(), 1);

    let listed = i
        .list_grants(&operator, gate.ws, &PageRequest::default())
        .await
        .unwrap()
        .items;
    let state = |id: &str| listed.iter().find(|g| g.id == id).unwrap().clone();
    assert!(!state(&revoked.id).active && state(&revoked.id).revoked_at.is_some());
    assert!(!state(&expiring.id).active && state(&expiring.id).revoked_at.is_none());
    let audited: Vec<_> = gate
        .entries()
        .await
        .into_iter()
        .filter(|e| e.action == "grant.revoked")
        .collect();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].target, revoked.id);
}

#[tokio::test]
async fn an_approver_cannot_grant_a_standing_approval_to_themselves() {
    let sink = SmtpSink::start();
    let gate = email_gate(&sink).await;
    let approver = gate.member("paula", Role::Approver).await;
    // A grant for oneself would decide one's own future requests in advance, which no
    // request may have. Either creating it is refused or it is never honoured.
    let created = gate
        .instance()
        .create_grant(&approver, gate.ws, grant_for("paula", 60))
        .await;
    let outcome = gate
        .propose(&approver, "email.send", mail(&["bob@acme.test"]))
        .await
        .unwrap();
    assert!(
        matches!(outcome, CallOutcome::Pending { .. }),
        "a self-granted standing approval ran the granter's own call without anyone else \
         (grant created: {}): {outcome:?}",
        created.is_ok()
    );
    assert_eq!(sink.messages().len(), 0);
}

#[tokio::test]
async fn grants_page_newest_first_without_losing_or_repeating_one() {
    let sink = SmtpSink::start();
    let gate = email_gate(&sink).await;
    let approver = gate.member("paula", Role::Approver).await;
    gate.member("oscar", Role::Operator).await;
    let i = gate.instance();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(
            i.create_grant(&approver, gate.ws, grant_for("oscar", 60))
                .await
                .unwrap()
                .id,
        );
    }
    // Newest first: by creation time, then by id (UUIDv7, increasing), as the cursor is.
    created.reverse();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let found = i.list_grants(&approver, gate.ws, &page).await.unwrap();
        assert_eq!(found.total, 5);
        assert!(found.items.len() <= 2);
        seen.extend(found.items.into_iter().map(|g| g.id));
        match found.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor, 2),
            None => break,
        }
    }
    assert_eq!(seen, created, "every grant once, newest first");
    let bad = i
        .list_grants(&approver, gate.ws, &PageRequest::after("not-a-cursor", 2))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_input", "{bad}");
}
