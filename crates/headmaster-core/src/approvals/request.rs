//! Filing, listing and showing approval requests, and expiring old ones.

use headmaster_policy::{Decision, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::access::{Capability, Scope};
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;
use crate::tools::call::{verdict_tier, CallOutcome, CallRequest, Prepared, Proposer};
use crate::vault::seal::Aad;

/// Setting key of the per-tier expiry.
const EXPIRY: &str = "approval_expiry";

/// How long a request waits per tier, in minutes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExpiryConfig {
    /// Medium.
    pub medium_minutes: i64,
    /// High.
    pub high_minutes: i64,
    /// Critical.
    pub critical_minutes: i64,
}

impl Default for ExpiryConfig {
    fn default() -> Self {
        Self {
            medium_minutes: 4 * 60,
            high_minutes: 24 * 60,
            critical_minutes: 24 * 60,
        }
    }
}

/// A request in a list (the inbox).
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalSummary {
    /// Id.
    pub id: String,
    /// `pending`, `approved`, `rejected`, `expired`, `executing`, `executed`, `failed`.
    pub status: String,
    /// Tier.
    pub tier: String,
    /// Approvals needed.
    pub quorum: u8,
    /// Approvals so far.
    pub approvals: u8,
    /// `tool.action`.
    pub action: String,
    /// `user` or `agent`.
    pub requester_kind: String,
    /// Requester id (agent id or user id).
    pub requester_id: String,
    /// The person on whose behalf (the proposer, or the person who started the agent's run).
    pub on_behalf_of: String,
    /// Their username.
    pub on_behalf_of_name: String,
    /// Run, when an agent proposed it.
    pub run_id: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Expires (RFC 3339).
    pub expires_at: String,
    /// Milliseconds left (0 once expired).
    pub ms_left: i64,
    /// Whether the caller may decide it now.
    pub can_decide: bool,
}

/// Everything a reviewer sees.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: ApprovalSummary,
    /// Canonical arguments (credential references, never values).
    pub args: Value,
    /// SHA-256 of action and canonical arguments: what the decision binds.
    pub args_sha256: String,
    /// The agent's (or person's) reasoning.
    pub reasoning: Option<String>,
    /// Affected resources: recipients, path and diff, method and URL, command and sandbox.
    pub affected: Value,
    /// The policy's reasons for the tier.
    pub reasons: Vec<String>,
    /// Decisions so far.
    pub decisions: Vec<DecisionRecord>,
    /// The result, once executed.
    pub result: Option<Value>,
}

/// One person's decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRecord {
    /// Who.
    pub decider: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Their comment.
    pub comment: Option<String>,
    /// When (RFC 3339).
    pub decided_at: String,
}

/// The sealed body of a request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RequestBody {
    pub args: Value,
    pub reasoning: Option<String>,
    pub affected: Value,
    pub reasons: Vec<String>,
}

