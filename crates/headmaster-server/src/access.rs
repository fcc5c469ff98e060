//! The server's own access log: every API call, hash-chained and checkpointed in the format of
//! a desktop's audit chain, so `headmaster audit verify-bundle` checks an export of it.
//!
//! The request path hands each call's entry to a writer task over a bounded channel (a full
//! channel slows requests down rather than dropping entries). The writer appends in batches:
//! one transaction per batch locks the chain head, numbers and hashes the entries, stores them
//! and moves the head, so replicas on one PostgreSQL extend one chain without forking it. Every
//! [`CHECKPOINT_EVERY`] rows the server key signs a checkpoint. An entry reaches the database a
//! few milliseconds after its response; `serve` flushes the writer before it returns, so only a
//! crash can lose the entries of its last moment.

use std::sync::Arc;

use async_trait::async_trait;
use headmaster_protocol::bundle::{BundleHeader, BundleSummary, BundleWriter};
use headmaster_protocol::chain::{genesis, Anchor, ChainRow, Hash, StoredEvent};
use headmaster_protocol::checkpoint::{Checkpoint, SignedCheckpoint};
use headmaster_protocol::json::CheckpointJson;
use headmaster_protocol::ocsf::{Actor, AuditRecord, Source};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::api::AccessEntry;
use crate::keys::{DataKey, ServerKey};
use crate::store::{Store, StoreError};

/// The scope of the access chain.
pub const ACCESS_SCOPE: &str = "server-access";
/// A checkpoint is signed whenever the chain passes a multiple of this many rows.
pub const CHECKPOINT_EVERY: u64 = 1000;
/// Entries waiting for the writer before requests have to wait.
const QUEUE: usize = 8192;
/// Entries appended in one transaction at most.
const BATCH: usize = 512;

/// One access-log row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessRow {
    pub seq: i64,
    pub time: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub source_sealed: Vec<u8>,
    pub payload_sealed: Vec<u8>,
    pub hash: Vec<u8>,
}

/// A backend transaction with the access chain's head locked.
#[async_trait]
pub trait AccessTx: Send {
    /// The head (seq 0 and the genesis value when the chain is empty).
    async fn head(&mut self) -> Result<(u64, Hash), StoreError>;
    /// Stores rows.
    async fn insert(&mut self, rows: &[AccessRow]) -> Result<(), StoreError>;
    /// Moves the head.
    async fn set_head(&mut self, seq: u64, hash: &Hash) -> Result<(), StoreError>;
    /// Stores a signed checkpoint (JSON).
    async fn checkpoint(&mut self, seq: u64, json: &str) -> Result<(), StoreError>;
    /// Commits.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

enum Message {
    Entry(AccessEntry),
    Flush(oneshot::Sender<()>),
}

/// The handle the request path writes to.
#[derive(Debug, Clone)]
pub struct AccessLog {
    queue: mpsc::Sender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("access-log message")
    }
}

