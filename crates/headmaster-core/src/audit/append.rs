//! Appending to a chain.
//!
//! An append happens in three steps so that it can share a transaction with the change it
//! records: [`prepare`] gathers the keys (it may touch the key store, so it runs before any
//! transaction), [`write`] seals, hashes and inserts inside the caller's `BEGIN IMMEDIATE`
//! transaction, and the caller commits both together. If the audit row cannot be written the
//! transaction fails and the recorded change does not happen: the log is fail-closed.

use std::sync::Arc;

use headmaster_protocol::chain::{genesis, Hash, StoredEvent};
use headmaster_protocol::checkpoint::Checkpoint;
use sqlx::SqliteConnection;

use super::event::{ActorKind, NewEvent};
use super::{AuditError, DeviceKey};
use crate::clock::rfc3339_ms;
use crate::vault::keys::Key256;
use crate::vault::seal::{seal_with, Aad, KeyRef};
use crate::vault::{ScopeKeys, Vault};

/// A checkpoint is signed every this many events…
pub const CHECKPOINT_EVERY: u64 = 256;
/// …or when the last one is older than this (ms).
pub const CHECKPOINT_INTERVAL_MS: i64 = 10 * 60 * 1000;

/// An event with the keys needed to seal it.
#[derive(Debug)]
pub struct Prepared {
    event: NewEvent,
    keys: Arc<ScopeKeys>,
    subject: Option<(Arc<Key256>, [u8; 16])>,
}

/// Gathers the keys for `event` in `scope`. Call before opening the write transaction.
pub async fn prepare(vault: &Vault, scope: &str, event: NewEvent) -> Result<Prepared, AuditError> {
    let keys = vault.keys(scope).await?;
    let subject = if event.actor.kind == ActorKind::User {
        match vault.subject_key(&event.actor.id).await? {
            Some(key) => {
                let id = uuid::Uuid::parse_str(&event.actor.id).map_err(|_| {
                    AuditError::Invalid(format!("actor id {} is not a UUID", event.actor.id))
                })?;
                Some((key, *id.as_bytes()))
            }
            // An erased user can still appear as an actor (e.g. the erasure's own follow-up
            // events); their source is then sealed under the scope key and holds nothing personal.
            None => None,
        }
    } else {
        None
    };
    Ok(Prepared {
        event,
        keys,
        subject,
    })
}

/// Writes a prepared event inside the caller's transaction; returns its sequence number.
pub async fn write(
    conn: &mut SqliteConnection,
    scope: &str,
    device: &DeviceKey,
    prepared: Prepared,
    now_ms: i64,
) -> Result<u64, AuditError> {
    let mut tip = ChainTip::load(conn, scope).await?;
    tip.write(conn, scope, device, prepared, now_ms).await
}

/// The end of a chain inside one write transaction: the last sequence number and hash, and
/// when the last checkpoint was made. Loaded once, it lets a batch of events be appended with
/// one statement each instead of three (the transaction's write lock keeps it true).
#[derive(Debug, Clone)]
pub struct ChainTip {
    seq: u64,
    hash: Hash,
    last_checkpoint_ms: Option<i64>,
}

/// What `ChainTip::load` reads: the last event and the last checkpoint's time.
#[derive(sqlx::FromRow)]
struct TipRow {
    seq: Option<i64>,
    hash: Option<Vec<u8>>,
    checkpoint_time: Option<String>,
}

/// What `ChainTip::load_with_policy_time` reads.
#[derive(sqlx::FromRow)]
struct TipPolicyRow {
    #[sqlx(flatten)]
    tip: TipRow,
    policy_time: Option<i64>,
}

