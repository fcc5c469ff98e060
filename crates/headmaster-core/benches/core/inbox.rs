//! Issue 13: the approvals inbox with 2,000 pending requests — the first page, the whole inbox
//! page by page, and one request's detail. Requests are filed through `propose_call` (sealed
//! bodies, audit events), as the gate files them.

use std::time::Instant;

use headmaster_core::access::Role;
use headmaster_core::approvals::PageRequest;

use crate::fixture::Bench;
use crate::stats::Summary;
use crate::Scale;

/// Runs the suite.
pub async fn run(scale: Scale) {
    let requests = scale.rounds * 40;
    let bench = Bench::new(headmaster_core::clock::system()).await;
    let bob = bench.member("bob", Role::Approver).await;
    bench.enable("memory").await;
    bench.set_tier("memory.write", "high").await;
    let mut last = String::new();
    for n in 0..requests {
        last = bench
            .request_memory_write(&format!("k{n}"), "benchmark")
            .await;
    }
    println!("{requests} pending requests filed");

    let mut first = Vec::new();
    for _ in 0..scale.rounds {
        let started = Instant::now();
        let page = bench
            .instance
            .list_approvals(&bob, bench.ws, Some("pending"), &PageRequest::first(50))
            .await
            .expect("list");
        first.push(started.elapsed());
        assert_eq!(page.items.len(), 50.min(requests));
    }
    println!(
        "inbox, first page of 50 (of {requests}): {}",
        Summary::of(&mut first).ms()
    );

    let mut whole = Vec::new();
    for _ in 0..scale.restarts {
        let started = Instant::now();
        let mut page = PageRequest::first(200);
        let mut seen = 0;
        loop {
            let found = bench
                .instance
                .list_approvals(&bob, bench.ws, Some("pending"), &page)
                .await
                .expect("list");
            seen += found.items.len();
            match found.next_cursor {
                Some(cursor) => page = PageRequest::after(cursor, 200),
                None => break,
            }
        }
        whole.push(started.elapsed());
        assert_eq!(seen, requests);
    }
    println!(
        "inbox, all {requests} in pages of 200: {}",
        Summary::of(&mut whole).ms()
    );

    let mut detail = Vec::new();
    for _ in 0..scale.rounds {
        let started = Instant::now();
        bench
            .instance
            .show_approval(&bob, bench.ws, &last)
            .await
            .expect("show");
        detail.push(started.elapsed());
    }
    println!("one request's detail: {}", Summary::of(&mut detail).ms());
}
