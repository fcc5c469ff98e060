//! Push sinks as stored: their configuration, their cursor into the feed, their counters, and the
//! lease that lets one replica at a time push each of them.
//!
//! The SQL is the same on both backends (SQLite reads `$1` placeholders as PostgreSQL does), so
//! one macro writes both implementations.

use async_trait::async_trait;

use super::StoreError;

/// A sink as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SinkRow {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub name: String,
    pub ca_pem: Option<String>,
    pub secret_sealed: Option<Vec<u8>>,
    pub cursor: Option<String>,
    pub delivered: i64,
    pub dead_letters: i64,
    pub failures: i64,
    pub last_error: Option<String>,
    pub last_error_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub lease_owner: Option<String>,
    pub lease_until_ms: Option<i64>,
    pub created_ms: i64,
    pub removed_ms: Option<i64>,
}

/// A sink to add.
#[derive(Debug, Clone)]
pub struct NewSink {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub name: String,
    pub ca_pem: Option<String>,
    pub secret_sealed: Option<Vec<u8>>,
    /// Where it starts in the feed (`None`: the beginning).
    pub cursor: Option<String>,
    pub created_ms: i64,
}

/// One event a receiver refused for good.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetterRow {
    pub sink_id: String,
    pub event_uid: String,
    pub reason: String,
    pub time_ms: i64,
}

/// A batch the receiver took: move the cursor from `from` to `to`.
#[derive(Debug)]
pub struct Delivered<'a> {
    pub sink_id: &'a str,
    /// The lease holder; the update applies only while it holds the lease.
    pub owner: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    /// Events the receiver took.
    pub delivered: i64,
    /// Events it refused for good: (event uid, reason).
    pub dead: &'a [(String, String)],
    pub now_ms: i64,
}

/// What the push sinks store.
#[async_trait]
pub trait SinkStore {
    /// Adds a sink.
    async fn add_sink(&self, sink: &NewSink) -> Result<(), StoreError>;
    /// The sinks in service, oldest first.
    async fn sinks(&self) -> Result<Vec<SinkRow>, StoreError>;
    /// Takes a sink out of service; `false` when there is no such sink in service.
    async fn remove_sink(&self, id: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// Takes or renews the lease on a sink until `until_ms`; the sink when the lease is
    /// `owner`'s, `None` when another replica holds it or the sink was removed.
    async fn lease_sink(
        &self,
        id: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<SinkRow>, StoreError>;
    /// Lets the lease go (at shutdown), so another replica takes over at once.
    async fn release_sink(&self, id: &str, owner: &str) -> Result<(), StoreError>;
    /// Records a delivered batch: `false` (and nothing changed) when the lease was lost or the
    /// cursor moved meanwhile.
    async fn sink_delivered(&self, batch: &Delivered<'_>) -> Result<bool, StoreError>;
    /// Records a failed attempt: the error, one more failure in a row.
    async fn sink_failed(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// The dead letters of one sink, oldest first.
    async fn dead_letters(&self, sink_id: &str) -> Result<Vec<DeadLetterRow>, StoreError>;
}

/// Implements [`SinkStore`] for a backend whose struct has a sqlx `pool`.
macro_rules! sink_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::sink::SinkStore for $store {
            async fn add_sink(
                &self,
                s: &$crate::store::sink::NewSink,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO sinks (id, kind, target, name, ca_pem, secret_sealed, cursor, \
                     created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&s.id)
                .bind(&s.kind)
                .bind(&s.target)
                .bind(&s.name)
                .bind(&s.ca_pem)
                .bind(&s.secret_sealed)
                .bind(&s.cursor)
                .bind(s.created_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn sinks(
                &self,
            ) -> Result<Vec<$crate::store::sink::SinkRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT * FROM sinks WHERE removed_ms IS NULL ORDER BY created_ms, id",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn remove_sink(
                &self,
                id: &str,
                now_ms: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                Ok(sqlx::query(
                    "UPDATE sinks SET removed_ms = $1 WHERE id = $2 AND removed_ms IS NULL",
                )
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn lease_sink(
                &self,
                id: &str,
                owner: &str,
                now_ms: i64,
                until_ms: i64,
            ) -> Result<Option<$crate::store::sink::SinkRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "UPDATE sinks SET lease_owner = $1, lease_until_ms = $2 \
                     WHERE id = $3 AND removed_ms IS NULL \
                     AND (lease_owner = $1 OR lease_until_ms IS NULL OR lease_until_ms < $4) \
                     RETURNING *",
                )
                .bind(owner)
                .bind(until_ms)
                .bind(id)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn release_sink(
                &self,
                id: &str,
                owner: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE sinks SET lease_owner = NULL, lease_until_ms = NULL \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn sink_delivered(
                &self,
                b: &$crate::store::sink::Delivered<'_>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let moved = sqlx::query(
                    "UPDATE sinks SET cursor = $1, delivered = delivered + $2, \
                     dead_letters = dead_letters + $3, failures = 0, last_success_ms = $4 \
                     WHERE id = $5 AND lease_owner = $6 AND COALESCE(cursor, '') = $7",
                )
                .bind(b.to)
                .bind(b.delivered)
                .bind(b.dead.len() as i64)
                .bind(b.now_ms)
                .bind(b.sink_id)
                .bind(b.owner)
                .bind(b.from.unwrap_or(""))
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if !moved {
                    return Ok(false);
                }
                for (uid, reason) in b.dead {
                    sqlx::query(
                        "INSERT INTO sink_dead_letters (sink_id, event_uid, reason, time_ms) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(b.sink_id)
                    .bind(uid)
                    .bind(reason)
                    .bind(b.now_ms)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn sink_failed(
                &self,
                id: &str,
                owner: &str,
                error: &str,
                now_ms: i64,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE sinks SET failures = failures + 1, last_error = $1, \
                     last_error_ms = $2 WHERE id = $3 AND lease_owner = $4",
                )
                .bind(error)
                .bind(now_ms)
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn dead_letters(
                &self,
                sink_id: &str,
            ) -> Result<Vec<$crate::store::sink::DeadLetterRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT sink_id, event_uid, reason, time_ms FROM sink_dead_letters \
                     WHERE sink_id = $1 ORDER BY id",
                )
                .bind(sink_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(super) use sink_store;