impl ChainTip {
    /// Reads the end of the chain. Call inside the write transaction that appends.
    pub async fn load(conn: &mut SqliteConnection, scope: &str) -> Result<Self, AuditError> {
        // One statement for the common case: the last event and the last checkpoint's time.
        let last = sqlx::query_as::<_, TipRow>(
            "SELECT (SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1) AS seq,
                    (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS hash,
                    (SELECT time FROM audit_checkpoints ORDER BY seq DESC LIMIT 1) AS checkpoint_time",
        )
        .fetch_one(&mut *conn)
        .await?;
        Self::from_row(conn, scope, last).await
    }

    /// Like [`ChainTip::load`] for a workspace chain, and in the same statement the change time
    /// of the workspace's stored policy (0 when it was never changed), so that a decision
    /// taken under a cached policy is checked inside the write transaction at no extra cost.
    pub async fn load_with_policy_time(
        conn: &mut SqliteConnection,
        scope: &str,
    ) -> Result<(Self, i64), AuditError> {
        let last = sqlx::query_as::<_, TipPolicyRow>(
            "SELECT (SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1) AS seq,
                    (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS hash,
                    (SELECT time FROM audit_checkpoints ORDER BY seq DESC LIMIT 1) AS checkpoint_time,
                    (SELECT updated_at FROM settings WHERE id = 'policy') AS policy_time",
        )
        .fetch_one(&mut *conn)
        .await?;
        let policy_time = last.policy_time.unwrap_or(0);
        Ok((Self::from_row(conn, scope, last.tip).await?, policy_time))
    }

    async fn from_row(
        conn: &mut SqliteConnection,
        scope: &str,
        last: TipRow,
    ) -> Result<Self, AuditError> {
        let (seq, hash) = match (last.seq, last.hash) {
            (Some(seq), Some(hash)) => (seq as u64, to_hash(&hash)?),
            _ => match last_archived(&mut *conn).await? {
                Some(anchor) => anchor,
                None => (0, genesis(scope)),
            },
        };
        Ok(Self {
            seq,
            hash,
            last_checkpoint_ms: last
                .checkpoint_time
                .and_then(|t| crate::clock::parse_rfc3339_ms(&t)),
        })
    }

    /// Seals, hashes and inserts one event after the tip, signs a checkpoint when one is due,
    /// and moves the tip; returns the event's sequence number.
    pub async fn write(
        &mut self,
        conn: &mut SqliteConnection,
        scope: &str,
        device: &DeviceKey,
        prepared: Prepared,
        now_ms: i64,
    ) -> Result<u64, AuditError> {
        self.write_all(conn, scope, device, vec![prepared], now_ms)
            .await?;
        Ok(self.seq)
    }

    /// Appends `events` in order with one INSERT (a step's events share a statement), signs
    /// the checkpoints that fall due, and moves the tip past the last one.
    pub async fn write_all(
        &mut self,
        conn: &mut SqliteConnection,
        scope: &str,
        device: &DeviceKey,
        events: Vec<Prepared>,
        now_ms: i64,
    ) -> Result<(), AuditError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(events.len());
        let mut due = Vec::new();
        for prepared in events {
            let (stored, hash) = self.seal_next(scope, prepared, now_ms)?;
            let checkpoint_due = stored.seq.is_multiple_of(CHECKPOINT_EVERY)
                || match self.last_checkpoint_ms {
                    Some(last_ms) => now_ms - last_ms >= CHECKPOINT_INTERVAL_MS,
                    None => stored.seq == 1,
                };
            if checkpoint_due {
                due.push((stored.seq, hash));
                self.last_checkpoint_ms = Some(now_ms);
            }
            rows.push((stored, hash));
        }
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO audit_events (seq, time, actor_kind, actor_id, action, target, outcome,
                 run_id, step_id, approval_id, source, payload, hash) ",
        );
        insert.push_values(&rows, |mut row, (stored, hash)| {
            row.push_bind(stored.seq as i64)
                .push_bind(&stored.time)
                .push_bind(&stored.actor_kind)
                .push_bind(&stored.actor_id)
                .push_bind(&stored.action)
                .push_bind(&stored.target)
                .push_bind(&stored.outcome)
                .push_bind(&stored.run_id)
                .push_bind(&stored.step_id)
                .push_bind(&stored.approval_id)
                .push_bind(&stored.source)
                .push_bind(&stored.payload)
                .push_bind(hash.as_slice());
        });
        insert.build().execute(&mut *conn).await?;
        for (seq, hash) in due {
            write_checkpoint(conn, scope, device, seq, hash, now_ms).await?;
        }
        Ok(())
    }

