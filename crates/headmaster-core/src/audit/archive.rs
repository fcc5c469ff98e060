//! Retention: events older than the retention period (default 90 days) move out of the hot
//! table into sealed, compressed archive segment files under `archive/<scope>/`.
//!
//! A segment is `seal(gzip(chain.jsonl lines))` under the scope's audit key, bound to the
//! segment's id. Its SHA-256 and last chain hash are registered in `audit_segments` in the same
//! transaction that deletes the archived rows (the delete trigger only lets archived rows go),
//! so the chain continues across archive and hot rows and `verify` covers both.

use std::io::{Read, Write};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use headmaster_protocol::chain::ChainRow;
use headmaster_protocol::json::ChainRowJson;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::rows::{self, Segment};
use super::{Actor, NewEvent, Outcome, Source};
use crate::access::Scope;
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::instance::Instance;
use crate::store::StoreError;
use crate::vault::seal::Aad;

/// Default hot retention.
pub const DEFAULT_RETENTION_DAYS: i64 = 90;
/// Events per segment file.
pub const SEGMENT_EVENTS: i64 = 100_000;

/// What an archive run did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ArchiveReport {
    /// Segments written.
    pub segments: u64,
    /// Events moved.
    pub events: u64,
    /// Events before this time were archived.
    pub cutoff: String,
}

impl Instance {
    /// Moves events older than the retention period into archive segments.
    pub async fn archive_audit(&self, session: &Session, scope: Scope) -> Result<ArchiveReport> {
        self.audit_chain(session, scope, "audit.archive", true)
            .await?;
        self.archive_chain(scope, Actor::user(session.user_id), &session.source)
            .await
    }

    /// Archives every chain (the instance's and each workspace's) past the retention period.
    /// Run by the system at start, like key maintenance; a chain with nothing old enough is left
    /// as it is and no event is written.
    pub async fn maintain_audit(&self, source: &Source) -> Result<Vec<ArchiveReport>> {
        let mut chains = vec![(self.pool.clone(), Scope::Org)];
        for workspace in self.workspace_ids().await? {
            chains.push((
                self.workspace_pool(workspace).await?,
                Scope::Workspace(workspace),
            ));
        }
        let cutoff = rfc3339_ms(self.now() - self.retention_days().await? * 86_400_000);
        let mut reports = Vec::new();
        for (pool, scope) in chains {
            let due: Option<i64> =
                sqlx::query_scalar("SELECT MIN(seq) FROM audit_events WHERE time < ?")
                    .bind(&cutoff)
                    .fetch_one(&pool)
                    .await?;
            if due.is_some() {
                reports.push(self.archive_chain(scope, Actor::system(), source).await?);
            }
        }
        Ok(reports)
    }

