//! Helpers: filling a chain cheaply, verifying it, raw SQL access.

use headmaster_core::access::Scope;
use headmaster_core::audit::VerifyOutcome;
use headmaster_core::Session;

use crate::common::Fixture;

/// Appends `n` events to the instance chain (each a cheap audited settings change), moving the
/// clock `step_ms` between them.
pub async fn fill(fx: &Fixture, session: &Session, n: usize, step_ms: i64) {
    for i in 0..n {
        fx.instance
            .set_rotation_period(session, 30 + (i as i64 % 60))
            .await
            .unwrap();
        fx.clock.advance_ms(step_ms);
    }
}

pub async fn verify(fx: &Fixture, session: &Session) -> VerifyOutcome {
    fx.instance
        .verify_audit(session, Scope::Org, &|_, _| {})
        .await
        .unwrap()
}

/// A raw connection to instance.db, as an attacker with file access has.
pub async fn raw(fx: &Fixture) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!(
        "sqlite:{}",
        fx.dir.path().join("instance.db").display()
    ))
    .await
    .unwrap()
}

pub async fn exec(pool: &sqlx::SqlitePool, sql: &str) {
    sqlx::query(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// (kind, seq) of every break.
pub fn breaks(outcome: &VerifyOutcome) -> Vec<(String, u64)> {
    outcome
        .breaks
        .iter()
        .map(|b| (b.kind.clone(), b.seq))
        .collect()
}

/// Every file under `dir`, recursively.
pub fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Whether `needle` occurs in any file under `dir`; returns the offending files.
pub fn scan(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    files(dir)
        .into_iter()
        .filter(|f| {
            let bytes = std::fs::read(f).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
        .collect()
}
