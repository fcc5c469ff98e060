//! Issue 3: re-encryption rate of a key rotation over 1M rows, with progress.
//!
//! The workspace's `memory` table is filled directly (the rows a busy workspace accumulates):
//! each row's `key` and `value` sealed with `ScopeKeys::seal_now` under the AAD the core uses
//! (`workspace, memory, key|value, row id`), and a random unique blind index. Then
//! `rotate_keys` creates a new data key and re-encrypts every sealed column the rotation walks;
//! a progress line is printed every 10% with the rate of the last stretch, so a rate that
//! changes as the work advances shows.

use std::sync::Mutex;
use std::time::Instant;

use headmaster_core::store::sealed::{SealedColumn, WORKSPACE_SEALED};
use headmaster_core::vault::rotation::{count_by_version, Progress};
use headmaster_core::vault::seal::Aad;
use headmaster_core::vault::KeyScope;
use rand::RngCore;

use crate::fixture::Bench;
use crate::stats::per_second;
use crate::Scale;

/// Rows per fill transaction: two seals per row, and `Vault::keys` guarantees only 4,096 seals
/// of headroom, so the keys are asked again before every transaction.
const FILL_BATCH: u64 = 1_500;

/// Runs the suite.
pub async fn run(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    let scope = bench.ws.to_string();
    let pool = bench
        .instance
        .workspace_database(bench.ws)
        .await
        .expect("workspace database");
    let vault = bench.instance.vault();
    let author = format!("user:{}", bench.admin.user_id);
    let value_text = "Client prefers the quarterly summary by email; call before Friday. "
        .repeat(2)
        .into_bytes();

    let started = Instant::now();
    let mut written = 0u64;
    while written < scale.rotation_rows {
        let keys = vault.keys(&scope).await.expect("keys");
        let mut tx = pool.begin().await.expect("begin");
        let end = (written + FILL_BATCH).min(scale.rotation_rows);
        for i in written..end {
            let id = uuid::Uuid::now_v7().to_string();
            let mut index = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut index);
            let key = keys
                .seal_now(
                    &Aad::new(&scope, "memory", "key", &id),
                    format!("note-{i}").as_bytes(),
                )
                .expect("seal key");
            let value = keys
                .seal_now(&Aad::new(&scope, "memory", "value", &id), &value_text)
                .expect("seal value");
            sqlx::query(
                "INSERT INTO memory (id, key_idx, key, value, author, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(index.as_slice())
            .bind(&key)
            .bind(&value)
            .bind(&author)
            .bind(i as i64)
            .bind(i as i64)
            .execute(&mut *tx)
            .await
            .expect("insert");
        }
        tx.commit().await.expect("commit");
        written = end;
    }
    let fill = started.elapsed();
    println!(
        "filled {written} memory rows (key and value sealed, {} B value) in {:.1} s ({:.0} rows/s)",
        value_text.len(),
        fill.as_secs_f64(),
        per_second(written, fill)
    );

    let tracker = Tracker::new();
    let started = Instant::now();
    let report = bench
        .instance
        .rotate_keys(&bench.admin, KeyScope::Workspace(bench.ws), &|p| {
            tracker.update(p)
        })
        .await
        .expect("rotation");
    let elapsed = started.elapsed();
    assert!(
        report.rows_reencrypted >= 2 * written,
        "every sealed key and value is re-encrypted: {report:?}"
    );
    let memory_columns: Vec<SealedColumn> = WORKSPACE_SEALED
        .iter()
        .filter(|c| c.table == "memory")
        .copied()
        .collect();
    let versions = count_by_version(&pool, &memory_columns)
        .await
        .expect("count");
    assert_eq!(
        versions.keys().copied().collect::<Vec<_>>(),
        vec![report.data_version],
        "every memory value is on the new version afterwards"
    );
    println!(
        "rotate_keys: {written} rows ({} sealed values) re-encrypted in {:.1} s: {:.0} rows/s ({:.0} values/s)",
        report.rows_reencrypted,
        elapsed.as_secs_f64(),
        per_second(written, elapsed),
        per_second(report.rows_reencrypted, elapsed)
    );
}

/// Prints a line whenever progress crosses another 10%.
struct Tracker {
    state: Mutex<TrackerState>,
}

struct TrackerState {
    started: Instant,
    printed: u64,
    last_at: Instant,
    last_done: u64,
}

impl Tracker {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(TrackerState {
                started: now,
                printed: 0,
                last_at: now,
                last_done: 0,
            }),
        }
    }

    fn update(&self, progress: Progress) {
        let mut state = self.state.lock().expect("tracker lock");
        if progress.total == 0 {
            return;
        }
        let tenth = progress.done * 10 / progress.total;
        if tenth > state.printed {
            let now = Instant::now();
            let stretch = now - state.last_at;
            println!(
                "  progress {:>3}%: {}/{} values, {:.1} s, last stretch {:.0} values/s",
                tenth * 10,
                progress.done,
                progress.total,
                (now - state.started).as_secs_f64(),
                per_second(progress.done - state.last_done, stretch)
            );
            state.printed = tenth;
            state.last_at = now;
            state.last_done = progress.done;
        }
    }
}
