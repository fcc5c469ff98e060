//! `server sync`: every chain (the instance's and each workspace's) compared with what the
//! server says it holds and with the last receipt it signed, then uploaded from there in
//! signed segments, in order, each answered by a receipt that is checked and kept.
//!
//! A server that holds less than it receipted lost data: that is recorded (`server.chain_lost`)
//! and the missing rows are uploaded again. A server whose last row is not ours at that seq,
//! or that holds more than we have, is not repaired from here: the chain stops and says why.

use ed25519_dalek::VerifyingKey;
use headmaster_protocol::chain::{genesis, ChainRow, Hash};
use headmaster_protocol::checkpoint::Checkpoint;
use headmaster_protocol::receipt::{ReceiptJson, SignedReceipt};
use headmaster_protocol::segment::write_segment;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::SqlitePool;

use super::client::{ServerClient, Signer};
use super::link::{ChainState, Link};
use super::SyncError;
use crate::access::{Capability, Scope};
use crate::audit::{Actor, NewEvent, Outcome, Source};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::instance::Instance;

/// Rows per uploaded segment.
const SEGMENT_ROWS: u64 = 1000;
/// How often one sync follows a server's `chain.gap` answer before it gives up on the chain.
const MAX_GAP_FOLLOWS: u32 = 3;

/// What one sync did, per chain.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SyncReport {
    /// Events uploaded and stored by the server in this sync.
    pub uploaded: u64,
    /// Whether every chain reached the server.
    pub online: bool,
    /// Per chain.
    pub chains: Vec<ChainSyncReport>,
}

/// One chain's sync.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ChainSyncReport {
    /// `instance` or a workspace id.
    pub scope: String,
    /// Events the server newly stored.
    pub uploaded: u64,
    /// The last seq the server receipted after this sync.
    pub receipted_seq: u64,
    /// The last seq held locally.
    pub local_seq: u64,
    /// The problem that stopped this chain, if any.
    pub error: Option<String>,
    /// Whether the server had lost receipted rows (uploaded again).
    pub repaired: bool,
}

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

/// Reads a chain's rows by seq range, from archive segments and the hot table.
struct Rows<'a> {
    instance: &'a Instance,
    scope: String,
    pool: SqlitePool,
    segments: Vec<crate::audit::rows::Segment>,
    /// The archive segment read last (segments hold up to 100k rows; reading one per request
    /// would read it a hundred times).
    cached: Option<(String, Vec<ChainRow>)>,
}

impl<'a> Rows<'a> {
    async fn new(instance: &'a Instance, scope: &str, pool: SqlitePool) -> Result<Self> {
        Ok(Self {
            instance,
            scope: scope.to_owned(),
            segments: crate::audit::rows::segments(&pool).await?,
            pool,
            cached: None,
        })
    }

