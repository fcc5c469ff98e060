//! The SQLite backend: one file under the data directory, WAL, one writer at a time.
//!
//! A chain transaction starts with `BEGIN IMMEDIATE`, which takes the write lock at once, so
//! two uploads (from two processes on one file, too) never interleave their reads and writes.

use std::collections::BTreeMap;
use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use headmaster_protocol::chain::Hash;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

use super::{
    ApiTokenRow, ChainRowStatus, DeviceRow, EventRow, NewDevice, QuarantineRow, RefusalRow,
    SiemPage, SiemRow, Store, StoreError, TokenProblem,
};
use crate::access::{access_genesis, AccessRow, AccessTx};
use crate::ingest::{ChainTx, Head, Quarantined, SealedRow};
use crate::siem::EventFilter;

/// Rows per INSERT statement (10 bound values each, well under SQLite's limit of 32,766).
const ROWS_PER_INSERT: usize = 500;

/// The row id a feed cursor (`s.<id>`) stands after; `None` for one this backend did not make.
fn feed_cursor(cursor: Option<&str>) -> Option<i64> {
    match cursor {
        None => Some(0),
        Some(c) => c.strip_prefix("s.").and_then(|n| n.parse().ok()),
    }
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
}

super::sink::sink_store!(SqliteStore);

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://PATH`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // A transaction whose COMMIT and then ROLLBACK failed (SQLite may roll back by
            // itself on a full disk) leaves sqlx counting it as open, and every later BEGIN on
            // that connection fails. Such a connection is closed instead of pooled.
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection as _;
                    // `begin_with` (unlike `begin`, which would nest a savepoint) fails when
                    // sqlx still counts a transaction open.
                    match conn.begin_with("BEGIN").await {
                        Ok(tx) => tx.rollback().await.map(|()| true),
                        Err(_) => Ok(false),
                    }
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn add_enroll_token(
        &self,
        hash: &[u8],
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO enroll_tokens (hash, created_ms, expires_ms) VALUES (?, ?, ?)")
            .bind(hash)
            .bind(now_ms)
            .bind(expires_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn enroll(
        &self,
        hash: &[u8],
        device: &NewDevice,
        now_ms: i64,
    ) -> Result<Result<(), TokenProblem>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let token: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT expires_ms, used_ms FROM enroll_tokens WHERE hash = ?")
                .bind(hash)
                .fetch_optional(&mut *tx)
                .await?;
        let problem = match token {
            None => Some(TokenProblem::Unknown),
            Some((_, Some(_))) => Some(TokenProblem::Used),
            Some((expires, None)) if expires <= now_ms => Some(TokenProblem::Expired),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Ok(Err(problem));
        }
        let taken: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT id, revoked_ms FROM devices WHERE fingerprint = ?")
                .bind(&device.fingerprint)
                .fetch_optional(&mut *tx)
                .await?;
        let reactivate = match taken {
            None => false,
            // A revoked key comes back only under its own id (see `Store::enroll`).
            Some((id, Some(_))) if id == device.id => true,
            Some(_) => return Ok(Err(TokenProblem::KeyTaken)),
        };
        sqlx::query(
            "UPDATE enroll_tokens SET used_ms = ?, used_by = ? WHERE hash = ? AND used_ms IS NULL",
        )
        .bind(now_ms)
        .bind(&device.id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        let statement = if reactivate {
            "UPDATE devices SET name_sealed = ?2, enrolled_ms = ?5, revoked_ms = NULL \
             WHERE id = ?1 AND fingerprint = ?3 AND public_key = ?4"
        } else {
            "INSERT INTO devices (id, name_sealed, fingerprint, public_key, enrolled_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)"
        };
        sqlx::query(statement)
            .bind(&device.id)
            .bind(&device.name_sealed)
            .bind(&device.fingerprint)
            .bind(&device.public_key)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn device_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<DeviceRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM devices WHERE fingerprint = ?")
                .bind(fingerprint)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn devices(&self) -> Result<Vec<DeviceRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM devices ORDER BY enrolled_ms, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn revoke_device(
        &self,
        id_or_fingerprint: &str,
        now_ms: i64,
    ) -> Result<Option<DeviceRow>, StoreError> {
        sqlx::query(
            "UPDATE devices SET revoked_ms = ? WHERE (id = ? OR fingerprint = ?) AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id_or_fingerprint)
        .bind(id_or_fingerprint)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_as("SELECT * FROM devices WHERE id = ? OR fingerprint = ?")
                .bind(id_or_fingerprint)
                .bind(id_or_fingerprint)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn use_nonce(
        &self,
        device_id: &str,
        nonce: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let fresh = sqlx::query(
            "INSERT INTO nonces (device_id, nonce, expires_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(device_id)
        .bind(nonce)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        // Seen at most once a minute, so a busy device does not rewrite its row per request.
        sqlx::query(
            "UPDATE devices SET last_seen_ms = ? WHERE id = ? AND (last_seen_ms IS NULL OR last_seen_ms < ?)",
        )
        .bind(now_ms)
        .bind(device_id)
        .bind(now_ms - 60_000)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(fresh)
    }

    async fn prune_nonces(&self, now_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM nonces WHERE expires_ms < ?")
            .bind(now_ms)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn chain_tx(&self, device_id: &str, scope: &str) -> Result<Box<dyn ChainTx>, StoreError> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteChainTx {
            tx,
            device_id: device_id.to_owned(),
            scope: scope.to_owned(),
        }))
    }

    async fn chains(&self, device_id: Option<&str>) -> Result<Vec<ChainRowStatus>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT device_id, scope, last_seq, last_hash, receipt, last_upload_ms FROM chains \
             WHERE ?1 IS NULL OR device_id = ?1 ORDER BY device_id, scope",
        )
        .bind(device_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn events(
        &self,
        device_id: &str,
        scope: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT device_id, scope, seq, hash, row_sealed, event_sealed FROM events \
             WHERE device_id = ? AND scope = ? AND seq BETWEEN ? AND ? ORDER BY seq",
        )
        .bind(device_id)
        .bind(scope)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn record_refusal(&self, r: &RefusalRow) -> Result<(), StoreError> {
        insert_refusal(&self.pool, r).await
    }

    async fn refusals(&self, limit: i64) -> Result<Vec<RefusalRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT device_id, scope, code, first_seq, last_seq, detail, time_ms FROM refusals \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn quarantined(&self) -> Result<Vec<QuarantineRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, device_id, scope, kind, seq, first_seq, last_seq, received_ms FROM quarantine \
             ORDER BY received_ms DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn add_api_token(&self, t: &ApiTokenRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, hash, scope, name, created_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&t.id)
        .bind(&t.hash)
        .bind(&t.scope)
        .bind(&t.name)
        .bind(t.created_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn use_api_token(
        &self,
        hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<ApiTokenRow>, StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_ms = ? WHERE hash = ? AND (last_used_ms IS NULL OR last_used_ms < ?)")
            .bind(now_ms)
            .bind(hash)
            .bind(now_ms - 60_000)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_as("SELECT * FROM api_tokens WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn api_tokens(&self) -> Result<Vec<ApiTokenRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM api_tokens ORDER BY created_ms, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn revoke_api_token(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL")
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected()
                == 1,
        )
    }

    async fn siem_page(
        &self,
        filter: &EventFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Option<SiemPage>, StoreError> {
        let Some(after) = feed_cursor(cursor) else {
            return Ok(None);
        };
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT id, device_id, scope, seq, event_sealed FROM events WHERE id > ",
        );
        q.push_bind(after);
        push_filters(&mut q, filter);
        q.push(" ORDER BY id LIMIT ").push_bind(limit);
        let rows: Vec<(i64, String, String, i64, Vec<u8>)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        let next = rows.last().map(|r| r.0).unwrap_or(after);
        Ok(Some(SiemPage {
            rows: rows
                .into_iter()
                .map(|(_, device_id, scope, seq, event_sealed)| SiemRow {
                    device_id,
                    scope,
                    seq,
                    event_sealed,
                })
                .collect(),
            next: format!("s.{next}"),
        }))
    }

    async fn siem_backlog(&self, cursor: Option<&str>) -> Result<Option<i64>, StoreError> {
        let Some(after) = feed_cursor(cursor) else {
            return Ok(None);
        };
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM events WHERE id > $1")
            .bind(after)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(n))
    }

    async fn siem_end(&self) -> Result<String, StoreError> {
        let (end,): (i64,) = sqlx::query_as("SELECT COALESCE(max(id), 0) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(format!("s.{end}"))
    }

    async fn access_tx(&self) -> Result<Box<dyn AccessTx>, StoreError> {
        Ok(Box::new(SqliteAccessTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
        }))
    }

    async fn access_rows(&self, after: i64, limit: i64) -> Result<Vec<AccessRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM access_log WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn access_checkpoints(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT checkpoint FROM access_checkpoints ORDER BY seq")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

struct SqliteAccessTx {
    tx: Transaction<'static, Sqlite>,
}

#[async_trait]
impl AccessTx for SqliteAccessTx {
    async fn head(&mut self) -> Result<(u64, Hash), StoreError> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT last_seq, last_hash FROM access_head WHERE id = 1")
                .fetch_optional(&mut *self.tx)
                .await?;
        if let Some((seq, hash)) = row {
            return Ok((seq as u64, to_hash(&hash)));
        }
        let genesis = access_genesis();
        sqlx::query("INSERT INTO access_head (id, last_seq, last_hash) VALUES (1, 0, ?)")
            .bind(&genesis[..])
            .execute(&mut *self.tx)
            .await?;
        Ok((0, genesis))
    }

    async fn insert(&mut self, rows: &[AccessRow]) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO access_log (seq, time, actor_kind, actor_id, action, target, outcome, \
                 source_sealed, payload_sealed, hash) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.seq)
                    .push_bind(&r.time)
                    .push_bind(&r.actor_kind)
                    .push_bind(&r.actor_id)
                    .push_bind(&r.action)
                    .push_bind(&r.target)
                    .push_bind(&r.outcome)
                    .push_bind(&r.source_sealed)
                    .push_bind(&r.payload_sealed)
                    .push_bind(&r.hash);
            });
            q.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn set_head(&mut self, seq: u64, hash: &Hash) -> Result<(), StoreError> {
        sqlx::query("UPDATE access_head SET last_seq = ?, last_hash = ? WHERE id = 1")
            .bind(seq as i64)
            .bind(&hash[..])
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn checkpoint(&mut self, seq: u64, json: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO access_checkpoints (seq, checkpoint) VALUES (?, ?)")
            .bind(seq as i64)
            .bind(json)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Appends the feed's filters to a query that already has a WHERE clause.
fn push_filters<'a>(q: &mut QueryBuilder<'a, Sqlite>, f: &'a EventFilter) {
    if let Some(v) = f.since_ms {
        q.push(" AND time_ms >= ").push_bind(v);
    }
    if let Some(v) = f.until_ms {
        q.push(" AND time_ms < ").push_bind(v);
    }
    if let Some(v) = &f.scope {
        q.push(" AND scope = ").push_bind(v);
    }
    if let Some(v) = &f.device_id {
        q.push(" AND device_id = ").push_bind(v);
    }
    if let Some(v) = f.class_uid {
        q.push(" AND class_uid = ").push_bind(v);
    }
    if let Some(v) = &f.actor_id {
        q.push(" AND actor_id = ").push_bind(v);
    }
}

async fn insert_refusal<'e, E: sqlx::Executor<'e, Database = Sqlite>>(
    exec: E,
    r: &RefusalRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refusals (device_id, scope, code, first_seq, last_seq, detail, time_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.device_id)
    .bind(&r.scope)
    .bind(&r.code)
    .bind(r.first_seq)
    .bind(r.last_seq)
    .bind(&r.detail)
    .bind(r.time_ms)
    .execute(exec)
    .await?;
    Ok(())
}

struct SqliteChainTx {
    tx: Transaction<'static, Sqlite>,
    device_id: String,
    scope: String,
}

#[async_trait]
impl ChainTx for SqliteChainTx {
    async fn head(
        &mut self,
        from: u64,
        to: u64,
    ) -> Result<(Head, BTreeMap<u64, Hash>), StoreError> {
        let row: Option<(i64, Vec<u8>, Option<String>)> = sqlx::query_as(
            "SELECT last_seq, last_hash, receipt FROM chains WHERE device_id = ? AND scope = ?",
        )
        .bind(&self.device_id)
        .bind(&self.scope)
        .fetch_optional(&mut *self.tx)
        .await?;
        let head = match row {
            Some((seq, hash, receipt)) => Head {
                seq: seq as u64,
                hash: to_hash(&hash),
                receipt,
            },
            None => {
                let genesis = headmaster_protocol::chain::genesis(&self.scope);
                sqlx::query("INSERT INTO chains (device_id, scope, last_seq, last_hash) VALUES (?, ?, 0, ?)")
                    .bind(&self.device_id)
                    .bind(&self.scope)
                    .bind(&genesis[..])
                    .execute(&mut *self.tx)
                    .await?;
                Head {
                    seq: 0,
                    hash: genesis,
                    receipt: None,
                }
            }
        };
        let held: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, hash FROM events WHERE device_id = ? AND scope = ? AND seq BETWEEN ? AND ?",
        )
        .bind(&self.device_id)
        .bind(&self.scope)
        .bind(from as i64)
        .bind(to.min(head.seq) as i64)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok((
            head,
            held.into_iter()
                .map(|(s, h)| (s as u64, to_hash(&h)))
                .collect(),
        ))
    }

    async fn insert_rows(&mut self, rows: &[SealedRow], now_ms: i64) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO events (device_id, scope, seq, hash, time_ms, class_uid, actor_id, \
                 row_sealed, event_sealed, received_ms) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(&self.device_id)
                    .push_bind(&self.scope)
                    .push_bind(r.seq)
                    .push_bind(&r.hash)
                    .push_bind(r.time_ms)
                    .push_bind(r.class_uid)
                    .push_bind(&r.actor_id)
                    .push_bind(&r.row_sealed)
                    .push_bind(&r.event_sealed)
                    .push_bind(now_ms);
            });
            q.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn set_head(
        &mut self,
        seq: u64,
        hash: &Hash,
        checkpoint: &str,
        receipt: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE chains SET last_seq = ?, last_hash = ?, checkpoint = ?, receipt = ?, last_upload_ms = ? \
             WHERE device_id = ? AND scope = ?",
        )
        .bind(seq as i64)
        .bind(&hash[..])
        .bind(checkpoint)
        .bind(receipt)
        .bind(now_ms)
        .bind(&self.device_id)
        .bind(&self.scope)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn quarantine(&mut self, q: Quarantined<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO quarantine (id, device_id, scope, kind, seq, first_seq, last_seq, segment_sealed, received_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&q.id)
        .bind(q.device_id)
        .bind(q.scope)
        .bind(q.kind)
        .bind(q.seq)
        .bind(q.first_seq)
        .bind(q.last_seq)
        .bind(&q.segment_sealed)
        .bind(q.now_ms)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn refusal(&mut self, r: &RefusalRow) -> Result<(), StoreError> {
        insert_refusal(&mut *self.tx, r).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A stored 32-byte hash (the database only ever holds hashes the server wrote).
pub(super) fn to_hash(bytes: &[u8]) -> Hash {
    let mut out = [0u8; 32];
    if bytes.len() == 32 {
        out.copy_from_slice(bytes);
    }
    out
}