    /// Seals the next event and computes its chain hash; moves the tip's sequence and hash.
    fn seal_next(
        &mut self,
        scope: &str,
        prepared: Prepared,
        now_ms: i64,
    ) -> Result<(StoredEvent, Hash), AuditError> {
        let seq = self.seq + 1;
        let row = seq.to_string();
        let Prepared {
            event,
            keys,
            subject,
        } = prepared;
        let source_json =
            serde_json::to_vec(&event.source).map_err(|e| AuditError::Invalid(e.to_string()))?;
        let source_aad = Aad::new(scope, "audit_events", "source", &row);
        let source = match &subject {
            Some((key, id)) => seal_with(key, KeyRef::Subject(*id), &source_aad, &source_json),
            None => keys.seal_audit_now(&source_aad, &source_json)?,
        };
        let payload_json =
            serde_json::to_vec(&event.payload).map_err(|e| AuditError::Invalid(e.to_string()))?;
        let payload = keys.seal_audit_now(
            &Aad::new(scope, "audit_events", "payload", &row),
            &payload_json,
        )?;
        let stored = StoredEvent {
            seq,
            time: rfc3339_ms(now_ms),
            actor_kind: event.actor.kind.as_str().to_string(),
            actor_id: event.actor.id,
            action: event.action,
            target: event.target,
            outcome: event.outcome.as_str().to_string(),
            run_id: event.correlation.run_id,
            step_id: event.correlation.step_id,
            approval_id: event.correlation.approval_id,
            source,
            payload,
        };
        let hash = stored.chain_hash(&self.hash);
        self.seq = seq;
        self.hash = hash;
        Ok((stored, hash))
    }
}

/// Appends one event in its own transaction: for this repository's benchmarks only. The core
/// writes every event through `Change`, with the change it records.
#[cfg(feature = "internals")]
pub async fn append(
    pool: &sqlx::SqlitePool,
    vault: &Vault,
    device: &DeviceKey,
    scope: &str,
    event: NewEvent,
    now_ms: i64,
) -> Result<u64, AuditError> {
    let prepared = prepare(vault, scope, event).await?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let seq = write(&mut tx, scope, device, prepared, now_ms).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Signs and stores a checkpoint over the row `seq` whose chain hash is `hash`.
pub async fn write_checkpoint(
    conn: &mut SqliteConnection,
    scope: &str,
    device: &DeviceKey,
    seq: u64,
    hash: Hash,
    now_ms: i64,
) -> Result<(), AuditError> {
    let signed = Checkpoint {
        scope: scope.to_string(),
        seq,
        hash,
        time: rfc3339_ms(now_ms),
    }
    .sign(device.signing_key());
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, time, key_fingerprint, signature)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING",
    )
    .bind(seq as i64)
    .bind(hash.as_slice())
    .bind(&signed.checkpoint.time)
    .bind(&signed.key_fingerprint)
    .bind(signed.signature.as_slice())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn last_archived(conn: &mut SqliteConnection) -> Result<Option<(u64, Hash)>, AuditError> {
    let row = sqlx::query_as::<_, (i64, Vec<u8>)>(
        "SELECT last_seq, last_hash FROM audit_segments ORDER BY last_seq DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some((seq, hash)) => Ok(Some((seq as u64, to_hash(&hash)?))),
        None => Ok(None),
    }
}

pub(crate) fn to_hash(bytes: &[u8]) -> Result<Hash, AuditError> {
    bytes
        .try_into()
        .map_err(|_| AuditError::Invalid("a stored chain hash is not 32 bytes".into()))
}
