//! Filing, listing and showing approval requests, and expiring old ones.

use std::collections::HashSet;

use headmaster_policy::Tier;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::rules::{self, Facts};
use super::store::{self, DetailRow, SummaryRow};
use crate::access::{Capability, CapabilitySet, Scope};
use crate::audit::{Actor, ActorKind, Correlation, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::paging::{cursor_after, Page, PageRequest};
use crate::states::{ApprovalDecision, ApprovalStatus};
use crate::store::body;
use crate::vault::seal::Aad;

/// Setting key of the per-tier expiry.
const EXPIRY: &str = "approval_expiry";

/// How long a request waits per tier, in minutes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, TS)]
pub struct ExpiryConfig {
    /// Medium.
    pub medium_minutes: i64,
    /// High.
    pub high_minutes: i64,
    /// Critical.
    pub critical_minutes: i64,
}

impl ExpiryConfig {
    /// The minutes a request of `tier` waits (low-tier calls never wait; they read as high).
    pub fn minutes(&self, tier: Tier) -> i64 {
        match tier {
            Tier::Medium => self.medium_minutes,
            Tier::Low | Tier::High => self.high_minutes,
            Tier::Critical => self.critical_minutes,
        }
    }

    fn per_tier(&self) -> [(Tier, i64); 3] {
        [
            (Tier::Medium, self.medium_minutes),
            (Tier::High, self.high_minutes),
            (Tier::Critical, self.critical_minutes),
        ]
    }
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
#[derive(Debug, Clone, Serialize, TS)]
pub struct ApprovalSummary {
    /// Id.
    pub id: String,
    /// Where it is.
    pub status: ApprovalStatus,
    /// Tier.
    pub tier: Tier,
    /// Approvals needed.
    pub quorum: u8,
    /// Approvals so far.
    pub approvals: u8,
    /// `tool.action`.
    pub action: String,
    /// A person or an agent.
    pub requester_kind: ActorKind,
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
    /// Why not, when they may not (the same rule `decide_approval` applies).
    pub cannot_decide: Option<String>,
}

/// Everything a reviewer sees.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ApprovalDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: ApprovalSummary,
    /// Canonical arguments (credential references, never values).
    #[ts(type = "unknown")]
    pub args: Value,
    /// SHA-256 of action and canonical arguments: what the decision binds.
    pub args_sha256: String,
    /// The agent's (or person's) reasoning.
    pub reasoning: Option<String>,
    /// Affected resources, tagged by `kind`: recipients, path and diff, method and URL,
    /// command and sandbox.
    #[ts(type = "Record<string, unknown>")]
    pub affected: Value,
    /// The policy's reasons for the tier.
    pub reasons: Vec<String>,
    /// Decisions so far.
    pub decisions: Vec<DecisionRecord>,
    /// The result, once executed.
    #[ts(type = "unknown")]
    pub result: Option<Value>,
}

/// One person's decision.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecisionRecord {
    /// Who.
    pub decider: String,
    /// Approve or reject.
    pub decision: ApprovalDecision,
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
    /// One page of requests (`pending`, `decided` or everything), newest first, with whether
    /// the caller may decide each. A constant number of queries whatever the page size: the
    /// page with its vote counts and the caller's votes, the total, and the names.
    pub async fn list_approvals(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        status: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ApprovalSummary>> {
        let auth = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                Capability::WorkspaceRead,
                "approval.list",
            )
            .await?;
        let filter = store::Filter::parse(status)?;
        let limit = page.size()?;
        let after = page.position()?;
        self.expire_due(workspace).await?;
        let mut conn = self.workspace_pool(workspace).await?.acquire().await?;
        let (mut rows, total) = store::page(
            &mut conn,
            filter,
            &session.user_id.to_string(),
            after,
            limit,
        )
        .await?;
        drop(conn);
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| cursor_after(r.created_at, &r.id))
        } else {
            None
        };
        let items = self.summaries(rows, session, &auth.capabilities).await?;
        Ok(Page {
            items,
            total: total.max(0) as u32,
            next_cursor,
        })
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
        let mut conn = self.workspace_pool(workspace).await?.acquire().await?;
        let DetailRow { row, sealed } = store::detail(&mut conn, id, &session.user_id.to_string())
            .await?
            .ok_or_else(|| Error::not_found("approval request", id))?;
        drop(conn);
        let args_sha256 = row.args_hash.clone();
        let summary = self
            .summaries(vec![row], session, &auth.capabilities)
            .await?
            .remove(0);
        let body = self.open_request(workspace, id, &sealed.request).await?;
        let result = match sealed.result {
            Some(sealed) => Some(self.open_result(workspace, id, &sealed).await?),
            None => None,
        };
        Ok(ApprovalDetail {
            summary,
            args: body.args,
            args_sha256,
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
        if !store::any_due(&mut *pool.acquire().await?, now).await? {
            return Ok(());
        }
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), Vec::new())
            .await?;
        let expired = store::expire_due(&mut tx, now).await?;
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
                status: ApprovalStatus::Expired,
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
        for (tier, minutes) in config.per_tier() {
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

    /// Summaries of rows read with `SUMMARY_COLUMNS`, with the names of the people they were
    /// proposed for (one query for all of them) and whether the caller may decide each.
    async fn summaries(
        &self,
        rows: Vec<SummaryRow>,
        session: &Session,
        caps: &CapabilitySet,
    ) -> Result<Vec<ApprovalSummary>> {
        let people: HashSet<&str> = rows.iter().map(|r| r.on_behalf_of.as_str()).collect();
        let names = self.display_names(people).await?;
        let me = session.user_id.to_string();
        let now = self.now();
        Ok(rows
            .into_iter()
            .map(|row| {
                let verdict = rules::may_decide(
                    &Facts {
                        status: row.status,
                        tier: row.tier,
                        on_behalf_of: &row.on_behalf_of,
                        expires_at: row.expires_at,
                        voted: row.voted,
                    },
                    &me,
                    caps,
                    now,
                );
                ApprovalSummary {
                    on_behalf_of_name: names
                        .get(&row.on_behalf_of)
                        .cloned()
                        .unwrap_or_else(|| row.on_behalf_of.clone()),
                    id: row.id,
                    status: row.status,
                    tier: row.tier,
                    quorum: row.quorum.clamp(0, 255) as u8,
                    approvals: row.approvals.clamp(0, 255) as u8,
                    action: row.action,
                    requester_kind: row.requester_kind,
                    requester_id: row.requester_id,
                    on_behalf_of: row.on_behalf_of,
                    run_id: row.run_id,
                    created_at: rfc3339_ms(row.created_at),
                    expires_at: rfc3339_ms(row.expires_at),
                    ms_left: (row.expires_at - now).max(0),
                    can_decide: verdict.is_ok(),
                    cannot_decide: verdict.err().map(|r| r.to_string()),
                }
            })
            .collect())
    }

    /// A request's sealed body, opened.
    pub(crate) async fn open_request(
        &self,
        workspace: WorkspaceId,
        id: &str,
        sealed: &[u8],
    ) -> Result<RequestBody> {
        let scope = workspace.to_string();
        let aad = Aad::new(&scope, "approvals", "request", id);
        Ok(body::decode(
            "approval request",
            id,
            &self.vault.open(&aad, sealed).await?,
        )?)
    }

    /// An executed request's sealed result, opened (`{"ok": output}` or `{"error", "code"}`).
    pub(crate) async fn open_result(
        &self,
        workspace: WorkspaceId,
        id: &str,
        sealed: &[u8],
    ) -> Result<Value> {
        let scope = workspace.to_string();
        let aad = Aad::new(&scope, "approvals", "result", id);
        Ok(body::decode(
            "approval result",
            id,
            &self.vault.open(&aad, sealed).await?,
        )?)
    }

    async fn decisions(&self, workspace: WorkspaceId, id: &str) -> Result<Vec<DecisionRecord>> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows = store::decisions(&mut *pool.acquire().await?, id).await?;
        let names = self
            .display_names(rows.iter().map(|r| r.decider_id.as_str()))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let comment = match row.comment {
                Some(sealed) => Some(
                    self.vault
                        .open_string(
                            &Aad::new(&scope, "approval_decisions", "comment", &row.id),
                            &sealed,
                        )
                        .await?,
                ),
                None => None,
            };
            out.push(DecisionRecord {
                decider: names
                    .get(&row.decider_id)
                    .cloned()
                    .unwrap_or(row.decider_id),
                decision: row.decision,
                comment,
                decided_at: rfc3339_ms(row.decided_at),
            });
        }
        Ok(out)
    }
}
