//! `server sync`: every chain (the instance's and each workspace's) in turn, each by its own
//! [`ChainJob`](super::chain::ChainJob); once the server cannot be reached the remaining
//! chains wait for the next sync with the same reason.

use std::collections::HashMap;

use serde::Serialize;

use super::chain::ChainJob;
use super::client::ServerClient;
use super::rows::{local_head, Rows};
use super::SyncError;
use crate::access::{Capability, Scope};
use crate::audit::{Actor, Source};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::instance::Instance;

/// Rows per uploaded segment, unless the caller asks for fewer or more.
pub const DEFAULT_SEGMENT_ROWS: u64 = 1000;

/// What one sync did, per chain.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SyncReport {
    /// Events the server newly stored in this sync.
    pub uploaded: u64,
    /// Whether the server was reached (over a connection with a pinned key).
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
    /// The stable code of that problem.
    pub error_code: Option<String>,
    /// Whether the server had lost receipted rows (uploaded again).
    pub repaired: bool,
}

impl Instance {
    /// What the server holds of each of this device's chains: scope → (last seq, last hash).
    async fn server_chains(
        &self,
        client: &ServerClient,
    ) -> std::result::Result<HashMap<String, (u64, String)>, SyncError> {
        let fingerprint = self.device.fingerprint();
        let signer = super::client::Signer {
            key: self.device.signing_key(),
            fingerprint: &fingerprint,
            now_ms: self.now(),
        };
        let answer = client
            .signed("GET", "/api/v1/devices/self", Vec::new(), &signer)
            .await?;
        let chains = answer["chains"]
            .as_array()
            .ok_or_else(|| SyncError::BadAnswer("the device status lists no chains".into()))?;
        Ok(chains
            .iter()
            .filter_map(|c| {
                Some((
                    c["scope"].as_str()?.to_owned(),
                    (c["last_seq"].as_u64()?, c["last_hash"].as_str()?.to_owned()),
                ))
            })
            .collect())
    }

    /// Uploads every chain's new events to the joined server, `segment_rows` rows per upload;
    /// `progress(done, total)` counts events. Admins only.
    pub async fn sync_server(
        &self,
        session: &Session,
        segment_rows: u64,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<SyncReport> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SettingsManage,
            "server.sync",
        )
        .await?;
        let most = headmaster_protocol::segment::MAX_SEGMENT_ROWS as u64;
        if !(1..=most).contains(&segment_rows) {
            return Err(Error::InvalidInput(format!(
                "rows per segment must be between 1 and {most}"
            )));
        }
        let actor = Actor::user(session.user_id);
        self.sync_now(&actor, &session.source, segment_rows, progress)
            .await
    }

    /// The desktop's background sync: every chain, as the system, the default segment size.
    /// It sends what the chains hold to the server this installation's Admin joined; it reads
    /// and changes nothing a person could not see in `server status`.
    pub async fn sync_in_background(&self, source: &Source) -> Result<SyncReport> {
        self.sync_now(&Actor::system(), source, DEFAULT_SEGMENT_ROWS, &|_, _| {})
            .await
    }

    /// One sync of every chain.
    pub(crate) async fn sync_now(
        &self,
        actor: &Actor,
        source: &Source,
        segment_rows: u64,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<SyncReport> {
        let link = self.server_link().await?.ok_or(SyncError::NotJoined)?;
        let server_key = headmaster_protocol::bundle::parse_ed25519_pub(&link.server_key)
            .map_err(|e| SyncError::BadAnswer(format!("the stored server key: {e}")))?;
        let client = ServerClient::new(&link.url, &link.pins);
        // Each chain's state and head, read once: the total for progress needs them all first.
        let mut chains = Vec::new();
        let mut total = 0;
        for (scope, pool) in self.sync_chains().await? {
            let state = self.chain_state(&scope).await?;
            let head = local_head(&pool).await?;
            total += head.saturating_sub(state.receipted_seq);
            chains.push((scope, pool, state, head));
        }
        let mut report = SyncReport {
            uploaded: 0,
            online: true,
            chains: Vec::new(),
        };
        let mut done = 0;
        progress(0, total);
        // One request says what the server holds of every chain; a chain it holds exactly as
        // receipted, with nothing new here, needs nothing more this time.
        // Once that or a chain's sync finds the server unreachable (or refusing this device),
        // the remaining chains are not tried and carry the same error.
        let mut offline: Option<SyncError> = None;
        let held = match self.server_chains(&client).await {
            Ok(held) => held,
            Err(e) => {
                offline = Some(e);
                Default::default()
            }
        };
        for (scope, pool, mut state, head) in chains {
            let mut chain = ChainSyncReport {
                scope: scope.clone(),
                uploaded: 0,
                receipted_seq: state.receipted_seq,
                local_seq: head,
                error: None,
                error_code: None,
                repaired: false,
            };
            let receipted_hash = state.receipt.as_ref().and_then(|r| r["hash"].as_str());
            let settled = offline.is_none()
                && chain.local_seq == state.receipted_seq
                && state.lost_above.is_none()
                && state.last_error.is_none()
                && held.get(&scope).is_some_and(|(seq, hash)| {
                    *seq == state.receipted_seq
                        && (*seq == 0 || Some(hash.as_str()) == receipted_hash)
                });
            if settled {
                // Written only when it changes: a quiet sync writes nothing, so the desktop's
                // watch on the instance database does not wake the sync again.
                if !state.online || state.last_attempt.is_none() {
                    state.last_attempt = Some(rfc3339_ms(self.now()));
                    state.online = true;
                    self.save_chain_state(&scope, &state).await?;
                }
                report.chains.push(chain);
                continue;
            }
            let outcome = match &offline {
                Some(e) => Err(Error::from(e.clone())),
                None => {
                    let mut job = ChainJob {
                        instance: self,
                        link: &link,
                        client: &client,
                        server_key: &server_key,
                        rows: Rows::new(self, &scope, pool).await?,
                        segment_rows,
                        state: &mut state,
                        report: &mut chain,
                        actor,
                        source,
                    };
                    let (before, start) = (done, job.state.receipted_seq);
                    let result = job.run(&|n| progress((before + n).min(total), total)).await;
                    done += job.state.receipted_seq.saturating_sub(start);
                    result
                }
            };
            report.uploaded += chain.uploaded;
            let now = rfc3339_ms(self.now());
            let stopped = matches!(&outcome, Err(Error::Sync(SyncError::ChainStopped { .. })));
            if !stopped {
                state.last_attempt = Some(now.clone());
            }
            match outcome {
                Ok(()) => {
                    state.last_success = Some(now);
                    state.last_error = None;
                    state.online = true;
                }
                Err(e) => {
                    let offline_now = matches!(&e, Error::Sync(s) if s.is_offline());
                    if offline.is_none() {
                        if let Error::Sync(s) = &e {
                            if s.is_offline() {
                                offline = Some(s.clone());
                            }
                        }
                    }
                    if !stopped {
                        state.online = !offline_now;
                    }
                    report.online &= !offline_now;
                    state.last_error = Some(e.to_string());
                    chain.error = Some(e.to_string());
                    chain.error_code = Some(e.code().to_owned());
                }
            }
            chain.receipted_seq = state.receipted_seq;
            self.save_chain_state(&scope, &state).await?;
            report.chains.push(chain);
        }
        Ok(report)
    }
}
