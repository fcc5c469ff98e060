//! A chain's rows by seq, from its archive segments and its hot table, for upload.

use headmaster_protocol::chain::{genesis, ChainRow, Hash};
use sqlx::SqlitePool;

use crate::error::{Error, Result};
use crate::instance::Instance;

/// The last seq of a chain (hot rows and archive segments), 0 for an empty chain.
pub(crate) async fn local_head(pool: &SqlitePool) -> Result<u64> {
    let hot: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_events")
        .fetch_one(pool)
        .await?;
    let archived: Option<i64> = sqlx::query_scalar("SELECT MAX(last_seq) FROM audit_segments")
        .fetch_one(pool)
        .await?;
    Ok(hot.unwrap_or(0).max(archived.unwrap_or(0)) as u64)
}

fn damaged(scope: &str, what: String) -> Error {
    Error::Conflict(format!(
        "the audit chain {scope} cannot be read for upload ({what}); run `headmaster audit verify`"
    ))
}

/// Reads a chain's rows by seq range.
pub(crate) struct Rows<'a> {
    instance: &'a Instance,
    pub scope: String,
    pool: SqlitePool,
    segments: Vec<crate::audit::rows::Segment>,
    /// The archive segment read last (segments hold up to 100k rows; reading one per request
    /// would read it a hundred times).
    cached: Option<(String, Vec<ChainRow>)>,
}

impl<'a> Rows<'a> {
    pub(crate) async fn new(instance: &'a Instance, scope: &str, pool: SqlitePool) -> Result<Self> {
        Ok(Self {
            instance,
            scope: scope.to_owned(),
            segments: crate::audit::rows::segments(&pool).await?,
            pool,
            cached: None,
        })
    }

    /// Up to `limit` consecutive rows from `from` on; empty only past the chain's end.
    pub(crate) async fn read(&mut self, from: u64, limit: u64) -> Result<Vec<ChainRow>> {
        let mut rows = self.try_read(from, limit).await?;
        if rows.first().is_some_and(|r| r.event.seq != from) {
            // Archiving may have moved rows out of the hot table since the segment list was
            // read: read the list again once.
            self.segments = crate::audit::rows::segments(&self.pool).await?;
            self.cached = None;
            rows = self.try_read(from, limit).await?;
        }
        if let Some(first) = rows.first() {
            if first.event.seq != from {
                return Err(damaged(
                    &self.scope,
                    format!("seq {from} is missing; the next row is {}", first.event.seq),
                ));
            }
        }
        if let Some(pair) = rows
            .windows(2)
            .find(|w| w[1].event.seq != w[0].event.seq + 1)
        {
            return Err(damaged(
                &self.scope,
                format!(
                    "seq {} is followed by {}",
                    pair[0].event.seq, pair[1].event.seq
                ),
            ));
        }
        Ok(rows)
    }

    async fn try_read(&mut self, from: u64, limit: u64) -> Result<Vec<ChainRow>> {
        if let Some(segment) = self
            .segments
            .iter()
            .find(|s| s.first_seq <= from && from <= s.last_seq)
        {
            if self.cached.as_ref().map(|(id, _)| id) != Some(&segment.id) {
                let rows = self
                    .instance
                    .read_segment(&self.scope, segment)
                    .await
                    .map_err(|problem| damaged(&self.scope, problem))?;
                self.cached = Some((segment.id.clone(), rows));
            }
            let (_, rows) = self.cached.as_ref().expect("cached above");
            return Ok(rows
                .iter()
                .filter(|r| r.event.seq >= from)
                .take(limit as usize)
                .cloned()
                .collect());
        }
        let sql = format!(
            "SELECT {} FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?",
            crate::audit::rows::ROW_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(from as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| crate::audit::rows::chain_row(r).map_err(Error::from))
            .collect()
    }

    /// The hash of the row at `seq` (the genesis hash at 0), `None` past the end.
    pub(crate) async fn hash_at(&mut self, seq: u64) -> Result<Option<Hash>> {
        if seq == 0 {
            return Ok(Some(genesis(&self.scope)));
        }
        let rows = self.read(seq, 1).await?;
        Ok(rows.first().map(|r| r.hash))
    }
}

impl Instance {
    /// Every chain that syncs: the instance's and each workspace's, with its scope name.
    pub(crate) async fn sync_chains(&self) -> Result<Vec<(String, SqlitePool)>> {
        let mut chains = vec![(crate::vault::INSTANCE_SCOPE.to_owned(), self.pool.clone())];
        for workspace in self.workspace_ids().await? {
            chains.push((workspace.to_string(), self.workspace_pool(workspace).await?));
        }
        Ok(chains)
    }
}
