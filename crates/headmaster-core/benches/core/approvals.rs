//! Issue 7: latency from an approval request to the event a notifier receives, and from the
//! final approval to execution.
//!
//! A listener subscribed with `Instance::subscribe` (what the desktop shell does before it posts
//! a native notification) stamps every event on receipt. Alice proposes a `memory.write` whose
//! tier was raised to high; Bob, an Approver, approves it, and the call runs at once.
//!
//! - request → event: from the request's `created_at` (stamped by the core, millisecond
//!   resolution, so up to 1 ms is added) to receipt, and from the start of `propose_call` to
//!   receipt (the whole request creation included).
//! - approval → execution: `ApprovalDecided` is announced after the decision committed and
//!   just before the approved call starts, so `decide_approval` start → its receipt bounds the
//!   time to execution start from below, and the whole `decide_approval` (which returns after
//!   the call ran and its result was stored) bounds it from above.

use headmaster_core::states::ApprovalStatus;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use headmaster_core::access::Role;
use headmaster_core::approvals::ApprovalDecision;
use headmaster_core::events::CoreEvent;
use tokio::sync::mpsc;

use crate::fixture::Bench;
use crate::stats::{verdict, Summary};
use crate::Scale;

/// What the listener saw.
#[derive(Debug)]
struct Received {
    approval_id: String,
    /// `created_at` of a request (ms), `None` for a decision.
    created_at: Option<i64>,
    at: Instant,
    wall_us: i64,
}

/// Runs the suite.
pub async fn run(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    let bob = bench.member("bob", Role::Approver).await;
    bench.enable("memory").await;
    bench.set_tier("memory.write", "high").await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut events = bench.instance.subscribe();
    let listener = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            let (approval_id, created_at) = match event {
                CoreEvent::ApprovalRequested {
                    approval_id,
                    created_at,
                    ..
                } => (approval_id, Some(created_at)),
                CoreEvent::ApprovalDecided { approval_id, .. } => (approval_id, None),
                CoreEvent::RunUpdated { .. } => continue,
            };
            let wall_us = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_micros() as i64;
            let received = Received {
                approval_id,
                created_at,
                at: Instant::now(),
                wall_us,
            };
            if tx.send(received).is_err() {
                break;
            }
        }
    });

    let mut from_created = Vec::new();
    let mut from_propose = Vec::new();
    let mut to_decided = Vec::new();
    let mut to_executed = Vec::new();
    for round in 0..=scale.rounds {
        let started = Instant::now();
        let approval_id = bench
            .request_memory_write(&format!("note-{round}"), "Record the client's preference.")
            .await;
        let requested = next(&mut rx, &approval_id).await;
        let created_at = requested.created_at.expect("a request event");

        let deciding = Instant::now();
        let result = bench
            .instance
            .decide_approval(
                &bob,
                bench.ws,
                &approval_id,
                ApprovalDecision::Approve,
                None,
            )
            .await
            .expect("decide");
        let decided_all = deciding.elapsed();
        assert_eq!(result.status, ApprovalStatus::Executed, "{result:?}");
        let decided = next(&mut rx, &approval_id).await;
        // The first round warms caches (keys, policy, statements); it is not counted.
        if round > 0 {
            from_created.push(Duration::from_micros(
                (requested.wall_us - created_at * 1000).max(0) as u64,
            ));
            from_propose.push(requested.at - started);
            to_decided.push(decided.at - deciding);
            to_executed.push(decided_all);
        }
    }
    listener.abort();
    let from_created = Summary::of(&mut from_created);
    println!(
        "request created_at → ApprovalRequested received by a subscriber: {}; {} (core side only: \
         the desktop's native notification adds its own posting cost)",
        from_created.ms(),
        verdict(
            from_created.p95 <= Duration::from_millis(100),
            "p95 ≤ 100 ms"
        )
    );
    println!(
        "propose_call start → ApprovalRequested received (request creation included): {}",
        Summary::of(&mut from_propose).ms()
    );
    let to_decided = Summary::of(&mut to_decided);
    let to_executed = Summary::of(&mut to_executed);
    println!(
        "final approval → execution start, lower bound (decide_approval start → ApprovalDecided received): {}",
        to_decided.ms()
    );
    println!(
        "final approval → execution done, upper bound (whole decide_approval incl. the write and its audit): {}; {}",
        to_executed.ms(),
        verdict(to_executed.p95 <= Duration::from_millis(50), "p95 ≤ 50 ms (upper bound)")
    );
}

/// Waits for the listener's record of `approval_id` (events of earlier rounds are skipped).
async fn next(rx: &mut mpsc::UnboundedReceiver<Received>, approval_id: &str) -> Received {
    let wait = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let received = rx.recv().await.expect("the listener runs");
            if received.approval_id == approval_id {
                return received;
            }
        }
    });
    wait.await.expect("the event arrives within 10 s")
}