impl AccessLog {
    /// Starts the writer task.
    pub fn start(
        store: Arc<dyn Store>,
        data_key: Arc<DataKey>,
        server_key: Arc<ServerKey>,
    ) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(rx, store, data_key, server_key));
        Self { queue }
    }

    /// Queues one entry.
    pub async fn record(&self, entry: AccessEntry) {
        if self.queue.send(Message::Entry(entry)).await.is_err() {
            tracing::error!("the access-log writer has stopped; an entry was not recorded");
        }
    }

    /// Waits until every entry queued before this call is in the database.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_loop(
    mut rx: mpsc::Receiver<Message>,
    store: Arc<dyn Store>,
    data_key: Arc<DataKey>,
    server_key: Arc<ServerKey>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Entry(e) => batch.push(e),
                Message::Flush(done) => flushes.push(done),
            }
            if batch.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        // A failed append is retried with the same entries until the database is back.
        let mut delay = std::time::Duration::from_millis(100);
        while !batch.is_empty() {
            match append(&*store, &data_key, &server_key, &batch).await {
                Ok(()) => batch.clear(),
                Err(e) => {
                    tracing::error!(error = %e, entries = batch.len(), "access-log append failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
            }
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Appends `entries` to the access chain in one transaction.
pub async fn append(
    store: &dyn Store,
    data_key: &DataKey,
    server_key: &ServerKey,
    entries: &[AccessEntry],
) -> Result<(), StoreError> {
    let mut tx = store.access_tx().await?;
    let (mut seq, mut hash) = tx.head().await?;
    let mut rows = Vec::with_capacity(entries.len());
    let mut checkpoints = Vec::new();
    for entry in entries {
        seq += 1;
        let event = to_event(seq, entry);
        hash = event.chain_hash(&hash);
        rows.push(AccessRow {
            seq: seq as i64,
            source_sealed: data_key.seal(place("source", seq).as_bytes(), &event.source),
            payload_sealed: data_key.seal(place("payload", seq).as_bytes(), &event.payload),
            time: event.time,
            actor_kind: event.actor_kind,
            actor_id: event.actor_id,
            action: event.action,
            target: event.target,
            outcome: event.outcome,
            hash: hash.to_vec(),
        });
        if seq.is_multiple_of(CHECKPOINT_EVERY) {
            checkpoints.push(sign_checkpoint(server_key, seq, hash));
        }
    }
    tx.insert(&rows).await?;
    tx.set_head(seq, &hash).await?;
    for (seq, json) in checkpoints {
        tx.checkpoint(seq, &json).await?;
    }
    tx.commit().await
}

/// Writes the whole access chain as a signed bundle at `out`, with a fresh checkpoint over its
/// last row, reporting rows written to `progress`.
pub async fn export(
    store: &dyn Store,
    data_key: &DataKey,
    server_key: &ServerKey,
    out: &std::path::Path,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<BundleSummary> {
    let mut writer = BundleWriter::create(
        out,
        BundleHeader {
            scope: ACCESS_SCOPE.to_owned(),
            scope_name: "headmaster-server access log".to_owned(),
            anchor: Anchor::genesis(ACCESS_SCOPE),
            created: crate::clock::rfc3339(crate::clock::now_ms()),
        },
    )?;
    let mut after = 0i64;
    let mut last: Option<(u64, Hash)> = None;
    loop {
        let page = store.access_rows(after, 5000).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            let (chain_row, record) = open_row(data_key, row)?;
            writer.append(&chain_row, &record)?;
            last = Some((chain_row.event.seq, chain_row.hash));
        }
        after = page.last().map(|r| r.seq).unwrap_or(after);
        progress(writer.rows_written());
    }
    let mut checkpoints: Vec<SignedCheckpoint> = Vec::new();
    for json in store.access_checkpoints().await? {
        let parsed: CheckpointJson = serde_json::from_str(&json)?;
        checkpoints.push(SignedCheckpoint::try_from(parsed)?);
    }
    if let Some((seq, hash)) = last {
        if checkpoints.iter().all(|c| c.checkpoint.seq != seq) {
            let (_, json) = sign_checkpoint(server_key, seq, hash);
            checkpoints.push(SignedCheckpoint::try_from(serde_json::from_str::<
                CheckpointJson,
            >(&json)?)?);
        }
    }
    Ok(writer.finish(&checkpoints, server_key.signing())?)
}

/// The chain row and OCSF record of a stored access row.
fn open_row(
    data_key: &DataKey,
    row: &AccessRow,
) -> anyhow::Result<(ChainRow, AuditRecord<'static>)> {
    let seq = row.seq as u64;
    let source = data_key.open(place("source", seq).as_bytes(), &row.source_sealed)?;
    let payload = data_key.open(place("payload", seq).as_bytes(), &row.payload_sealed)?;
    let source_json: serde_json::Value = serde_json::from_slice(&source).unwrap_or_default();
    let payload_json: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
    let text = |v: &serde_json::Value, k: &str| {
        v[k].as_str().map(|s| std::borrow::Cow::Owned(s.to_owned()))
    };
    let record = AuditRecord {
        scope: ACCESS_SCOPE.into(),
        seq,
        time: row.time.clone().into(),
        actor: Actor {
            kind: row.actor_kind.clone().into(),
            id: row.actor_id.clone().into(),
            name: if row.actor_id.is_empty() {
                "anonymous".into()
            } else {
                row.actor_id.clone().into()
            },
        },
        action: row.action.clone().into(),
        target: row.target.clone().into(),
        target_name: None,
        outcome: row.outcome.clone().into(),
        source: Source {
            client: Some("headmaster-server".into()),
            host: None,
            os_user: None,
            ip: text(&source_json, "ip"),
            user_agent: text(&source_json, "user_agent"),
        },
        run_id: "".into(),
        step_id: "".into(),
        approval_id: "".into(),
        payload: std::borrow::Cow::Owned(payload_json),
        ai_agent: None,
    };
    let mut hash = [0u8; 32];
    if row.hash.len() == 32 {
        hash.copy_from_slice(&row.hash);
    }
    let event = StoredEvent {
        seq,
        time: row.time.clone(),
        actor_kind: row.actor_kind.clone(),
        actor_id: row.actor_id.clone(),
        action: row.action.clone(),
        target: row.target.clone(),
        outcome: row.outcome.clone(),
        run_id: String::new(),
        step_id: String::new(),
        approval_id: String::new(),
        source,
        payload,
    };
    Ok((ChainRow { event, hash }, record))
}

/// The chain event of one API call. The source and payload are JSON, hashed in clear.
fn to_event(seq: u64, entry: &AccessEntry) -> StoredEvent {
    let (actor_kind, actor_id) = match entry.caller.as_deref().and_then(|c| c.split_once(':')) {
        Some((kind, id)) => (kind.to_owned(), id.to_owned()),
        None => ("anonymous".to_owned(), String::new()),
    };
    let verb = match entry.method.as_str() {
        "GET" | "HEAD" => "read",
        "POST" => "created",
        "PUT" | "PATCH" => "updated",
        "DELETE" => "deleted",
        _ => "requested",
    };
    let outcome = match entry.status {
        200..=399 => "allowed",
        401 | 403 => "denied",
        _ => "failed",
    };
    StoredEvent {
        seq,
        time: crate::clock::rfc3339(entry.time_ms),
        actor_kind,
        actor_id,
        action: format!("access.{verb}"),
        target: entry.path.clone(),
        outcome: outcome.to_owned(),
        run_id: String::new(),
        step_id: String::new(),
        approval_id: String::new(),
        source: serde_json::to_vec(&json!({"ip": entry.ip, "user_agent": entry.user_agent}))
            .expect("JSON serialises"),
        payload: serde_json::to_vec(&json!({
            "method": entry.method,
            "path": entry.path,
            "status": entry.status,
            "code": entry.code,
            "duration_us": entry.duration_us,
        }))
        .expect("JSON serialises"),
    }
}

fn sign_checkpoint(server_key: &ServerKey, seq: u64, hash: Hash) -> (u64, String) {
    let signed = Checkpoint {
        scope: ACCESS_SCOPE.to_owned(),
        seq,
        hash,
        time: crate::clock::rfc3339(crate::clock::now_ms()),
    }
    .sign(server_key.signing());
    (
        seq,
        serde_json::to_string(&CheckpointJson::from(&signed)).expect("a checkpoint serialises"),
    )
}

/// Where an access row's source or payload is sealed.
fn place(kind: &str, seq: u64) -> String {
    format!("access-{kind}|{seq}")
}

/// The genesis value of the access chain, for a store creating its head row.
pub fn access_genesis() -> Hash {
    genesis(ACCESS_SCOPE)
}
