//! The sync of one chain: the server's status checked against this desktop's rows and the
//! best receipt held, then the rest uploaded in signed segments whose receipts are checked.
//!
//! A server that holds less than it receipted lost data: that is recorded once per loss
//! (`server.chain_lost`, with the receipt that proves it) and the rows are uploaded again; the
//! loss stays owed until a receipt covers it again. A server whose last row is not this
//! desktop's, that holds more than this desktop has, or that refuses a segment as a fork or
//! rollback, stops the chain until an Admin resumes it. Nothing local is ever changed.

use ed25519_dalek::VerifyingKey;
use headmaster_protocol::chain::{ChainRow, Hash};
use headmaster_protocol::checkpoint::Checkpoint;
use headmaster_protocol::receipt::{ReceiptJson, SignedReceipt};
use headmaster_protocol::segment::write_segment;
use serde_json::{json, Value};

use super::client::{ServerClient, Signer};
use super::link::{ChainState, Link};
use super::rows::Rows;
use super::upload::ChainSyncReport;
use super::SyncError;
use crate::access::Scope;
use crate::audit::{Actor, NewEvent, Outcome, Source};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::instance::Instance;

/// How often one sync starts a chain over after a `chain.gap` answer before giving up.
const MAX_GAP_RESTARTS: u32 = 3;

/// Whether a pass over the chain finished or must start over from a fresh status.
enum Pass {
    Done,
    StartOver,
}

/// What the server says it holds of a chain.
struct Held {
    seq: u64,
    hash: String,
    answer: Value,
}

/// The sync of one chain.
pub(crate) struct ChainJob<'a, 'b> {
    pub instance: &'a Instance,
    pub link: &'b Link,
    pub client: &'b ServerClient,
    pub server_key: &'b VerifyingKey,
    pub rows: Rows<'a>,
    pub segment_rows: u64,
    pub state: &'b mut ChainState,
    pub report: &'b mut ChainSyncReport,
    pub actor: &'b Actor,
    pub source: &'b Source,
}

impl ChainJob<'_, '_> {
    /// Syncs the chain; `progress(n)` counts rows receipted so far.
    pub(crate) async fn run(&mut self, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<()> {
        let scope = self.rows.scope.clone();
        if let Some(why) = &self.state.stopped {
            return Err(SyncError::ChainStopped {
                scope,
                why: why.clone(),
            }
            .into());
        }
        for _ in 0..=MAX_GAP_RESTARTS {
            if let Pass::Done = self.pass(&scope, progress).await? {
                if self.state.receipted_seq != self.report.local_seq {
                    return Err(SyncError::BadAnswer(format!(
                        "the server's receipts for {scope} end at seq {} but the chain at {}",
                        self.state.receipted_seq, self.report.local_seq
                    ))
                    .into());
                }
                return Ok(());
            }
        }
        Err(SyncError::BadAnswer(format!(
            "the server kept answering `chain.gap` for {scope} against its own status; sync retries later"
        ))
        .into())
    }

    async fn pass(&mut self, scope: &str, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<Pass> {
        let held = self.held(scope).await?;
        let local = self.report.local_seq;
        if held.seq > local {
            return self
                .stop(format!(
                    "the server holds seq {} of this chain but this desktop only {local}; \
                     restore this desktop's data or ask an Admin",
                    held.seq
                ))
                .await;
        }
        let held_row = match self.rows.hash_at(held.seq).await? {
            Some(hash) if hex::encode(hash) == held.hash => hash,
            _ => {
                return self
                    .stop(format!(
                        "the server's copy differs from this desktop's at seq {}; local history \
                         is kept as it is",
                        held.seq
                    ))
                    .await;
            }
        };
        let owed = self
            .state
            .receipted_seq
            .max(self.state.lost_above.unwrap_or(0));
        let mut from = held.seq + 1;
        if held.seq < owed {
            self.report.repaired = true;
            if self.state.lost_above != Some(owed) {
                self.record_loss(scope, owed, held.seq).await?;
                self.state.lost_above = Some(owed);
            }
            self.state.receipted_seq = held.seq;
            self.instance.save_chain_state(scope, self.state).await?;
        } else if held.seq > self.state.receipted_seq {
            // The server took segments whose receipts never arrived (the connection broke,
            // or this desktop was stopped, after the server committed). Its status carries
            // the receipt for what it holds; without one, the last row goes up again and
            // the server answers the replay with a receipt.
            if held.answer["receipt"].is_null() {
                from = held.seq;
            } else {
                self.accept(scope, &held.answer, held.seq, &held_row)?;
                self.instance.save_chain_state(scope, self.state).await?;
            }
        }

        let fingerprint = self.instance.device.fingerprint();
        let path = format!("/api/v1/chains/{scope}/segments");
        let (instance, client) = (self.instance, self.client);
        let limit = self.segment_rows;
        let mut receipted = 0;
        // The next segment is read and encoded while the server stores the current one.
        let mut next = next_segment(instance, &mut self.rows, scope, from, local, limit).await?;
        while let Some(Prepared { rows, body }) = next.take() {
            let last = rows.last().expect("a prepared segment has rows");
            let (last_seq, last_hash) = (last.event.seq, last.hash);
            let signer = signer(instance, &fingerprint);
            let (answer, prepared) = tokio::join!(
                client.signed("POST", &path, body, &signer),
                next_segment(instance, &mut self.rows, scope, last_seq + 1, local, limit),
            );
            match answer {
                Ok(answer) => {
                    self.accept(scope, &answer, last_seq, &last_hash)?;
                    // Kept at once: stopped after this, the next sync still checks the server
                    // against the newest receipt.
                    self.instance.save_chain_state(scope, self.state).await?;
                    self.report.uploaded += answer["stored"].as_u64().unwrap_or(0);
                    receipted += rows.len() as u64;
                    progress(receipted);
                    next = prepared?;
                }
                Err(SyncError::Refused { code, .. }) if code == "chain.gap" => {
                    return Ok(Pass::StartOver);
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
        Ok(Pass::Done)
    }

    /// The server's status of this chain, checked for shape (it is not signed; the receipt in
    /// it is).
    async fn held(&self, scope: &str) -> Result<Held> {
        let fingerprint = self.instance.device.fingerprint();
        let answer = self
            .client
            .signed(
                "GET",
                &format!("/api/v1/chains/{scope}"),
                Vec::new(),
                &signer(self.instance, &fingerprint),
            )
            .await?;
        let hash = answer["last_hash"]
            .as_str()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        match (answer["scope"].as_str(), answer["last_seq"].as_u64(), hash) {
            (Some(s), Some(seq), Some(hash)) if s == scope => Ok(Held {
                seq,
                hash: hash.to_owned(),
                answer: answer.clone(),
            }),
            _ => Err(SyncError::BadAnswer(format!(
                "the status of chain {scope} is not one (scope, last_seq, last_hash expected)"
            ))
            .into()),
        }
    }

    /// Checks the receipt in `answer` (signed by the server key pinned at join, for this
    /// device, chain, seq and hash, and never older than the one held) and keeps it.
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
                "the receipt is for {} {} seq {}, not for this chain at seq {seq}",
                r.device, r.scope, r.seq
            ))
            .into());
        }
        if seq < self.state.receipted_seq {
            return Err(SyncError::BadAnswer(format!(
                "a receipt for seq {seq} of {scope} is older than the one held (seq {})",
                self.state.receipted_seq
            ))
            .into());
        }
        self.state.receipt = Some(receipt_json);
        self.state.receipted_seq = seq;
        self.state.receipt_time = Some(r.time.clone());
        if self.state.lost_above.is_some_and(|owed| seq >= owed) {
            self.state.lost_above = None;
        }
        Ok(())
    }

