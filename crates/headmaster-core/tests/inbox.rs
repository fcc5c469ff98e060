//! The approvals inbox at scale: 2,000 requests page out completely, in order, without
//! duplicates, and each page costs the same number of SQL statements whatever its size or
//! position (counted from sqlx's own statement log). Its own test binary, because the
//! statement counter is process-wide.

#[path = "api/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "gate/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use headmaster_core::access::Role;
use headmaster_core::approvals::{ApprovalStatus, PageRequest};
use serde_json::json;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Statements sqlx ran (its `sqlx::query` log events), process-wide.
static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

struct CountStatements;

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

const REQUESTS: usize = 2_000;

#[tokio::test]
async fn two_thousand_requests_page_out_completely_at_a_constant_cost() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountStatements))
        .expect("one subscriber for this binary");
    let gate = support::Gate::new().await;
    let approver = gate.member("paula", Role::Approver).await;
    gate.enable("memory.write").await;
    gate.set_tier("memory.write", "high").await;
    // A few through the real pipeline (sealed bodies, audit events) ...
    for n in 0..5 {
        let outcome = gate
            .propose(
                &gate.admin,
                "memory.write",
                json!({ "key": format!("k{n}"), "value": "v" }),
            )
            .await
            .unwrap();
        support::pending_id(&outcome);
    }
    // ... and the rest written straight into the table, many sharing a creation time so the
    // order has to fall back on the id. Every tenth is already decided, every seventh has a vote.
    let admin_id = gate.admin.user_id.to_string();
    let approver_id = approver.user_id.to_string();
    let mut tx = gate.raw().begin().await.unwrap();
    for n in 5..REQUESTS {
        let id = uuid::Uuid::now_v7().to_string();
        let status = if n % 10 == 0 { "rejected" } else { "pending" };
        sqlx::query(
            "INSERT INTO approvals (id, status, tier, quorum, requester_kind, requester_id, on_behalf_of,
                 action, args_hash, request, created_at, expires_at)
             VALUES (?, ?, 'high', 1, 'user', ?, ?, 'memory.write', 'h', x'00', ?, ?)",
        )
        .bind(&id)
        .bind(status)
        .bind(&admin_id)
        .bind(&admin_id)
        .bind(1_000_000 + (n as i64 / 4))
        .bind(i64::MAX / 2)
        .execute(&mut *tx)
        .await
        .unwrap();
        if n % 7 == 0 {
            sqlx::query(
                "INSERT INTO approval_decisions (id, approval_id, decider_id, decision, decided_at)
                 VALUES (?, ?, ?, 'approve', 1)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&id)
            .bind(&approver_id)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
    let expected: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM approvals WHERE status = 'pending' ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(gate.raw())
    .await
    .unwrap();
    assert!(expected.len() > 1_700, "{}", expected.len());

    let i = gate.instance();
    let mut costs = Vec::new();
    for limit in [10u32, 137, 200] {
        let mut seen = Vec::new();
        let mut page = PageRequest::first(limit);
        loop {
            let before = STATEMENTS.load(Ordering::SeqCst);
            let found = i
                .list_approvals(&approver, gate.ws, Some("pending"), &page)
                .await
                .unwrap();
            costs.push(STATEMENTS.load(Ordering::SeqCst) - before);
            assert_eq!(found.total as usize, expected.len());
            assert!(found.items.len() <= limit as usize);
            for item in &found.items {
                assert_eq!(item.status, ApprovalStatus::Pending);
                assert_eq!(item.on_behalf_of_name, "alice");
                assert!(item.can_decide != item.cannot_decide.is_some());
            }
            seen.extend(
                found
                    .items
                    .into_iter()
                    .map(|a| (a.id, a.approvals, a.can_decide)),
            );
            match found.next_cursor {
                Some(cursor) => page = PageRequest::after(cursor, limit),
                None => break,
            }
        }
        let ids: Vec<&String> = seen.iter().map(|(id, _, _)| id).collect();
        assert_eq!(
            ids.len(),
            expected.len(),
            "limit {limit}: every request once"
        );
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "no duplicates"
        );
        assert!(
            ids.iter().zip(&expected).all(|(a, b)| *a == b),
            "limit {limit}: newest first"
        );
        // The votes were counted per row: a request with paula's vote shows it and is not
        // hers to decide again.
        let voted: Vec<_> = seen.iter().filter(|(_, votes, _)| *votes == 1).collect();
        assert!(!voted.is_empty());
        assert!(voted.iter().all(|(_, _, can)| !can));
    }
    let first = costs[0];
    eprintln!("statements per inbox page: {first} ({} pages)", costs.len());
    assert!(first > 0, "the statement counter sees the queries");
    assert!(
        costs.iter().all(|c| *c == first),
        "every page costs the same number of statements: {costs:?}"
    );
    assert!(
        first <= 12,
        "a page is a handful of statements, not one per row: {first}"
    );

    // A cursor that this list never returned is refused with what to do.
    let bad = i
        .list_approvals(
            &approver,
            gate.ws,
            Some("pending"),
            &PageRequest::after("nonsense", 10),
        )
        .await
        .unwrap_err();
    assert!(
        bad.to_string().contains("start again from the first page"),
        "{bad}"
    );
    let too_big = i
        .list_approvals(
            &approver,
            gate.ws,
            Some("pending"),
            &PageRequest::first(201),
        )
        .await
        .unwrap_err();
    assert!(too_big.to_string().contains("1 to 200"), "{too_big}");
}
