//! The push loop: one task per sink, each holding the sink's lease while it pushes.
//!
//! A task takes (or renews) the lease, reads the next page of the feed after the sink's cursor,
//! hands it to the sender, and moves the cursor only when the receiver took the batch, in the
//! same statement that checks the lease is still its own. A failure records the error and waits
//! `backoff(failures)` before the same batch is tried again. A replica that stops lets its
//! leases go; one that dies holds them until they run out ([`LEASE_MS`]), then another replica
//! takes over from the stored cursor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use serde_json::Value;

use super::Target;
use crate::api::State;
use crate::siem::EventFilter;
use crate::store::sink::{Delivered, SinkRow};

/// Events per batch.
pub const BATCH: i64 = 500;
/// How long a lease runs unless renewed.
pub const LEASE_MS: i64 = 30_000;
/// How long a batch may take before it counts as failed (well inside the lease).
const DELIVERY_TIMEOUT: Duration = Duration::from_millis(LEASE_MS as u64 / 2);
/// How often an idle task looks for new events (an upload to this replica wakes it at once).
const IDLE: Duration = Duration::from_secs(1);
/// How often the loop looks for sinks added or removed.
const RESCAN: Duration = Duration::from_secs(2);

/// What a receiver made of a batch.
#[derive(Debug, Default)]
pub struct Batch {
    /// Events it took.
    pub delivered: i64,
    /// Events it refused for good: (event uid, reason).
    pub dead: Vec<(String, String)>,
}

impl Batch {
    /// Counts `event` as a dead letter.
    pub fn refuse(&mut self, event: &Value, reason: String) {
        let uid = event["metadata"]["uid"].as_str().unwrap_or("?").to_owned();
        self.dead.push((uid, reason));
    }
}

/// Sends a batch of feed events to a receiver.
#[async_trait::async_trait]
pub trait Deliver: Send + Sync {
    /// Sends `events`; `Err` (with what went wrong) when the whole batch must be tried again.
    async fn deliver(&self, events: &[Value]) -> Result<Batch, String>;
}

/// The wait before the next try after `failures` failures in a row: 0.5 s doubling up to 30 s,
/// with a quarter of jitter either way so that sinks do not retry in step.
pub fn backoff(failures: i64) -> Duration {
    let base = 500u64 << failures.clamp(1, 7).saturating_sub(1);
    let ms = base.min(30_000) as f64 * rand::thread_rng().gen_range(0.75..1.25);
    Duration::from_millis(ms as u64)
}

/// Aborts the tasks it holds when dropped (when `run` is aborted at shutdown).
#[derive(Default)]
struct Tasks(HashMap<String, tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in self.0.values() {
            task.abort();
        }
    }
}

/// Runs every sink in service until aborted.
pub async fn run(state: State) {
    let mut tasks = Tasks::default();
    loop {
        match state.store.sinks().await {
            Ok(rows) => {
                tasks.0.retain(|id, task| {
                    let keep = rows.iter().any(|r| &r.id == id) && !task.is_finished();
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for row in rows {
                    tasks
                        .0
                        .entry(row.id.clone())
                        .or_insert_with(|| tokio::spawn(push(state.clone(), row.id)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the sinks; will retry"),
        }
        tokio::time::sleep(RESCAN).await;
    }
}

/// Lets go of every lease this replica holds (at shutdown, after `run` was aborted).
pub async fn release(state: &State) {
    if let Ok(rows) = state.store.sinks().await {
        for row in rows {
            let _ = state.store.release_sink(&row.id, &state.replica).await;
        }
    }
}

fn sender(state: &State, row: &SinkRow) -> Result<Arc<dyn Deliver>, String> {
    let target = Target::parse(&row.target)?;
    match target.kind {
        "syslog" => super::syslog::sender(target, row.ca_pem.as_deref()),
        _ => {
            let sealed = row
                .secret_sealed
                .as_deref()
                .ok_or("the HEC sink has no token")?;
            let token = state
                .data_key
                .open(super::secret_place(&row.id).as_bytes(), sealed)
                .map_err(|_| "the HEC token does not open with the data key")?;
            let token = String::from_utf8(token).map_err(|_| "the HEC token is not text")?;
            super::hec::sender(target, row.ca_pem.as_deref(), token)
        }
    }
}

/// One attempt: `Ok(true)` when a batch went out, `Ok(false)` when there was nothing to send.
async fn attempt(state: &State, row: &SinkRow, to: &dyn Deliver) -> Result<bool, String> {
    let store = &state.store;
    let page = store
        .siem_page(&EventFilter::default(), row.cursor.as_deref(), BATCH)
        .await
        .map_err(|e| e.to_string())?
        .ok_or(
            "the sink's cursor is not one this database made; remove the sink and add it again",
        )?;
    if page.rows.is_empty() {
        return Ok(false);
    }
    let devices = store.devices().await.map_err(|e| e.to_string())?;
    let events = crate::siem::feed_events(&page.rows, &devices, &state.data_key)?;
    let batch = tokio::time::timeout(DELIVERY_TIMEOUT, to.deliver(&events))
        .await
        .map_err(|_| "the receiver took too long; the batch will be sent again".to_owned())??;
    let moved = store
        .sink_delivered(&Delivered {
            sink_id: &row.id,
            owner: &state.replica,
            from: row.cursor.as_deref(),
            to: &page.next,
            delivered: batch.delivered,
            dead: &batch.dead,
            now_ms: crate::clock::now_ms(),
        })
        .await
        .map_err(|e| e.to_string())?;
    if !moved {
        tracing::warn!(sink = %row.id, "lost the lease during a batch; another replica goes on");
    }
    Ok(true)
}

/// Pushes one sink for as long as it is in service.
async fn push(state: State, id: String) {
    let mut to: Option<Arc<dyn Deliver>> = None;
    loop {
        let now = crate::clock::now_ms();
        let row = match state
            .store
            .lease_sink(&id, &state.replica, now, now + LEASE_MS)
            .await
        {
            Ok(Some(row)) => row,
            Ok(None) => {
                // Another replica pushes it: look again when its lease could have run out.
                tokio::time::sleep(Duration::from_millis(LEASE_MS as u64 / 6)).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(sink = %id, error = %e, "cannot take the sink's lease; will retry");
                tokio::time::sleep(IDLE).await;
                continue;
            }
        };
        let result = match &to {
            Some(to) => attempt(&state, &row, to.as_ref()).await,
            None => match sender(&state, &row) {
                Ok(made) => {
                    to = Some(made);
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(true) => {}
            Ok(false) => {
                tokio::select! {
                    () = state.feed_wake.notified() => {}
                    () = tokio::time::sleep(IDLE) => {}
                }
            }
            Err(error) => {
                tracing::warn!(sink = %id, %error, "sink delivery failed; will retry");
                let now = crate::clock::now_ms();
                if let Err(e) = state
                    .store
                    .sink_failed(&id, &state.replica, &error, now)
                    .await
                {
                    tracing::warn!(sink = %id, error = %e, "cannot record the sink's failure");
                }
                tokio::time::sleep(backoff(row.failures + 1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_thirty_seconds() {
        for (failures, base) in [(1, 500), (2, 1000), (4, 4000), (7, 30_000), (50, 30_000)] {
            let ms = backoff(failures).as_millis() as u64;
            assert!(ms >= base * 3 / 4 && ms <= base * 5 / 4, "{failures}: {ms}");
        }
    }
}
