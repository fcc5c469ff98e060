//! Issue 5: `query_audit` by actor and time window over the 1M-event chain of the scan suite.
//!
//! Each query names a person (by username, as `headmaster audit query --actor` does) and a
//! random window of 1 to 48 hours somewhere in the chain's 11.6 days, and asks for the newest
//! 100 events. Next to the whole call, the same SQL statement is timed alone on the workspace
//! database, and SQLite's query plan is printed, so that the split between finding the rows and
//! decoding the page is visible; the slowest queries are listed with where their window lies.

use std::time::{Duration, Instant};

use headmaster_core::access::Scope;
use headmaster_core::audit::AuditFilter;
use headmaster_core::clock::rfc3339_ms;
use headmaster_core::Session;
use rand::{Rng, SeedableRng};

use crate::fixture::Bench;
use crate::stats::{verdict, Summary};
use crate::workload::Actors;

/// The statement `query_audit` runs for an actor and a time window (`audit/query.rs`).
const SQL: &str = "SELECT seq, time, actor_kind, actor_id, action, target, outcome, run_id, \
                   step_id, approval_id, source, payload, hash FROM audit_events WHERE 1 = 1 \
                   AND time >= ? AND time < ? AND actor_id = ? ORDER BY time DESC, seq DESC LIMIT ?";

/// One timed query.
#[derive(Debug)]
struct Timed {
    /// Position in the series (0 is the first query after the chain was verified).
    index: usize,
    whole: Duration,
    sql: Duration,
    /// Hours between the window's end and the chain's last event.
    age_hours: f64,
    length_hours: f64,
}

/// Runs the queries; the chain starts at `start_ms` with one event per second.
pub async fn run(
    bench: &Bench,
    admin: &Session,
    actors: &Actors,
    start_ms: i64,
    filled: u64,
    queries: usize,
) {
    let pool = bench
        .instance
        .workspace_database(bench.ws)
        .await
        .expect("workspace database");
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {SQL}"))
        .bind("2026-11-02T00:00:00.000Z")
        .bind("2026-11-03T00:00:00.000Z")
        .bind(&actors.people[0].1.id)
        .bind(101)
        .fetch_all(&pool)
        .await
        .expect("query plan");
    let plan: Vec<String> = plan.into_iter().map(|row| row.3).collect();
    println!("  SQLite plan for actor + window: {}", plan.join("; "));

    let span_ms = filled as i64 * 1000;
    let longest = (48 * 3_600_000).min(span_ms / 2);
    let shortest = 3_600_000.min(longest / 2);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut timed = Vec::with_capacity(queries);
    let mut returned = 0usize;
    for index in 0..queries {
        let (name, actor) = &actors.people[rng.gen_range(0..actors.people.len())];
        let length = rng.gen_range(shortest..=longest);
        let since = start_ms + rng.gen_range(0..=span_ms - length);
        let (from, to) = (rfc3339_ms(since), rfc3339_ms(since + length));
        let filter = AuditFilter {
            since: Some(from.clone()),
            until: Some(to.clone()),
            actor: Some(name.clone()),
            limit: Some(100),
            ..AuditFilter::default()
        };
        let started = Instant::now();
        let page = bench
            .instance
            .query_audit(admin, Scope::Workspace(bench.ws), &filter)
            .await
            .expect("query");
        let whole = started.elapsed();
        assert!(!page.entries.is_empty() && page.entries.len() <= 100);
        assert!(page.entries.iter().all(|e| e.actor_id == actor.id));
        returned += page.entries.len();

        let started = Instant::now();
        let rows = sqlx::query(SQL)
            .bind(&from)
            .bind(&to)
            .bind(&actor.id)
            .bind(101)
            .fetch_all(&pool)
            .await
            .expect("sql");
        let sql = started.elapsed();
        assert_eq!(rows.len().min(100), page.entries.len());
        timed.push(Timed {
            index,
            whole,
            sql,
            age_hours: (start_ms + span_ms - since - length) as f64 / 3.6e6,
            length_hours: length as f64 / 3.6e6,
        });
    }
    let whole = Summary::of(&mut timed.iter().map(|t| t.whole).collect::<Vec<_>>());
    let sql = Summary::of(&mut timed.iter().map(|t| t.sql).collect::<Vec<_>>());
    println!(
        "query_audit by actor + time window ({}–{} h windows, limit 100, {:.0} entries per page on average): {}; {}",
        shortest / 3_600_000,
        longest / 3_600_000,
        returned as f64 / queries as f64,
        whole.ms(),
        verdict(whole.p95 <= Duration::from_millis(50), "p95 ≤ 50 ms")
    );
    println!(
        "  the same SQL alone (no gate, no decryption): {}",
        sql.ms()
    );
    timed.sort_by_key(|t| std::cmp::Reverse(t.whole));
    for t in timed.iter().take(3) {
        println!(
            "  slow: query #{} {:.1} ms (SQL {:.1} ms), window of {:.0} h ending {:.0} h before the newest event",
            t.index,
            t.whole.as_secs_f64() * 1e3,
            t.sql.as_secs_f64() * 1e3,
            t.length_hours,
            t.age_hours
        );
    }
}
