//! Issue 5: durable appends to the hash chain (sealing, hashing, checkpoint signing) against
//! plain SQLite inserts of the same rows.
//!
//! The plain side is a separate database opened with the connection settings of the core's
//! store (WAL, `synchronous = FULL`, foreign keys, `secure_delete`, busy timeout) holding a table
//! of the same shape as `audit_events` (same columns, same indexes). It receives exactly the
//! rows the chain stored — read back after each chained round, untimed — so both sides write the
//! same bytes. Rounds alternate between the two so that both see the same machine load:
//! single-event transactions (one `BEGIN IMMEDIATE … COMMIT`, i.e. one fsync, per event) and
//! batches of 100 events per transaction.

use std::str::FromStr;
use std::time::{Duration, Instant};

use headmaster_core::audit::append;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

use crate::fixture::Bench;
use crate::stats::{per_second, verdict};
use crate::workload::Actors;
use crate::Scale;

/// Events per transaction in the batched mode.
const BATCH: u64 = 100;
/// Alternating rounds per mode.
const ROUNDS: u64 = 4;

/// The columns both tables share, in order.
const COLUMNS: &str = "seq, time, actor_kind, actor_id, action, target, outcome, run_id, step_id, \
                       approval_id, source, payload, hash";

/// Runs the suite.
pub async fn run(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    let actors = Actors::create(&bench).await;
    let chain = bench
        .instance
        .workspace_database(bench.ws)
        .await
        .expect("workspace database");
    let plain = plain_database(&bench.home().join("plain.db")).await;
    let mut next = 0u64;
    for (label, total, per_tx) in [
        ("single-event transactions", scale.single_events, 1),
        (
            "batches of 100 per transaction",
            scale.batched_events,
            BATCH,
        ),
    ] {
        let mut chained = Duration::ZERO;
        let mut plained = Duration::ZERO;
        let per_round = total / ROUNDS;
        for _ in 0..ROUNDS {
            let first_seq = bench.last_seq().await + 1;
            chained += append_chained(&bench, &chain, &actors, next, per_round, per_tx).await;
            next += per_round;
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM audit_events WHERE seq >= ? ORDER BY seq"
            ))
            .bind(first_seq)
            .fetch_all(&chain)
            .await
            .expect("read back");
            assert_eq!(rows.len() as u64, per_round);
            plained += insert_plain(&plain, &rows, per_tx).await;
        }
        let events = per_round * ROUNDS;
        let chain_rate = per_second(events, chained);
        let plain_rate = per_second(events, plained);
        let ratio = chain_rate / plain_rate;
        println!(
            "append, {label}: chain + sealing {chain_rate:.0} events/s, plain SQLite {plain_rate:.0} events/s \
             ({events} events each, {ROUNDS} alternating rounds); ratio {:.0}%; {}",
            ratio * 100.0,
            verdict(ratio >= 0.5, "≥ 50% of plain")
        );
    }
}

/// Appends `count` workload events starting at `first`, `per_tx` per transaction, the way the
/// core does: keys gathered first, then seal + hash + insert inside `BEGIN IMMEDIATE`.
async fn append_chained(
    bench: &Bench,
    pool: &SqlitePool,
    actors: &Actors,
    first: u64,
    count: u64,
    per_tx: u64,
) -> Duration {
    let instance = &bench.instance;
    let scope = bench.ws.to_string();
    let started = Instant::now();
    let mut i = first;
    while i < first + count {
        let end = (i + per_tx).min(first + count);
        if per_tx == 1 {
            append::append(
                pool,
                instance.vault(),
                instance.device(),
                &scope,
                actors.event(i),
                instance.clock().now_ms(),
            )
            .await
            .expect("append");
        } else {
            let mut prepared = Vec::with_capacity(per_tx as usize);
            for j in i..end {
                prepared.push(
                    append::prepare(instance.vault(), &scope, actors.event(j))
                        .await
                        .expect("prepare"),
                );
            }
            let now = instance.clock().now_ms();
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
            let mut tip = append::ChainTip::load(&mut tx, &scope).await.expect("tip");
            for p in prepared {
                tip.write(&mut tx, &scope, instance.device(), p, now)
                    .await
                    .expect("write");
            }
            tx.commit().await.expect("commit");
        }
        i = end;
    }
    started.elapsed()
}

/// Inserts the stored rows into the plain table, `per_tx` per transaction.
async fn insert_plain(pool: &SqlitePool, rows: &[SqliteRow], per_tx: u64) -> Duration {
    let sql = format!(
        "INSERT INTO audit_plain ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let started = Instant::now();
    for chunk in rows.chunks(per_tx as usize) {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
        for row in chunk {
            let mut query = sqlx::query(&sql).bind(row.get::<i64, _>(0));
            for column in 1..10 {
                query = query.bind(row.get::<String, _>(column));
            }
            for column in 10..13 {
                query = query.bind(row.get::<Vec<u8>, _>(column));
            }
            query.execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    started.elapsed()
}

/// A database with the store's connection settings and a table shaped like `audit_events`.
async fn plain_database(path: &std::path::Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .expect("options")
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(15))
        .pragma("secure_delete", "on");
    // The same pool settings as `store::open`, so only the chain differs.
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .expect("plain database");
    for statement in [
        "CREATE TABLE audit_plain (
            seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor_kind TEXT NOT NULL,
            actor_id TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
            outcome TEXT NOT NULL, run_id TEXT NOT NULL, step_id TEXT NOT NULL,
            approval_id TEXT NOT NULL, source BLOB NOT NULL, payload BLOB NOT NULL,
            hash BLOB NOT NULL)",
        "CREATE INDEX audit_plain_time ON audit_plain(time)",
        "CREATE INDEX audit_plain_actor ON audit_plain(actor_id, time)",
        "CREATE INDEX audit_plain_action ON audit_plain(action, time)",
        "CREATE INDEX audit_plain_run ON audit_plain(run_id) WHERE run_id <> ''",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect("plain schema");
    }
    pool
}
