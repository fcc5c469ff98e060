//! Standing grants: an Approver allows "this action with arguments matching these patterns, for
//! this agent or user, for up to 24 hours". Grants are listed, revocable and expire; each use is
//! audited with the grant's id (in the call pipeline). They never apply to critical calls or
//! override a denial (the policy crate enforces both).

use std::collections::BTreeMap;

use headmaster_policy::{ArgPattern, Grant, GrantSpec};
use serde::Serialize;
use sqlx::Row;

use crate::access::{Capability, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;
use crate::vault::seal::Aad;

/// A grant to create.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    /// `tool.action`.
    pub action: String,
    /// A username, or `agent:<agent id>`.
    pub principal: String,
    /// Per top-level argument: an exact JSON value, or a `*`-glob (`like:*@acme.com`).
    pub args: BTreeMap<String, String>,
    /// Lifetime in minutes (at most 24 h).
    pub minutes: i64,
}

/// A grant as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct GrantSummary {
    /// Id.
    pub id: String,
    /// `tool.action`.
    pub action: String,
    /// Principal id (user id or agent id).
    pub principal: String,
    /// Argument patterns (JSON).
    pub args: serde_json::Value,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Expires (RFC 3339).
    pub expires_at: String,
    /// Revoked (RFC 3339).
    pub revoked_at: Option<String>,
    /// Whether it can match now.
    pub active: bool,
}

impl Instance {
    /// Creates a standing grant.
    pub async fn create_grant(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        request: GrantRequest,
    ) -> Result<GrantSummary> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::GrantManage,
            "grant.create",
        )
        .await?;
        let (tool, action) = crate::tools::call::split(&request.action);
        if crate::tools::catalog::executor(&request.action).is_none() {
            return Err(Error::not_found("tool action", &request.action));
        }
        let principal = match request.principal.strip_prefix("agent:") {
            Some(agent) => agent.to_string(),
            None => self.user_by_name(&request.principal).await?.id.to_string(),
        };
        if principal == session.user_id.to_string() {
            self.record(
                Scope::Workspace(workspace),
                NewEvent::new(
                    Actor::user(session.user_id),
                    "grant.refused",
                    Outcome::Denied,
                    &session.source,
                )
                .target(&request.action)
                .payload(serde_json::json!({ "action": request.action, "reason": "self-grant" })),
            )
            .await?;
            return Err(Error::NotAllowed(
                "a standing grant for yourself would let you approve your own calls; another Approver must grant it".into(),
            ));
        }
        let mut args = BTreeMap::new();
        for (name, pattern) in &request.args {
            let pattern = match pattern.strip_prefix("like:") {
                Some(glob) => ArgPattern::Like(glob.to_string()),
                None => ArgPattern::Exact(
                    serde_json::from_str(pattern)
                        .unwrap_or_else(|_| serde_json::Value::String(pattern.clone())),
                ),
            };
            args.insert(name.clone(), pattern);
        }
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        let grant = Grant::new(
            GrantSpec {
                id: id.clone(),
                tool: tool.to_string(),
                action: action.to_string(),
                principal: principal.clone(),
                args,
                expires_at: now + request.minutes * 60_000,
            },
            now,
        )
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let scope = workspace.to_string();
        let spec = serde_json::to_vec(&grant).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let sealed = self
            .vault
            .seal(&Aad::new(&scope, "grants", "spec", &id), &spec)
            .await?;
        let event = NewEvent::new(Actor::user(session.user_id), "grant.created", Outcome::Allowed, &session.source)
            .target(&id)
            .payload(serde_json::json!({ "grant_id": id, "action": request.action, "principal": principal, "expires_at": rfc3339_ms(grant.expires_at()) }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        sqlx::query("INSERT INTO grants (id, spec, principal, action, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&id)
            .bind(&sealed)
            .bind(&principal)
            .bind(&request.action)
            .bind(session.user_id.to_string())
            .bind(now)
            .bind(grant.expires_at())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.grant_summary(workspace, &id).await
    }

    /// Lists grants, newest first.
    pub async fn list_grants(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<GrantSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "grant.list",
        )
        .await?;
        let pool = self.workspace_pool(workspace).await?;
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM grants ORDER BY created_at DESC")
            .fetch_all(&pool)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.grant_summary(workspace, &id).await?);
        }
        Ok(out)
    }

    /// Revokes a grant.
    pub async fn revoke_grant(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::GrantManage,
            "grant.revoke",
        )
        .await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "grant.revoked",
            Outcome::Allowed,
            &session.source,
        )
        .target(id)
        .payload(serde_json::json!({ "grant_id": id }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        let exists: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM grants WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match exists {
            None => return Err(Error::not_found("grant", id)),
            // Revoking twice changes nothing and records nothing.
            Some(Some(_)) => return Ok(()),
            Some(None) => {}
        }
        sqlx::query("UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id = ?")
            .bind(self.now())
            .bind(session.user_id.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Grants that may apply to `action` now (the policy re-checks expiry and revocation).
    /// Grants made by the person the call is for are left out: nobody approves their own calls,
    /// not even in advance (this also covers an agent whose run the granter started).
    pub(crate) async fn active_grants(
        &self,
        workspace: WorkspaceId,
        action: &str,
        on_behalf_of: crate::ids::UserId,
    ) -> Result<Vec<Grant>> {
        let pool = self.workspace_pool(workspace).await?;
        let rows = sqlx::query(
            "SELECT id, spec, revoked_at FROM grants WHERE action = ? AND expires_at > ? AND created_by <> ?",
        )
        .bind(action)
        .bind(self.now())
        .bind(on_behalf_of.to_string())
        .fetch_all(&pool)
        .await?;
        let scope = workspace.to_string();
        let mut out = Vec::new();
        for row in rows {
            let id: String = row.get(0);
            let sealed: Vec<u8> = row.get(1);
            let revoked: Option<i64> = row.get(2);
            let mut grant: Grant = body::decode(
                "grant",
                &id,
                &self
                    .vault
                    .open(&Aad::new(&scope, "grants", "spec", &id), &sealed)
                    .await?,
            )?;
            if revoked.is_some() {
                grant.revoke();
            }
            out.push(grant);
        }
        Ok(out)
    }

    async fn grant_summary(&self, workspace: WorkspaceId, id: &str) -> Result<GrantSummary> {
        let pool = self.workspace_pool(workspace).await?;
        let row = sqlx::query("SELECT spec, principal, action, created_at, expires_at, revoked_at FROM grants WHERE id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await?;
        let scope = workspace.to_string();
        let sealed: Vec<u8> = row.get(0);
        let grant: serde_json::Value = body::decode(
            "grant",
            id,
            &self
                .vault
                .open(&Aad::new(&scope, "grants", "spec", id), &sealed)
                .await?,
        )?;
        // Every stored grant has its argument patterns (an empty map when it has none).
        let args = grant
            .get("args")
            .cloned()
            .ok_or_else(|| body::corrupt("grant", id, "it has no argument patterns"))?;
        let expires_at: i64 = row.get(4);
        let revoked_at: Option<i64> = row.get(5);
        Ok(GrantSummary {
            id: id.to_string(),
            action: row.get(2),
            principal: row.get(1),
            args,
            created_at: rfc3339_ms(row.get(3)),
            expires_at: rfc3339_ms(expires_at),
            revoked_at: revoked_at.map(rfc3339_ms),
            active: revoked_at.is_none() && expires_at > self.now(),
        })
    }
}
