//! The PostgreSQL backend, for teams that run several server replicas on one database.
//!
//! Replicas agree through the database alone: a chain transaction locks the chain's head row
//! (`SELECT … FOR UPDATE`), so uploads of one chain take turns whichever replica receives them;
//! an enrollment token is spent by a conditional UPDATE that only one transaction can win; a
//! nonce is a primary key that only one INSERT can take. Rows go in with one `INSERT … SELECT
//! FROM UNNEST(…)` per segment, whatever its length.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use headmaster_protocol::chain::Hash;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};

use super::sqlite::to_hash;
use super::{
    ApiTokenRow, ChainRowStatus, DeviceRow, EventRow, NewDevice, QuarantineRow, RefusalRow,
    SiemPage, SiemRow, Store, StoreError, TokenProblem,
};
use crate::access::{access_genesis, AccessRow, AccessTx};
use crate::ingest::{ChainTx, Head, Quarantined, SealedRow};
use crate::siem::EventFilter;

/// The (transaction id, row id) a feed cursor (`p.<xact>.<id>`) stands after; `None` for one
/// this backend did not make.
fn feed_cursor(cursor: Option<&str>) -> Option<(String, i64)> {
    match cursor {
        None => Some(("0".into(), 0)),
        Some(c) => c
            .strip_prefix("p.")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(x, i)| Some((x.parse::<u64>().ok()?.to_string(), i.parse().ok()?))),
    }
}

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(super) pool: PgPool,
}

super::sink::sink_store!(PostgresStore);