    /// Sets the hot retention period of the audit log (days).
    pub async fn set_audit_retention(&self, session: &Session, days: i64) -> Result<()> {
        self.authorize(
            session,
            Scope::Org,
            crate::access::Capability::OrgSecurity,
            "audit.set_retention",
        )
        .await?;
        if !(1..=36_500).contains(&days) {
            return Err(Error::InvalidInput(
                "the retention period must be between 1 and 36500 days".into(),
            ));
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "audit.retention_set",
            Outcome::Allowed,
            &session.source,
        )
        .payload(serde_json::json!({ "days": days }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('audit_retention_days', ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(days.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Archives one chain segment by segment; each segment's registration, the deletion of its
    /// hot rows and its `audit.archived` event commit together.
    async fn archive_chain(
        &self,
        scope: Scope,
        actor: Actor,
        source: &Source,
    ) -> Result<ArchiveReport> {
        let scope_name = super::change::scope_name(scope);
        let pool = match scope {
            Scope::Org => self.pool.clone(),
            Scope::Workspace(w) => self.workspace_pool(w).await?,
        };
        let days = self.retention_days().await?;
        let cutoff = rfc3339_ms(self.now() - days * 86_400_000);
        let dir = self.layout.archive_dir(&scope_name);
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let mut report = ArchiveReport {
            segments: 0,
            events: 0,
            cutoff: cutoff.clone(),
        };
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {} FROM audit_events WHERE time < ? ORDER BY seq LIMIT ?",
                rows::ROW_COLUMNS
            ))
            .bind(&cutoff)
            .bind(SEGMENT_EVENTS)
            .fetch_all(&pool)
            .await?;
            let mut chain: Vec<ChainRow> =
                rows.iter().map(rows::chain_row).collect::<Result<_, _>>()?;
            // Only a contiguous prefix of the chain may leave the hot table.
            let first_hot: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM audit_events")
                .fetch_one(&pool)
                .await?;
            let Some(first_hot) = first_hot else { break };
            let mut expected = first_hot as u64;
            chain.retain(|r| {
                let keep = r.event.seq == expected;
                if keep {
                    expected += 1;
                }
                keep
            });
            if chain.is_empty() {
                break;
            }
            let first = chain[0].event.seq;
            let last = chain[chain.len() - 1].event.seq;
            let last_hash = chain[chain.len() - 1].hash;
            let id = uuid::Uuid::now_v7().to_string();
            let file_name = format!("{first:012}-{last:012}.hmseg");
            let sealed = self.seal_segment(&scope_name, &id, &chain).await?;
            let path = dir.join(&file_name);
            let tmp = dir.join(format!("{file_name}.tmp"));
            {
                let mut file = std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
                file.write_all(&sealed).map_err(|e| io_error(&tmp, e))?;
                file.sync_all().map_err(|e| io_error(&tmp, e))?;
            }
            std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
            let event = NewEvent::new(actor.clone(), "audit.archived", Outcome::Allowed, source)
                .target(&id)
                .payload(serde_json::json!({
                    "segment_id": id,
                    "first_seq": first,
                    "last_seq": last,
                    "events": chain.len(),
                    "cutoff": cutoff,
                }));
            let mut tx = self.begin_change(scope, vec![event]).await?;
            sqlx::query(
                "INSERT INTO audit_segments (id, first_seq, last_seq, file_name, sha256, last_hash, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(first as i64)
            .bind(last as i64)
            .bind(&file_name)
            .bind(Sha256::digest(&sealed).to_vec())
            .bind(last_hash.as_slice())
            .bind(self.now())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM audit_events WHERE seq <= ?")
                .bind(last as i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            report.segments += 1;
            report.events += chain.len() as u64;
        }
        Ok(report)
    }

    async fn seal_segment(&self, scope: &str, id: &str, chain: &[ChainRow]) -> Result<Vec<u8>> {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        for row in chain {
            let line = serde_json::to_vec(&ChainRowJson::from(row))
                .map_err(|e| Error::InvalidInput(e.to_string()))?;
            gz.write_all(&line)
                .and_then(|_| gz.write_all(b"\n"))
                .map_err(|e| Error::InvalidInput(e.to_string()))?;
        }
        let compressed = gz
            .finish()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let keys = self.vault.keys(scope).await?;
        Ok(keys.seal_audit_now(&Aad::new(scope, "audit_segments", "file", id), &compressed)?)
    }

    /// Reads an archive segment back; `Err` names what is wrong with it.
    pub(crate) async fn read_segment(
        &self,
        scope: &str,
        segment: &Segment,
    ) -> std::result::Result<Vec<ChainRow>, String> {
        let path = self.layout.archive_dir(scope).join(&segment.file_name);
        if !rows::is_file(&path) {
            return Err(format!(
                "archive segment {} (seq {}–{}) is missing",
                segment.file_name, segment.first_seq, segment.last_seq
            ));
        }
        let sealed = std::fs::read(&path)
            .map_err(|e| format!("archive segment {} cannot be read: {e}", segment.file_name))?;
        if Sha256::digest(&sealed).as_slice() != segment.sha256.as_slice() {
            return Err(format!(
                "archive segment {} (seq {}–{}) was altered: its SHA-256 differs from the one registered",
                segment.file_name, segment.first_seq, segment.last_seq
            ));
        }
        let compressed = self
            .vault
            .open(
                &Aad::new(scope, "audit_segments", "file", &segment.id),
                &sealed,
            )
            .await
            .map_err(|e| {
                format!(
                    "archive segment {} cannot be decrypted: {e}",
                    segment.file_name
                )
            })?;
        let mut text = String::new();
        GzDecoder::new(compressed.as_slice())
            .read_to_string(&mut text)
            .map_err(|e| {
                format!(
                    "archive segment {} is not valid gzip: {e}",
                    segment.file_name
                )
            })?;
        text.lines()
            .enumerate()
            .map(|(i, line)| {
                let json: ChainRowJson = serde_json::from_str(line).map_err(|e| {
                    format!("archive segment {} line {}: {e}", segment.file_name, i + 1)
                })?;
                ChainRow::try_from(json).map_err(|e| {
                    format!("archive segment {} line {}: {e}", segment.file_name, i + 1)
                })
            })
            .collect()
    }

    pub(crate) async fn retention_days(&self) -> Result<i64> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'audit_retention_days'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(value
            .and_then(|v| v.parse().ok())
            .filter(|d| *d > 0)
            .unwrap_or(DEFAULT_RETENTION_DAYS))
    }
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::Store(StoreError::Directory {
        path: path.display().to_string(),
        reason: format!("cannot write the audit archive: {e}"),
    })
}
