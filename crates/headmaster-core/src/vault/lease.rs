//! The database lock on a key rotation: only the process holding an open rotation's lease
//! re-encrypts its scope.
//!
//! A mutex would keep one process's rotations apart; the desktop app and the CLI (or two apps
//! on one data directory) are separate processes. So the lock is in the instance database: at
//! most one open rotation per scope (a partial unique index), and a lease on it — owner and
//! expiry — that the holder renews while it works. A process that died leaves its lease behind:
//! it lapses after [`LEASE_MS`], and at once when the owner was a process on this machine that
//! no longer exists (the data directory is local, so a start after a crash finishes the
//! rotation without waiting).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::instance::Instance;

/// How long a rotation's lease lasts without renewal (ms of the instance clock).
pub(crate) const LEASE_MS: i64 = 60_000;
/// How often the holder renews it (real time).
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The owners this process works for now (see [`Owner`]).
static ACTIVE: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn active() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// This process's name for one piece of key work, `pid:uuid`, known to the process while the
/// value lives: a lease whose owner is this process but no live `Owner` was left by work that
/// failed, and is free at once.
#[derive(Debug)]
pub(crate) struct Owner(String);

impl Owner {
    pub(crate) fn new() -> Self {
        let name = format!("{}:{}", std::process::id(), uuid::Uuid::now_v7());
        active().insert(name.clone());
        Self(name)
    }
}

impl std::ops::Deref for Owner {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        active().remove(&self.0);
    }
}

/// Whether `owner` names work that no longer goes on: work of this process that ended, or a
/// process on this machine that is gone. Only Linux can tell the latter (from `/proc`);
/// elsewhere the lease has to lapse.
fn owner_is_gone(owner: &str) -> bool {
    let Some(pid) = owner.split(':').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    if pid == std::process::id() {
        return !active().contains(owner);
    }
    cfg!(target_os = "linux")
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

impl Instance {
    /// Takes the lease of the open rotation `id` for `owner`; `false` if another live process
    /// holds it (or the rotation is finished).
    pub(crate) async fn claim_rotation(&self, id: &str, owner: &str) -> Result<bool> {
        let current: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT lease_owner, lease_until FROM key_rotations WHERE id = ? AND finished_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((holder, until)) = current else {
            return Ok(false);
        };
        let now = self.now();
        let free = match (&holder, until) {
            (None, _) => true,
            (Some(holder), until) => until.unwrap_or(0) < now || owner_is_gone(holder),
        };
        if !free {
            return Ok(false);
        }
        // Compare and swap on owner and expiry: a process that took or renewed the lease in
        // between wins.
        let taken = sqlx::query(
            "UPDATE key_rotations SET lease_owner = ?, lease_until = ?
             WHERE id = ? AND finished_at IS NULL AND lease_owner IS ? AND lease_until IS ?",
        )
        .bind(owner)
        .bind(now + LEASE_MS)
        .bind(id)
        .bind(&holder)
        .bind(until)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Runs `work` while renewing `owner`'s lease on rotation `id`; stops with a conflict if
    /// the lease was lost (another process took over a lapsed lease).
    pub(crate) async fn holding_rotation<T>(
        &self,
        id: &str,
        owner: &str,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let renew = async {
            loop {
                // A timer, not a condition: the lease must be renewed well before it lapses,
                // however long the batch in flight takes.
                tokio::time::sleep(RENEW_EVERY).await;
                let renewed = sqlx::query(
                    "UPDATE key_rotations SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                )
                .bind(self.now() + LEASE_MS)
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await;
                match renewed {
                    Ok(done) if done.rows_affected() == 1 => {}
                    Ok(_) => {
                        return Error::Conflict(format!(
                            "another process took over key rotation {id}; it finishes the re-encryption"
                        ))
                    }
                    // A busy database is not a lost lease: try again at the next renewal.
                    Err(e) => tracing::warn!(error = %e, "renewing a key rotation's lease failed"),
                }
            }
        };
        tokio::select! {
            result = work => result,
            lost = renew => Err(lost),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_vanished_process_on_this_machine_frees_a_lease_at_once() {
        let working = Owner::new();
        assert!(!owner_is_gone(&working), "this process works for it");
        let ended = working.to_string();
        drop(working);
        assert!(owner_is_gone(&ended), "its work ended");
        assert!(
            !owner_is_gone("not-a-pid:x"),
            "unknown owners wait for the lease"
        );
        if cfg!(target_os = "linux") {
            // Beyond the kernel's largest pid (2^22).
            assert!(owner_is_gone("4194305:x"));
            assert!(!owner_is_gone("1:x"), "pid 1 always exists");
        }
    }
}