impl PostgresStore {
    /// Connects to `url` and migrates the database.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(24)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // Replicas starting together must not run the migrations twice at once; sqlx takes an
        // advisory lock around them.
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

/// The feed's horizon: the oldest transaction of this database that was still running when the
/// statement's snapshot was taken (or the snapshot's end when none was). Events below it are all
/// committed, so a cursor past them never skips a row that commits later. Transactions of other
/// databases on the cluster (a long `pg_dump`, another application) are left out when
/// `pg_stat_activity` shows them still running elsewhere; one that finished in between counts,
/// which can only hold the feed back a moment.
const FEED_HORIZON: &str = "SELECT COALESCE(\
     (SELECT x FROM pg_snapshot_xip(pg_current_snapshot()) AS x \
      WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
                        WHERE a.backend_xid = xid(x) AND a.datname <> current_database()) \
      ORDER BY x LIMIT 1), \
     pg_snapshot_xmax(pg_current_snapshot()))";

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
        sqlx::query("INSERT INTO enroll_tokens (hash, created_ms, expires_ms) VALUES ($1, $2, $3)")
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
        let mut tx = self.pool.begin().await?;
        let spent = sqlx::query(
            "UPDATE enroll_tokens SET used_ms = $1, used_by = $2 \
             WHERE hash = $3 AND used_ms IS NULL AND expires_ms > $1",
        )
        .bind(now_ms)
        .bind(&device.id)
        .bind(hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if spent != 1 {
            let token: Option<(i64, Option<i64>)> =
                sqlx::query_as("SELECT expires_ms, used_ms FROM enroll_tokens WHERE hash = $1")
                    .bind(hash)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(Err(match token {
                None => TokenProblem::Unknown,
                Some((_, Some(_))) => TokenProblem::Used,
                Some(_) => TokenProblem::Expired,
            }));
        }
        let inserted = sqlx::query(
            "INSERT INTO devices (id, name_sealed, fingerprint, public_key, enrolled_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(&device.id)
        .bind(&device.name_sealed)
        .bind(&device.fingerprint)
        .bind(&device.public_key)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            // A revoked key comes back only under its own id (see `Store::enroll`).
            let reactivated = sqlx::query(
                "UPDATE devices SET name_sealed = $1, enrolled_ms = $2, revoked_ms = NULL \
                 WHERE id = $3 AND fingerprint = $4 AND revoked_ms IS NOT NULL",
            )
            .bind(&device.name_sealed)
            .bind(now_ms)
            .bind(&device.id)
            .bind(&device.fingerprint)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if reactivated != 1 {
                // Rolling back leaves the token unspent.
                return Ok(Err(TokenProblem::KeyTaken));
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn device_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<DeviceRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM devices WHERE fingerprint = $1")
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
            "UPDATE devices SET revoked_ms = $1 WHERE (id = $2 OR fingerprint = $2) AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id_or_fingerprint)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_as("SELECT * FROM devices WHERE id = $1 OR fingerprint = $1")
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
        let fresh = sqlx::query(
            "INSERT INTO nonces (device_id, nonce, expires_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(device_id)
        .bind(nonce)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        sqlx::query(
            "UPDATE devices SET last_seen_ms = $1 WHERE id = $2 AND (last_seen_ms IS NULL OR last_seen_ms < $3)",
        )
        .bind(now_ms)
        .bind(device_id)
        .bind(now_ms - 60_000)
        .execute(&self.pool)
        .await?;
        Ok(fresh)
    }

    async fn prune_nonces(&self, now_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM nonces WHERE expires_ms < $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn chain_tx(&self, device_id: &str, scope: &str) -> Result<Box<dyn ChainTx>, StoreError> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(PgChainTx {
            tx,
            device_id: device_id.to_owned(),
            scope: scope.to_owned(),
        }))
    }

    async fn chains(&self, device_id: Option<&str>) -> Result<Vec<ChainRowStatus>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT device_id, scope, last_seq, last_hash, receipt, last_upload_ms FROM chains \
             WHERE $1::text IS NULL OR device_id = $1 ORDER BY device_id, scope",
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
             WHERE device_id = $1 AND scope = $2 AND seq BETWEEN $3 AND $4 ORDER BY seq",
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
             ORDER BY id DESC LIMIT $1",
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
        sqlx::query("INSERT INTO api_tokens (id, hash, scope, name, created_ms) VALUES ($1, $2, $3, $4, $5)")
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
        sqlx::query("UPDATE api_tokens SET last_used_ms = $1 WHERE hash = $2 AND (last_used_ms IS NULL OR last_used_ms < $3)")
            .bind(now_ms)
            .bind(hash)
            .bind(now_ms - 60_000)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_as("SELECT * FROM api_tokens WHERE hash = $1")
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
        Ok(sqlx::query(
            "UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    async fn siem_page(
        &self,
        filter: &EventFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Option<SiemPage>, StoreError> {
        let Some((xact, id)) = feed_cursor(cursor) else {
            return Ok(None);
        };
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT xact::text AS cursor_xact, id, device_id, scope, seq, event_sealed FROM events \
             WHERE xact < (",
        );
        q.push(FEED_HORIZON).push(") AND (xact, id) > (");
        q.push_bind(xact.clone())
            .push("::xid8, ")
            .push_bind(id)
            .push(")");
        push_filters(&mut q, filter);
        // Ordered by the xid8 column itself, never by its text form (which sorts "1000" before "999").
        q.push(" ORDER BY events.xact, events.id LIMIT ")
            .push_bind(limit);
        let rows: Vec<(String, i64, String, String, i64, Vec<u8>)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        let next = match rows.last() {
            Some((x, i, ..)) => format!("p.{x}.{i}"),
            None => format!("p.{xact}.{id}"),
        };
        Ok(Some(SiemPage {
            rows: rows
                .into_iter()
                .map(|(_, _, device_id, scope, seq, event_sealed)| SiemRow {
                    device_id,
                    scope,
                    seq,
                    event_sealed,
                })
                .collect(),
            next,
        }))
    }

    async fn siem_backlog(&self, cursor: Option<&str>) -> Result<Option<i64>, StoreError> {
        let Some((xact, id)) = feed_cursor(cursor) else {
            return Ok(None);
        };
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM events WHERE (xact, id) > ($1::xid8, $2)")
                .bind(xact)
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some(n))
    }

    async fn siem_end(&self) -> Result<String, StoreError> {
        let end: Option<(String, i64)> = sqlx::query_as(&format!(
            "SELECT xact::text, id FROM events WHERE xact < ({FEED_HORIZON}) \
             ORDER BY xact DESC, id DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        let (xact, id) = end.unwrap_or(("0".into(), 0));
        Ok(format!("p.{xact}.{id}"))
    }

    async fn access_tx(&self) -> Result<Box<dyn AccessTx>, StoreError> {
        Ok(Box::new(PgAccessTx {
            tx: self.pool.begin().await?,
        }))
    }

    async fn access_rows(&self, after: i64, limit: i64) -> Result<Vec<AccessRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM access_log WHERE seq > $1 ORDER BY seq LIMIT $2")
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

struct PgAccessTx {
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl AccessTx for PgAccessTx {
    async fn head(&mut self) -> Result<(u64, Hash), StoreError> {
        sqlx::query("INSERT INTO access_head (id, last_seq, last_hash) VALUES (1, 0, $1) ON CONFLICT DO NOTHING")
            .bind(&access_genesis()[..])
            .execute(&mut *self.tx)
            .await?;
        let (seq, hash): (i64, Vec<u8>) =
            sqlx::query_as("SELECT last_seq, last_hash FROM access_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *self.tx)
                .await?;
        Ok((seq as u64, to_hash(&hash)))
    }

    async fn insert(&mut self, rows: &[AccessRow]) -> Result<(), StoreError> {
        let col = |f: fn(&AccessRow) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
        let blob = |f: fn(&AccessRow) -> &[u8]| rows.iter().map(f).collect::<Vec<&[u8]>>();
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        sqlx::query(
            "INSERT INTO access_log (seq, time, actor_kind, actor_id, action, target, outcome, \
             source_sealed, payload_sealed, hash) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::bytea[], $9::bytea[], $10::bytea[])",
        )
        .bind(&seqs)
        .bind(col(|r| &r.time))
        .bind(col(|r| &r.actor_kind))
        .bind(col(|r| &r.actor_id))
        .bind(col(|r| &r.action))
        .bind(col(|r| &r.target))
        .bind(col(|r| &r.outcome))
        .bind(blob(|r| &r.source_sealed))
        .bind(blob(|r| &r.payload_sealed))
        .bind(blob(|r| &r.hash))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn set_head(&mut self, seq: u64, hash: &Hash) -> Result<(), StoreError> {
        sqlx::query("UPDATE access_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
            .bind(seq as i64)
            .bind(&hash[..])
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn checkpoint(&mut self, seq: u64, json: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO access_checkpoints (seq, checkpoint) VALUES ($1, $2)")
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
fn push_filters<'a>(q: &mut QueryBuilder<'a, Postgres>, f: &'a EventFilter) {
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

async fn insert_refusal<'e, E: sqlx::Executor<'e, Database = Postgres>>(
    exec: E,
    r: &RefusalRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refusals (device_id, scope, code, first_seq, last_seq, detail, time_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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

struct PgChainTx {
    tx: Transaction<'static, Postgres>,
    device_id: String,
    scope: String,
}

#[async_trait]
impl ChainTx for PgChainTx {
    async fn head(
        &mut self,
        from: u64,
        to: u64,
    ) -> Result<(Head, BTreeMap<u64, Hash>), StoreError> {
        let genesis = headmaster_protocol::chain::genesis(&self.scope);
        sqlx::query(
            "INSERT INTO chains (device_id, scope, last_seq, last_hash) VALUES ($1, $2, 0, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&self.device_id)
        .bind(&self.scope)
        .bind(&genesis[..])
        .execute(&mut *self.tx)
        .await?;
        let (seq, hash, receipt): (i64, Vec<u8>, Option<String>) = sqlx::query_as(
            "SELECT last_seq, last_hash, receipt FROM chains WHERE device_id = $1 AND scope = $2 FOR UPDATE",
        )
        .bind(&self.device_id)
        .bind(&self.scope)
        .fetch_one(&mut *self.tx)
        .await?;
        let head = Head {
            seq: seq as u64,
            hash: to_hash(&hash),
            receipt,
        };
        let held: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, hash FROM events WHERE device_id = $1 AND scope = $2 AND seq BETWEEN $3 AND $4",
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
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let hashes: Vec<&[u8]> = rows.iter().map(|r| &r.hash[..]).collect();
        let times: Vec<i64> = rows.iter().map(|r| r.time_ms).collect();
        let classes: Vec<i32> = rows.iter().map(|r| r.class_uid).collect();
        let actors: Vec<&str> = rows.iter().map(|r| r.actor_id.as_str()).collect();
        let row_bodies: Vec<&[u8]> = rows.iter().map(|r| &r.row_sealed[..]).collect();
        let event_bodies: Vec<&[u8]> = rows.iter().map(|r| &r.event_sealed[..]).collect();
        sqlx::query(
            "INSERT INTO events (device_id, scope, seq, hash, time_ms, class_uid, actor_id, \
             row_sealed, event_sealed, received_ms) \
             SELECT $1, $2, u.seq, u.hash, u.time_ms, u.class_uid, u.actor_id, u.row_sealed, u.event_sealed, $10 \
             FROM UNNEST($3::bigint[], $4::bytea[], $5::bigint[], $6::int[], $7::text[], $8::bytea[], $9::bytea[]) \
             AS u (seq, hash, time_ms, class_uid, actor_id, row_sealed, event_sealed)",
        )
        .bind(&self.device_id)
        .bind(&self.scope)
        .bind(&seqs)
        .bind(&hashes)
        .bind(&times)
        .bind(&classes)
        .bind(&actors)
        .bind(&row_bodies)
        .bind(&event_bodies)
        .bind(now_ms)
        .execute(&mut *self.tx)
        .await?;
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
            "UPDATE chains SET last_seq = $1, last_hash = $2, checkpoint = $3, receipt = $4, last_upload_ms = $5 \
             WHERE device_id = $6 AND scope = $7",
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