impl Instance {
    /// Files an approval request for a call the policy did not allow outright.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn request_approval(
        &self,
        workspace: WorkspaceId,
        on_behalf_of: crate::ids::UserId,
        source: &crate::audit::Source,
        request: &CallRequest,
        prepared: &Prepared,
        verdict: &Verdict,
        (actor, correlation, proposed): (Actor, Correlation, NewEvent),
    ) -> Result<CallOutcome> {
        let quorum: u8 = match verdict.decision {
            Decision::NeedsApproval { quorum } => quorum.max(1),
            _ => 1,
        };
        let tier = verdict_tier(verdict);
        let expiry = self.expiry_config(workspace).await?;
        let minutes = match tier.as_str() {
            "medium" => expiry.medium_minutes,
            "critical" => expiry.critical_minutes,
            _ => expiry.high_minutes,
        };
        let now = self.now();
        let expires_at = now + minutes * 60_000;
        let id = uuid::Uuid::now_v7().to_string();
        let affected = match self.affected(workspace, prepared).await {
            Ok(affected) => affected,
            Err(e) => {
                // What reviewers would see cannot even be described (a path escape, a host off
                // the allowlist): the call is refused here, and the refusal is audited.
                let rejected = NewEvent::new(actor, "tool.rejected", Outcome::Denied, source)
                    .target(&prepared.action)
                    .correlation(correlation)
                    .payload(
                        serde_json::json!({ "action": prepared.action, "error": e.to_string() }),
                    );
                self.begin_change(Scope::Workspace(workspace), vec![proposed, rejected])
                    .await?
                    .commit()
                    .await?;
                return Err(e);
            }
        };
        let body = RequestBody {
            args: prepared.args.clone(),
            reasoning: request.reasoning.clone(),
            affected,
            reasons: verdict.reasons.clone(),
        };
        let scope = workspace.to_string();
        let sealed = self
            .vault
            .seal(
                &Aad::new(&scope, "approvals", "request", &id),
                &serde_json::to_vec(&body).map_err(|e| Error::InvalidInput(e.to_string()))?,
            )
            .await?;
        let (run_id, step_id) = match &request.proposer {
            Proposer::Agent {
                run_id, step_id, ..
            } => (Some(run_id.clone()), Some(step_id.clone())),
            Proposer::User => (None, None),
        };
        let mut correlation = correlation;
        correlation.approval_id = id.clone();
        let event = NewEvent::new(
            actor.clone(),
            "approval.requested",
            Outcome::Pending,
            source,
        )
        .target(&prepared.action)
        .correlation(correlation)
        .payload(serde_json::json!({
            "approval_id": id,
            "action": prepared.action,
            "args_sha256": prepared.hash,
            "tier": tier,
            "quorum": quorum,
            "expires_at": rfc3339_ms(expires_at),
            "on_behalf_of": on_behalf_of.to_string(),
        }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![proposed, event])
            .await?;
        sqlx::query(
            "INSERT INTO approvals (id, status, tier, quorum, requester_kind, requester_id, on_behalf_of, run_id, step_id,
                 action, args_hash, request, created_at, expires_at)
             VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&tier)
        .bind(quorum as i64)
        .bind(actor.kind.as_str())
        .bind(&actor.id)
        .bind(on_behalf_of.to_string())
        .bind(&run_id)
        .bind(&step_id)
        .bind(&prepared.action)
        .bind(&prepared.hash)
        .bind(&sealed)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.announce(CoreEvent::ApprovalRequested {
            workspace,
            approval_id: id.clone(),
            tier: tier.clone(),
            action: prepared.action.clone(),
            created_at: now,
        });
        Ok(CallOutcome::Pending {
            approval_id: id,
            tier,
            quorum,
            expires_at: rfc3339_ms(expires_at),
            reasons: verdict.reasons.clone(),
        })
    }

    /// Lists requests (`pending`, `decided` or everything), newest first, with whether the
    /// caller may decide each.
    pub async fn list_approvals(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        status: Option<&str>,
    ) -> Result<Vec<ApprovalSummary>> {
        let auth = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                Capability::WorkspaceRead,
                "approval.list",
            )
            .await?;
        self.expire_due(workspace).await?;
        let pool = self.workspace_pool(workspace).await?;
        let filter = match status {
            None | Some("all") => "",
            Some("pending") => "WHERE status = 'pending'",
            Some("decided") => "WHERE status <> 'pending'",
            Some(other) => {
                return Err(Error::InvalidInput(format!(
                    "unknown status filter {other:?}; use pending, decided or all"
                )))
            }
        };
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM approvals {filter} ORDER BY created_at DESC LIMIT 500"
        ))
        .fetch_all(&pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(
                self.summary(workspace, row, session, &auth.capabilities)
                    .await?,
            );
        }
        Ok(out)
    }

    /// One request with everything a reviewer needs.
    pub async fn show_approval(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<ApprovalDetail> {
        let auth = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                Capability::WorkspaceRead,
                "approval.show",
            )
            .await?;
        self.expire_due(workspace).await?;
        let pool = self.workspace_pool(workspace).await?;
        let row = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, request, result, args_hash FROM approvals WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&pool)
        .await?
        .ok_or_else(|| Error::not_found("approval request", id))?;
        let summary = self
            .summary(workspace, &row, session, &auth.capabilities)
            .await?;
        let scope = workspace.to_string();
        let body: RequestBody = body::decode(
            "approval request",
            id,
            &self
                .vault
                .open(
                    &Aad::new(&scope, "approvals", "request", id),
                    &row.get::<Vec<u8>, _>(16),
                )
                .await?,
        )?;
        let result = match row.get::<Option<Vec<u8>>, _>(17) {
            Some(sealed) => Some(body::decode(
                "approval result",
                id,
                &self
                    .vault
                    .open(&Aad::new(&scope, "approvals", "result", id), &sealed)
                    .await?,
            )?),
            None => None,
        };
        Ok(ApprovalDetail {
            summary,
            args: body.args,
            args_sha256: row.get(18),
            reasoning: body.reasoning,
            affected: body.affected,
            reasons: body.reasons,
            decisions: self.decisions(workspace, id).await?,
            result,
        })
    }

    /// Marks pending requests past their expiry as expired, with one audit event each, in one
    /// transaction.
    pub(crate) async fn expire_due(&self, workspace: WorkspaceId) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let now = self.now();
        // The common case (nothing due) costs one indexed read and no write lock.
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM approvals WHERE status = 'pending' AND expires_at <= ? LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&pool)
        .await?;
        if due.is_none() {
            return Ok(());
        }
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), Vec::new())
            .await?;
        let expired: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "UPDATE approvals SET status = 'expired', decided_at = ? WHERE status = 'pending' AND expires_at <= ?
             RETURNING id, action, run_id",
        )
        .bind(now)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for (id, action, run_id) in &expired {
            tx.record(
                NewEvent::new(
                    Actor::system(),
                    "approval.expired",
                    Outcome::Denied,
                    &crate::audit::Source::local("system", "headmaster"),
                )
                .target(action)
                .correlation(Correlation {
                    run_id: run_id.clone().unwrap_or_default(),
                    step_id: String::new(),
                    approval_id: id.clone(),
                })
                .payload(serde_json::json!({ "approval_id": id })),
            )
            .await?;
        }
        tx.commit().await?;
        for (id, _, _) in expired {
            self.announce(CoreEvent::ApprovalDecided {
                workspace,
                approval_id: id,
                status: "expired".into(),
            });
        }
        Ok(())
    }

    /// How long requests wait per tier in a workspace.
    pub async fn approval_expiry(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<ExpiryConfig> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "approval.expiry",
        )
        .await?;
        self.expiry_config(workspace).await
    }

    /// The per-tier expiry of a workspace.
    pub(crate) async fn expiry_config(&self, workspace: WorkspaceId) -> Result<ExpiryConfig> {
        Ok(self
            .workspace_setting(workspace, EXPIRY)
            .await?
            .unwrap_or_default())
    }

    /// Sets how long requests wait per tier.
    pub async fn set_approval_expiry(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        config: ExpiryConfig,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::PolicyManage,
            "approval.set_expiry",
        )
        .await?;
        for (tier, minutes) in [
            ("medium", config.medium_minutes),
            ("high", config.high_minutes),
            ("critical", config.critical_minutes),
        ] {
            if !(1..=7 * 24 * 60).contains(&minutes) {
                return Err(Error::InvalidInput(format!(
                    "{tier} expiry must be 1 to 10080 minutes"
                )));
            }
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "policy.expiry_set",
            Outcome::Allowed,
            &session.source,
        )
        .payload(serde_json::json!({
            "medium_minutes": config.medium_minutes,
            "high_minutes": config.high_minutes,
            "critical_minutes": config.critical_minutes,
        }));
        self.update_workspace_setting(workspace, EXPIRY, |_: Option<ExpiryConfig>| {
            Ok((config, event))
        })
        .await
    }

    async fn summary(
        &self,
        workspace: WorkspaceId,
        row: &sqlx::sqlite::SqliteRow,
        session: &Session,
        caps: &crate::access::CapabilitySet,
    ) -> Result<ApprovalSummary> {
        let id: String = row.get(0);
        let status: String = row.get(1);
        let tier: String = row.get(2);
        let on_behalf_of: String = row.get(6);
        let expires_at: i64 = row.get(12);
        let approvals = self.approval_count(workspace, &id).await?;
        let voted = self
            .has_voted(workspace, &id, &session.user_id.to_string())
            .await?;
        let needed = if tier == "medium" {
            Capability::ApprovalConfirm
        } else {
            Capability::ApprovalDecide
        };
        let can_decide = status == "pending"
            && caps.contains(needed)
            && on_behalf_of != session.user_id.to_string()
            && !voted
            && expires_at > self.now();
        Ok(ApprovalSummary {
            on_behalf_of_name: self.username_of(&on_behalf_of).await,
            id,
            status,
            tier,
            quorum: row.get::<i64, _>(3) as u8,
            approvals,
            requester_kind: row.get(4),
            requester_id: row.get(5),
            on_behalf_of,
            run_id: row.get(7),
            action: row.get(9),
            created_at: rfc3339_ms(row.get(11)),
            expires_at: rfc3339_ms(expires_at),
            ms_left: (expires_at - self.now()).max(0),
            can_decide,
        })
    }

    pub(crate) async fn approval_count(&self, workspace: WorkspaceId, id: &str) -> Result<u8> {
        let pool = self.workspace_pool(workspace).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM approval_decisions WHERE approval_id = ? AND decision = 'approve'")
            .bind(id)
            .fetch_one(&pool)
            .await?;
        Ok(n as u8)
    }

    async fn has_voted(&self, workspace: WorkspaceId, id: &str, user: &str) -> Result<bool> {
        let pool = self.workspace_pool(workspace).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM approval_decisions WHERE approval_id = ? AND decider_id = ?",
        )
        .bind(id)
        .bind(user)
        .fetch_one(&pool)
        .await?;
        Ok(n > 0)
    }

    async fn decisions(&self, workspace: WorkspaceId, id: &str) -> Result<Vec<DecisionRecord>> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows = sqlx::query("SELECT id, decider_id, decision, comment, decided_at FROM approval_decisions WHERE approval_id = ? ORDER BY decided_at")
            .bind(id)
            .fetch_all(&pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let row_id: String = row.get(0);
            let comment = match row.get::<Option<Vec<u8>>, _>(3) {
                Some(sealed) => Some(
                    self.vault
                        .open_string(
                            &Aad::new(&scope, "approval_decisions", "comment", &row_id),
                            &sealed,
                        )
                        .await?,
                ),
                None => None,
            };
            out.push(DecisionRecord {
                decider: self.username_of(&row.get::<String, _>(1)).await,
                decision: row.get(2),
                comment,
                decided_at: rfc3339_ms(row.get(4)),
            });
        }
        Ok(out)
    }

    /// A user's name for display (`[erased]` / the id when unknown).
    pub(crate) async fn username_of(&self, user_id: &str) -> String {
        let Ok(id) = user_id.parse() else {
            return user_id.to_string();
        };
        let Ok(mut conn) = self.pool.acquire().await else {
            return user_id.to_string();
        };
        match crate::identity::users::find_by_id(&mut conn, id).await {
            Ok(Some(user)) => {
                drop(conn);
                crate::identity::users::username(&self.vault, &user)
                    .await
                    .unwrap_or_else(|_| crate::identity::ERASED.to_string())
            }
            _ => user_id.to_string(),
        }
    }
}

/// Columns of a summary, in `summary`'s order.
const SUMMARY_COLUMNS: &str =
    "id, status, tier, quorum, requester_kind, requester_id, on_behalf_of, run_id, step_id, \
    action, args_hash, created_at, expires_at, decided_at, executed_at, result IS NOT NULL";