    /// Up to `limit` rows from `from` on.
    async fn read(&mut self, from: u64, limit: u64) -> Result<Vec<ChainRow>> {
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
                    .map_err(|problem| {
                        Error::Conflict(format!("{problem}; run `headmaster audit verify`"))
                    })?;
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
    async fn hash_at(&mut self, seq: u64) -> Result<Option<Hash>> {
        if seq == 0 {
            return Ok(Some(genesis(&self.scope)));
        }
        let rows = self.read(seq, 1).await?;
        Ok(rows.first().filter(|r| r.event.seq == seq).map(|r| r.hash))
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

    /// Uploads every chain's new events to the joined server; `progress(done, total)` counts
    /// events. Admins only (the desktop's background worker runs the same as the system).
    pub async fn sync_server(
        &self,
        session: &Session,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<SyncReport> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SettingsManage,
            "server.sync",
        )
        .await?;
        self.sync_now(&session.source, progress).await
    }

    /// One sync of every chain. Crate-private until the desktop's background worker (which
    /// syncs as the system) exists; then it joins the gate scan's reasoned list.
    pub(crate) async fn sync_now(
        &self,
        source: &Source,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<SyncReport> {
        let link = self.server_link().await?.ok_or(SyncError::NotJoined)?;
        let server_key = headmaster_protocol::bundle::parse_ed25519_pub(&link.server_key)
            .map_err(|e| SyncError::BadAnswer(format!("the stored server key: {e}")))?;
        let client = ServerClient::new(&link.url, &link.pins);
        let chains = self.sync_chains().await?;
        let mut total = 0;
        for (scope, pool) in &chains {
            let state = self.chain_state(scope).await?;
            total += local_head(pool).await?.saturating_sub(state.receipted_seq);
        }
        let mut report = SyncReport {
            uploaded: 0,
            online: true,
            chains: Vec::new(),
        };
        progress(0, total);
        // Why the server could not be reached, once it could not: the other chains are not
        // tried in this sync and carry the same reason.
        let mut offline: Option<String> = None;
        for (scope, pool) in chains {
            let mut state = self.chain_state(&scope).await?;
            let local_seq = local_head(&pool).await?;
            let mut chain = ChainSyncReport {
                scope: scope.clone(),
                uploaded: 0,
                receipted_seq: state.receipted_seq,
                local_seq,
                error: None,
                repaired: false,
            };
            let outcome = match &offline {
                Some(reason) => Err(Error::from(SyncError::Unreachable {
                    url: link.url.clone(),
                    reason: reason.clone(),
                })),
                None => {
                    let mut job = ChainJob {
                        instance: self,
                        link: &link,
                        client: &client,
                        server_key: &server_key,
                        rows: Rows::new(self, &scope, pool).await?,
                        state: &mut state,
                        report: &mut chain,
                        source,
                    };
                    let done_before = report.uploaded;
                    job.run(&|n| progress(done_before + n, total)).await
                }
            };
            report.uploaded += chain.uploaded;
            let now = rfc3339_ms(self.now());
            match outcome {
                Ok(()) => {
                    state.last_success = Some(now);
                    state.last_error = None;
                    state.online = true;
                }
                Err(e) => {
                    let offline_now = matches!(&e, Error::Sync(s) if s.is_offline());
                    if offline_now && offline.is_none() {
                        offline = Some(match &e {
                            Error::Sync(SyncError::Unreachable { reason, .. }) => reason.clone(),
                            other => other.to_string(),
                        });
                    }
                    state.online = !offline_now;
                    report.online &= !offline_now;
                    state.last_error = Some(e.to_string());
                    chain.error = Some(e.to_string());
                }
            }
            chain.receipted_seq = state.receipted_seq;
            self.save_chain_state(&scope, &state).await?;
            report.chains.push(chain);
        }
        Ok(report)
    }
}

/// The sync of one chain.
struct ChainJob<'a, 'b> {
    instance: &'a Instance,
    link: &'b Link,
    client: &'b ServerClient,
    server_key: &'b VerifyingKey,
    rows: Rows<'a>,
    state: &'b mut ChainState,
    report: &'b mut ChainSyncReport,
    source: &'b Source,
}

impl ChainJob<'_, '_> {
    async fn run(&mut self, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<()> {
        if let Some(why) = &self.state.stopped {
            return Err(Error::Conflict(format!(
                "sync of this chain is stopped: {why}; an Admin must look at the server's quarantine"
            )));
        }
        let scope = self.rows.scope.clone();
        let fingerprint = self.instance.device.fingerprint();
        let status = self
            .client
            .signed(
                "GET",
                &format!("/api/v1/chains/{scope}"),
                Vec::new(),
                &self.signer(&fingerprint),
            )
            .await?;
        let held = status["last_seq"].as_u64().unwrap_or(0);
        let held_hash = status["last_hash"].as_str().unwrap_or_default().to_owned();
        let local = self.report.local_seq;

        if held > local {
            return self
                .stop(format!(
                    "the server holds seq {held} of this chain but this desktop only {local}; \
                     restore this desktop's data or ask an Admin"
                ))
                .await;
        }
        match self.rows.hash_at(held).await? {
            Some(hash) if hex::encode(hash) == held_hash => {}
            _ => {
                return self
                    .stop(format!(
                        "the server's copy differs from this desktop's at seq {held}; \
                         local history is kept as it is"
                    ))
                    .await;
            }
        }
        if held < self.state.receipted_seq {
            self.report.repaired = true;
            let lost = NewEvent::new(
                Actor::system(),
                "server.chain_lost",
                Outcome::Failed,
                self.source,
            )
            .target(&scope)
            .payload(json!({
                "server": self.link.url,
                "receipted_seq": self.state.receipted_seq,
                "server_seq": held,
                "uploading_again_from": held + 1,
            }));
            self.instance.record(Scope::Org, lost).await?;
            tracing::warn!(
                scope,
                receipted = self.state.receipted_seq,
                held,
                "the server lost receipted audit events; uploading them again"
            );
            self.state.receipted_seq = held;
        }

        let mut from = held + 1;
        let mut gap_follows = 0;
        while from <= local {
            let rows = self.rows.read(from, SEGMENT_ROWS).await?;
            let Some(last) = rows.last() else { break };
            let last_seq = last.event.seq;
            let body = self.segment(&scope, &rows).await?;
            let path = format!("/api/v1/chains/{scope}/segments");
            let answer = self
                .client
                .signed("POST", &path, body, &self.signer(&fingerprint))
                .await;
            match answer {
                Ok(answer) => {
                    self.accept(&scope, &answer, last_seq, &last.hash)?;
                    self.report.uploaded += answer["stored"].as_u64().unwrap_or(0);
                    progress(self.report.uploaded);
                    from = last_seq + 1;
                }
                Err(SyncError::Refused {
                    code,
                    expected_seq: Some(expected),
                    ..
                }) if code == "chain.gap"
                    && gap_follows < MAX_GAP_FOLLOWS
                    && (1..=local + 1).contains(&expected) =>
                {
                    gap_follows += 1;
                    from = expected;
                }
                Err(SyncError::Refused { code, message, .. })
                    if code == "chain.fork" || code == "chain.rollback" =>
                {
                    return self
                        .stop(format!("the server refused it as a {code}: {message}"))
                        .await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn signer<'s>(&self, fingerprint: &'s str) -> Signer<'s>
    where
        Self: 's,
    {
        Signer {
            key: self.instance.device.signing_key(),
            fingerprint,
            now_ms: self.instance.now(),
        }
    }

    /// The wire form of `rows` with a checkpoint over the last one.
    async fn segment(&self, scope: &str, rows: &[ChainRow]) -> Result<Vec<u8>> {
        let mut decoder = crate::audit::decode::Decoder::new(self.instance, scope);
        let mut opened = Vec::with_capacity(rows.len());
        for row in rows {
            opened.push(decoder.open(&row.event).await?);
        }
        let records: Vec<_> = rows
            .iter()
            .zip(&opened)
            .map(|(row, o)| (row.clone(), o.record(scope, &row.event)))
            .collect();
        let last = rows.last().expect("a segment has rows");
        let checkpoint = Checkpoint {
            scope: scope.to_owned(),
            seq: last.event.seq,
            hash: last.hash,
            time: rfc3339_ms(self.instance.now()),
        }
        .sign(self.instance.device.signing_key());
        write_segment(scope, &records, &checkpoint)
            .map_err(|e| Error::InvalidInput(format!("segment of {scope}: {e}")))
    }

    /// Checks the receipt of an accepted segment and keeps it.
    fn accept(&mut self, scope: &str, answer: &Value, seq: u64, hash: &Hash) -> Result<()> {
        let receipt_json = answer["receipt"].clone();
        let parsed: ReceiptJson = serde_json::from_value(receipt_json.clone())
            .map_err(|e| SyncError::BadAnswer(format!("the receipt is malformed: {e}")))?;
        let receipt = SignedReceipt::try_from(parsed)
            .map_err(|e| SyncError::BadAnswer(format!("the receipt: {e}")))?;
        receipt
            .verify(self.server_key)
            .map_err(|e| SyncError::BadAnswer(format!("the receipt's signature: {e}")))?;
        let r = &receipt.receipt;
        if r.device != self.instance.device.fingerprint()
            || r.scope != scope
            || r.seq != seq
            || &r.hash != hash
        {
            return Err(SyncError::BadAnswer(format!(
                "the receipt is for {} {} seq {}, not for this segment (seq {seq})",
                r.device, r.scope, r.seq
            ))
            .into());
        }
        self.state.receipt = Some(receipt_json);
        self.state.receipted_seq = seq;
        self.state.receipt_time = Some(r.time.clone());
        Ok(())
    }

    /// Stops this chain's sync for good (until an Admin acts) and records why.
    async fn stop(&mut self, why: String) -> Result<()> {
        let event = NewEvent::new(
            Actor::system(),
            "server.chain_stopped",
            Outcome::Failed,
            self.source,
        )
        .target(&self.rows.scope)
        .payload(json!({ "server": self.link.url, "reason": why }));
        self.instance.record(Scope::Org, event).await?;
        self.state.stopped = Some(why.clone());
        Err(Error::Conflict(format!(
            "sync of this chain stopped: {why}"
        )))
    }
}
