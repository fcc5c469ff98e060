//! The joined server and each chain's sync state, sealed in the instance database; `join`,
//! `leave` and `status`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::client::{check_pins, check_url, ServerClient, Signer};
use super::{ChainSyncStatus, JoinReport, LeaveReport, ServerStatus, SyncError};
use crate::access::{Capability, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::instance::Instance;
use crate::vault::seal::Aad;
use crate::vault::INSTANCE_SCOPE;

/// The joined server, as stored (sealed) in `server_link`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Link {
    pub url: String,
    pub pins: Vec<String>,
    /// The server's Ed25519 key (OpenSSH line) that signs receipts.
    pub server_key: String,
    pub server_fingerprint: String,
    pub device_id: String,
    pub joined_at: String,
}

/// One chain's sync state, as stored (sealed) in `sync_chains`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ChainState {
    /// The latest receipt the server signed for this chain (its wire JSON), checked on receipt.
    pub receipt: Option<Value>,
    pub receipted_seq: u64,
    /// After the server lost data: the seq it had receipted, owed until a receipt covers it.
    pub lost_above: Option<u64>,
    /// When a sync last tried this chain.
    pub last_attempt: Option<String>,
    pub receipt_time: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    /// Set when the server refused the chain as a fork or rollback: sync of it stops.
    pub stopped: Option<String>,
    /// Whether the last attempt reached the server.
    pub online: bool,
}

fn link_aad() -> Aad<'static> {
    Aad::new(INSTANCE_SCOPE, "server_link", "value", "server")
}

impl Instance {
    pub(crate) async fn server_link(&self) -> Result<Option<Link>> {
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT value FROM server_link WHERE id = 'server'")
                .fetch_optional(&self.pool)
                .await?;
        match sealed {
            None => Ok(None),
            Some(sealed) => {
                let json = self.vault.open(&link_aad(), &sealed).await?;
                Ok(Some(crate::store::body::decode(
                    "server link",
                    "server",
                    &json,
                )?))
            }
        }
    }

    pub(crate) async fn chain_state(&self, scope: &str) -> Result<ChainState> {
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT value FROM sync_chains WHERE id = ?")
                .bind(scope)
                .fetch_optional(&self.pool)
                .await?;
        match sealed {
            None => Ok(ChainState::default()),
            Some(sealed) => {
                let aad = Aad::new(INSTANCE_SCOPE, "sync_chains", "value", scope);
                let json = self.vault.open(&aad, &sealed).await?;
                Ok(crate::store::body::decode(
                    "chain sync state",
                    scope,
                    &json,
                )?)
            }
        }
    }

