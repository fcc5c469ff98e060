//! Standing grants: an Approver allows "this action with arguments matching these patterns, for
//! this agent or user, for up to 24 hours". Grants are listed, revocable and expire; each use is
//! audited with the grant's id (in the call pipeline). They never apply to critical calls or
//! override a denial (the policy crate enforces both).

use std::collections::BTreeMap;

use headmaster_policy::{ArgPattern, Grant, GrantSpec};
use serde::Serialize;

use crate::access::{Capability, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::paging::{cursor_after, Page, PageRequest};
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
    #[ts(type = "Record<string, unknown>")]
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

    /// One page of grants, newest first: one query for the page, one for the total.
    pub async fn list_grants(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<GrantSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "grant.list",
        )
        .await?;
        let limit = page.size()?;
        let (after_at, after_id) = page.position()?.unzip();
        let pool = self.workspace_pool(workspace).await?;
        let mut rows: Vec<GrantRow> = sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM grants
             WHERE (?1 IS NULL OR (created_at, id) < (?1, ?2))
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        ))
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(limit) + 1)
        .fetch_all(&pool)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM grants")
            .fetch_one(&pool)
            .await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| cursor_after(r.created_at, &r.id))
        } else {
            None
        };
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.grant_summary_of(workspace, row).await?);
        }
        Ok(Page {
            items,
            total: total.max(0) as u32,
            next_cursor,
        })
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
        let rows: Vec<(String, Vec<u8>, Option<i64>)> = sqlx::query_as(
            "SELECT id, spec, revoked_at FROM grants WHERE action = ? AND expires_at > ? AND created_by <> ?",
        )
        .bind(action)
        .bind(self.now())
        .bind(on_behalf_of.to_string())
        .fetch_all(&pool)
        .await?;
        let scope = workspace.to_string();
        let mut out = Vec::new();
        for (id, sealed, revoked) in rows {
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
        let row: GrantRow =
            sqlx::query_as(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE id = ?"))
                .bind(id)
                .fetch_one(&pool)
                .await?;
        self.grant_summary_of(workspace, row).await
    }

    async fn grant_summary_of(
        &self,
        workspace: WorkspaceId,
        row: GrantRow,
    ) -> Result<GrantSummary> {
        let scope = workspace.to_string();
        let id = &row.id;
        let grant: serde_json::Value = body::decode(
            "grant",
            id,
            &self
                .vault
                .open(&Aad::new(&scope, "grants", "spec", id), &row.spec)
                .await?,
        )?;
        // Every stored grant has its argument patterns (an empty map when it has none).
        let args = grant
            .get("args")
            .cloned()
            .ok_or_else(|| body::corrupt("grant", id, "it has no argument patterns"))?;
        Ok(GrantSummary {
            active: row.revoked_at.is_none() && row.expires_at > self.now(),
            id: row.id,
            action: row.action,
            principal: row.principal,
            args,
            created_at: rfc3339_ms(row.created_at),
            expires_at: rfc3339_ms(row.expires_at),
            revoked_at: row.revoked_at.map(rfc3339_ms),
        })
    }
}

/// The columns of `GrantRow`.
const GRANT_COLUMNS: &str = "id, spec, principal, action, created_at, expires_at, revoked_at";

/// A stored grant.
#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    spec: Vec<u8>,
    principal: String,
    action: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}
