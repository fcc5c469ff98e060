//! `audit query`: filter by time, actor, action, outcome and run; newest first; paged.
//!
//! Filters run on the clear columns (time, actor id, action, outcome, run id), which are
//! indexed; only the page that is returned gets decrypted. Filtering by actor name resolves the
//! name to the actor's id through the username blind index first.

use serde::Serialize;
use sqlx::Row;

use super::decode::{AuditEntry, Decoder};
use super::rows::{chain_row, ROW_COLUMNS};
use crate::access::{Capability, Scope};
use crate::clock::{parse_rfc3339_ms, rfc3339_ms};
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::instance::Instance;
use crate::vault::INSTANCE_SCOPE;

/// Query filters. Every field is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Events at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Events before this time (RFC 3339).
    pub until: Option<String>,
    /// Actor: a username, or an actor id.
    pub actor: Option<String>,
    /// Action, exact (`auth.sign_in`) or a prefix ending in `.` or `*` (`auth.`, `tool.*`).
    pub action: Option<String>,
    /// Outcome: allowed, denied, failed, pending.
    pub outcome: Option<String>,
    /// Run id.
    pub run: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Return events with seq below this (the previous page's `next_before`).
    pub before_seq: Option<u64>,
}

/// One page of results.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `before_seq` to get the next (older) page; `None` at the end.
    pub next_before: Option<u64>,
}

impl Instance {
    /// Queries a chain: `Scope::Org` is the instance chain (org.security), a workspace's chain
    /// needs `audit.read` there.
    pub async fn query_audit(
        &self,
        session: &Session,
        scope: Scope,
        filter: &AuditFilter,
    ) -> Result<AuditPage> {
        let (pool, scope_name) = self
            .audit_chain(session, scope, "audit.query", false)
            .await?;
        let mut sql = format!("SELECT {ROW_COLUMNS} FROM audit_events WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(since) = &filter.since {
            sql.push_str(" AND time >= ?");
            binds.push(normalize_time(since)?);
        }
        if let Some(until) = &filter.until {
            sql.push_str(" AND time < ?");
            binds.push(normalize_time(until)?);
        }
        if let Some(actor) = &filter.actor {
            sql.push_str(" AND actor_id = ?");
            binds.push(self.actor_id_for(actor).await?);
        }
        if let Some(action) = &filter.action {
            let action = action.trim();
            if let Some(prefix) = action
                .strip_suffix('*')
                .or_else(|| action.ends_with('.').then_some(action))
            {
                sql.push_str(" AND action >= ? AND action < ?");
                binds.push(prefix.to_string());
                binds.push(format!("{prefix}\u{10FFFF}"));
            } else {
                sql.push_str(" AND action = ?");
                binds.push(action.to_string());
            }
        }
        if let Some(outcome) = &filter.outcome {
            if crate::audit::Outcome::parse(outcome).is_none() {
                return Err(Error::InvalidInput(format!(
                    "unknown outcome {outcome:?}; use allowed, denied, failed or pending"
                )));
            }
            sql.push_str(" AND outcome = ?");
            binds.push(outcome.clone());
        }
        if let Some(run) = &filter.run {
            sql.push_str(" AND run_id = ?");
            binds.push(run.clone());
        }
        if let Some(before) = filter.before_seq {
            // Pages follow (time, seq), the order the indexes keep, so that a page is read
            // straight off an index instead of sorting every matching row.
            sql.push_str(" AND (time, seq) < ((SELECT time FROM audit_events WHERE seq = ?), ?)");
            binds.push(before.to_string());
            binds.push(before.to_string());
        }
        let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
        sql.push_str(" ORDER BY time DESC, seq DESC LIMIT ?");
        let mut query = sqlx::query(&sql);
        for bind in &binds {
            query = query.bind(bind);
        }
        let rows = query.bind(limit as i64 + 1).fetch_all(&pool).await?;
        let has_more = rows.len() > limit as usize;
        let mut decoder = Decoder::new(self, &scope_name);
        let mut entries = Vec::with_capacity(rows.len().min(limit as usize));
        for row in rows.iter().take(limit as usize) {
            let stored = chain_row(row)?;
            entries.push(decoder.entry(&stored.event).await?);
        }
        let next_before = if has_more {
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_before,
        })
    }

    /// Passes the gate for reading (`manage = false`) or managing a chain and returns its pool
    /// and scope name.
    pub(crate) async fn audit_chain(
        &self,
        session: &Session,
        scope: Scope,
        action: &str,
        manage: bool,
    ) -> Result<(sqlx::SqlitePool, String)> {
        match scope {
            Scope::Org => {
                self.authorize(session, Scope::Org, Capability::OrgSecurity, action)
                    .await?;
                Ok((self.pool.clone(), INSTANCE_SCOPE.to_string()))
            }
            Scope::Workspace(w) => {
                let capability = if manage {
                    Capability::AuditManage
                } else {
                    Capability::AuditRead
                };
                self.authorize(session, scope, capability, action).await?;
                Ok((self.workspace_pool(w).await?, w.to_string()))
            }
        }
    }

    /// The database file holding a chain.
    pub(crate) fn chain_database(&self, scope: Scope) -> std::path::PathBuf {
        match scope {
            Scope::Org => self.layout.instance_db(),
            Scope::Workspace(w) => self.layout.workspace_db(w),
        }
    }

    /// The actor id for a username (or an id given as is).
    async fn actor_id_for(&self, actor: &str) -> Result<String> {
        if uuid::Uuid::parse_str(actor.trim()).is_ok() {
            return Ok(actor.trim().to_string());
        }
        Ok(self.user_by_name(actor).await?.id.to_string())
    }
}

fn normalize_time(text: &str) -> Result<String> {
    parse_rfc3339_ms(text.trim())
        .map(rfc3339_ms)
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "invalid time {text:?}: use RFC 3339, e.g. 2026-11-27T13:00:00Z"
            ))
        })
}

/// Number of events in a chain's hot table.
pub(crate) async fn hot_count(pool: &sqlx::SqlitePool) -> Result<u64> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM audit_events")
        .fetch_one(pool)
        .await?
        .get(0);
    Ok(n as u64)
}