    pub(crate) async fn save_chain_state(&self, scope: &str, state: &ChainState) -> Result<()> {
        let json = crate::store::body::encode("chain sync state", scope, state)?;
        let aad = Aad::new(INSTANCE_SCOPE, "sync_chains", "value", scope);
        let sealed = self.vault.seal(&aad, &json).await?;
        // Only while joined: a `leave` during a sync must not get its rows back.
        sqlx::query(
            "INSERT INTO sync_chains (id, value, updated_at)
             SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM server_link)
             ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(scope)
        .bind(sealed)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Joins the shared server at `url`: checks its certificate against `pins` before sending
    /// anything, registers this installation's device key with the one-time `token`, and
    /// keeps the server's identity. Admins only; audited.
    pub async fn join_server(
        &self,
        session: &Session,
        url: &str,
        pins: &[String],
        token: &str,
        name: &str,
    ) -> Result<JoinReport> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SettingsManage,
            "server.join",
        )
        .await?;
        if let Some(link) = self.server_link().await? {
            return Err(SyncError::AlreadyJoined { url: link.url }.into());
        }
        let url = check_url(url)?;
        check_pins(pins)?;
        if token.trim().is_empty() {
            return Err(Error::InvalidInput(
                "give the enrollment token from `headmaster-server enroll create`".into(),
            ));
        }
        let client = ServerClient::new(&url, pins);
        let identity = client.get("/api/v1/server").await?;
        let body = json!({
            "token": token.trim(),
            "public_key": headmaster_protocol::bundle::device_pub_line(&self.device.verifying_key()).trim_end(),
            "name": name,
        });
        let answer = client
            .post("/api/v1/devices", serde_json::to_vec(&body).expect("JSON"))
            .await?;
        let server = &answer["server"];
        let server_key = server["public_key"].as_str().unwrap_or_default();
        if server_key.is_empty() || server_key != identity["public_key"].as_str().unwrap_or("") {
            return Err(SyncError::BadAnswer(
                "the enrollment answer names another server key than the server's identity".into(),
            )
            .into());
        }
        let device_id = answer["device"]["id"].as_str().unwrap_or_default();
        if device_id.is_empty()
            || answer["device"]["fingerprint"].as_str() != Some(&self.device.fingerprint())
        {
            return Err(SyncError::BadAnswer(
                "the enrollment answer does not name this device's key".into(),
            )
            .into());
        }
        let server_vk = headmaster_protocol::bundle::parse_ed25519_pub(server_key)
            .map_err(|e| SyncError::BadAnswer(format!("the server key: {e}")))?;
        let link = Link {
            url: url.clone(),
            pins: pins.to_vec(),
            server_key: server_key.to_owned(),
            server_fingerprint: headmaster_protocol::checkpoint::key_fingerprint(&server_vk),
            device_id: device_id.to_owned(),
            joined_at: rfc3339_ms(self.now()),
        };
        let report = JoinReport {
            url: url.clone(),
            device_id: link.device_id.clone(),
            device_fingerprint: self.device.fingerprint(),
            server_fingerprint: link.server_fingerprint.clone(),
        };
        let json = crate::store::body::encode("server link", "server", &link)?;
        let sealed = self.vault.seal(&link_aad(), &json).await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "server.joined",
            Outcome::Allowed,
            &session.source,
        )
        .target(&url)
        .payload(json!({
            "device_id": report.device_id,
            "device_fingerprint": report.device_fingerprint,
            "server_fingerprint": report.server_fingerprint,
            "pins": pins,
        }));
        self.replace_link(Some(sealed), event).await?;
        Ok(report)
    }

    /// Stops syncing: revokes this device on the server when it is reachable, forgets the
    /// server, keeps every local chain. Admins only; audited.
    pub async fn leave_server(&self, session: &Session) -> Result<LeaveReport> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SettingsManage,
            "server.leave",
        )
        .await?;
        let link = self.server_link().await?.ok_or(SyncError::NotJoined)?;
        let client = ServerClient::new(&link.url, &link.pins);
        let fingerprint = self.device.fingerprint();
        let signer = Signer {
            key: self.device.signing_key(),
            fingerprint: &fingerprint,
            now_ms: self.now(),
        };
        let revoked = client
            .signed("DELETE", "/api/v1/devices/self", Vec::new(), &signer)
            .await;
        let report = LeaveReport {
            url: link.url.clone(),
            revoked_on_server: revoked.is_ok(),
            server_error: revoked.err().map(|e| e.to_string()),
        };
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "server.left",
            Outcome::Allowed,
            &session.source,
        )
        .target(&link.url)
        .payload(json!({
            "device_id": link.device_id,
            "revoked_on_server": report.revoked_on_server,
        }));
        self.replace_link(None, event).await?;
        Ok(report)
    }

    /// Stores the sealed link (or none) with a fresh sync state and `event`, in one transaction.
    async fn replace_link(&self, sealed: Option<Vec<u8>>, event: NewEvent) -> Result<()> {
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        sqlx::query("DELETE FROM server_link")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sync_chains")
            .execute(&mut *tx)
            .await?;
        if let Some(sealed) = sealed {
            sqlx::query("INSERT INTO server_link (id, value, updated_at) VALUES ('server', ?, ?)")
                .bind(sealed)
                .bind(self.now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Replaces the pinned certificate keys (after the server's certificate was replaced on
    /// purpose); the server key that signs receipts stays what it was at join. Admins only;
    /// audited.
    pub async fn repin_server(&self, session: &Session, pins: &[String]) -> Result<()> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SettingsManage,
            "server.repin",
        )
        .await?;
        let mut link = self.server_link().await?.ok_or(SyncError::NotJoined)?;
        check_pins(pins)?;
        let before = std::mem::replace(&mut link.pins, pins.to_vec());
        let json = crate::store::body::encode("server link", "server", &link)?;
        let sealed = self.vault.seal(&link_aad(), &json).await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "server.repinned",
            Outcome::Allowed,
            &session.source,
        )
        .target(&link.url)
        .payload(json!({ "before": before, "after": pins }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        sqlx::query("UPDATE server_link SET value = ?, updated_at = ? WHERE id = 'server'")
            .bind(sealed)
            .bind(self.now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Lets a stopped chain sync again (after an Admin compared it with the server). Admins
    /// only; audited.
    pub async fn resume_chain(&self, session: &Session, scope: &str) -> Result<()> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SettingsManage,
            "server.resume",
        )
        .await?;
        self.server_link().await?.ok_or(SyncError::NotJoined)?;
        let mut state = self.chain_state(scope).await?;
        let Some(why) = state.stopped.take() else {
            return Err(Error::InvalidInput(format!(
                "the sync of chain {scope:?} is not stopped; `headmaster server status` lists the chains"
            )));
        };
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "server.chain_resumed",
            Outcome::Allowed,
            &session.source,
        )
        .target(scope)
        .payload(json!({ "was_stopped_because": why }));
        self.record(Scope::Org, event).await?;
        self.save_chain_state(scope, &state).await
    }

    /// The joined server and each chain's state as last seen; contacts nobody.
    pub async fn server_status(&self, session: &Session) -> Result<ServerStatus> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SettingsManage,
            "server.status",
        )
        .await?;
        let link = self.server_link().await?.ok_or(SyncError::NotJoined)?;
        let mut chains = Vec::new();
        // Online when the chains tried last time all reached the server; never tried, not.
        let (mut tried, mut online) = (false, true);
        for (scope, pool) in self.sync_chains().await? {
            let state = self.chain_state(&scope).await?;
            let local_seq = super::rows::local_head(&pool).await?;
            if state.last_attempt.is_some() {
                tried = true;
                online &= state.online;
            }
            // The organisation's name for the instance chain, the workspace's for its own.
            let name = match scope.parse::<crate::ids::WorkspaceId>() {
                Ok(w) => self.workspace_name(w).await?,
                Err(_) => self.org_name().await?,
            };
            chains.push(ChainSyncStatus {
                name,
                local_seq,
                receipted_seq: state.receipted_seq,
                pending: local_seq.saturating_sub(state.receipted_seq),
                last_receipt: state.receipt_time,
                last_success: state.last_success,
                last_error: state.last_error,
                stopped: state.stopped.is_some(),
                scope,
            });
        }
        Ok(ServerStatus {
            url: link.url,
            pins: link.pins,
            device_id: link.device_id,
            device_fingerprint: self.device.fingerprint(),
            server_fingerprint: link.server_fingerprint,
            joined_at: link.joined_at,
            online: tried && online,
            chains,
        })
    }
}