    async fn record_loss(&self, scope: &str, owed: u64, held: u64) -> Result<()> {
        let lost = NewEvent::new(
            self.actor.clone(),
            "server.chain_lost",
            Outcome::Failed,
            self.source,
        )
        .target(scope)
        .payload(json!({
            "server": self.link.url,
            "receipted_seq": owed,
            "server_seq": held,
            "uploading_again_from": held + 1,
            "receipt": self.state.receipt,
        }));
        self.instance.record(Scope::Org, lost).await?;
        tracing::warn!(
            scope,
            owed,
            held,
            "the server lost receipted audit events; uploading them again"
        );
        Ok(())
    }

    /// Stops this chain's sync until an Admin resumes it, and records why.
    async fn stop(&mut self, why: String) -> Result<Pass> {
        let event = NewEvent::new(
            self.actor.clone(),
            "server.chain_stopped",
            Outcome::Failed,
            self.source,
        )
        .target(&self.rows.scope)
        .payload(json!({ "server": self.link.url, "reason": why }));
        self.instance.record(Scope::Org, event).await?;
        self.state.stopped = Some(why.clone());
        Err(SyncError::ChainStopped {
            scope: self.rows.scope.clone(),
            why,
        }
        .into())
    }
}

/// A segment read and encoded, ready to send.
struct Prepared {
    rows: Vec<ChainRow>,
    body: Vec<u8>,
}

/// The segment from `from` (up to `limit` rows, never past `local`, the head read when this
/// sync began: events recorded meanwhile, this sync's own too, wait for the next one); `None`
/// past `local`.
async fn next_segment(
    instance: &Instance,
    rows: &mut Rows<'_>,
    scope: &str,
    from: u64,
    local: u64,
    limit: u64,
) -> Result<Option<Prepared>> {
    if from > local {
        return Ok(None);
    }
    let rows = rows.read(from, limit.min(local - from + 1)).await?;
    if rows.is_empty() {
        return Err(Error::Conflict(format!(
            "the audit chain {scope} ends before seq {from}, which it held a moment ago; \
             run `headmaster audit verify`"
        )));
    }
    let body = segment(instance, scope, &rows).await?;
    Ok(Some(Prepared { rows, body }))
}

/// The wire form of `rows` with a checkpoint over the last one.
async fn segment(instance: &Instance, scope: &str, rows: &[ChainRow]) -> Result<Vec<u8>> {
    let mut decoder = crate::audit::decode::Decoder::new(instance, scope);
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
        time: rfc3339_ms(instance.now()),
    }
    .sign(instance.device.signing_key());
    write_segment(scope, &records, &checkpoint)
        .map_err(|e| Error::InvalidInput(format!("segment of {scope}: {e}")))
}

fn signer<'s>(instance: &'s Instance, fingerprint: &'s str) -> Signer<'s> {
    Signer {
        key: instance.device.signing_key(),
        fingerprint,
        now_ms: instance.now(),
    }
}
