//! Deciding a request and executing an approved call exactly once.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use super::request::RequestBody;
use crate::access::{Capability, Scope};
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;
use crate::tools::call::{CallOutcome, Prepared};
use crate::vault::seal::Aad;

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalDecision {
    /// Approve (counts towards the quorum).
    Approve,
    /// Reject (one rejection rejects the request).
    Reject,
}

impl ApprovalDecision {
    fn as_str(&self) -> &'static str {
        match self {
            ApprovalDecision::Approve => "approve",
            ApprovalDecision::Reject => "reject",
        }
    }
}

/// What a decision led to.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionResult {
    /// The request's status now.
    pub status: String,
    /// Approvals so far.
    pub approvals: u8,
    /// Approvals needed.
    pub quorum: u8,
    /// The execution, when this decision completed the quorum of a person's own call.
    pub executed: Option<CallOutcome>,
}

impl Instance {
    /// Records a decision on a request. Refusals (self-decision, insufficient role, a second
    /// vote, an expired or decided request) change nothing and are audited.
    pub async fn decide_approval(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
        decision: ApprovalDecision,
        comment: Option<&str>,
    ) -> Result<DecisionResult> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "approval.decide",
        )
        .await?;
        self.expire_due(workspace).await?;
        let pool = self.workspace_pool(workspace).await?;
        let row = sqlx::query("SELECT status, tier, quorum, on_behalf_of, action, run_id, step_id, expires_at FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_optional(&pool)
            .await?
            .ok_or_else(|| Error::not_found("approval request", id))?;
        let status: String = row.get(0);
        let tier: String = row.get(1);
        let quorum = row.get::<i64, _>(2) as u8;
        let on_behalf_of: String = row.get(3);
        let action: String = row.get(4);
        let correlation = Correlation {
            run_id: row.get::<Option<String>, _>(5).unwrap_or_default(),
            step_id: row.get::<Option<String>, _>(6).unwrap_or_default(),
            approval_id: id.to_string(),
        };
        let (refuse_action, refuse_correlation) = (&action, &correlation);
        let refuse = |reason: String| async move {
            self.record(
                Scope::Workspace(workspace),
                NewEvent::new(
                    Actor::user(session.user_id),
                    "approval.decision_refused",
                    Outcome::Denied,
                    &session.source,
                )
                .target(refuse_action)
                .correlation(refuse_correlation.clone())
                .payload(serde_json::json!({ "approval_id": id, "reason": reason })),
            )
            .await?;
            Ok::<Error, Error>(Error::Conflict(reason))
        };
        let needed = if tier == "medium" {
            Capability::ApprovalConfirm
        } else {
            Capability::ApprovalDecide
        };
        let what = if tier == "medium" {
            "approval.confirm"
        } else {
            "approval.decide"
        };
        self.authorize(session, Scope::Workspace(workspace), needed, what)
            .await?;
        if on_behalf_of == session.user_id.to_string() {
            let err = refuse("you proposed this call (or started the run that did); another person must decide it".into()).await?;
            return Err(Error::NotAllowed(err.to_string()));
        }
        if status != "pending" {
            return Err(refuse(format!(
                "this request is already {status}; nothing was changed"
            ))
            .await?);
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.len() > 4000) {
            return Err(Error::InvalidInput(
                "a comment may have at most 4000 bytes".into(),
            ));
        }
        let decision_id = uuid::Uuid::now_v7().to_string();
        let scope = workspace.to_string();
        let sealed_comment = match comment {
            Some(c) => Some(
                self.vault
                    .seal(
                        &Aad::new(&scope, "approval_decisions", "comment", &decision_id),
                        c.as_bytes(),
                    )
                    .await?,
            ),
            None => None,
        };
        let event = NewEvent::new(
            Actor::user(session.user_id),
            if decision == ApprovalDecision::Approve { "approval.approved" } else { "approval.rejected" },
            Outcome::Allowed,
            &session.source,
        )
        .target(&action)
        .correlation(correlation.clone())
        .payload(serde_json::json!({ "approval_id": id, "decision": decision.as_str(), "comment": comment }));
        let now = self.now();
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        let current: String = sqlx::query_scalar("SELECT status FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if current != "pending" {
            drop(tx);
            return Err(refuse(format!(
                "this request is already {current}; nothing was changed"
            ))
            .await?);
        }
        let voted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM approval_decisions WHERE approval_id = ? AND decider_id = ?",
        )
        .bind(id)
        .bind(session.user_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        if voted > 0 {
            drop(tx);
            return Err(refuse(
                "you already decided this request; a second vote by the same person does not count"
                    .into(),
            )
            .await?);
        }
        sqlx::query(
            "INSERT INTO approval_decisions (id, approval_id, decider_id, decision, comment, decided_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&decision_id)
        .bind(id)
        .bind(session.user_id.to_string())
        .bind(decision.as_str())
        .bind(&sealed_comment)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let approvals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM approval_decisions WHERE approval_id = ? AND decision = 'approve'")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let new_status = match decision {
            ApprovalDecision::Reject => "rejected",
            ApprovalDecision::Approve if approvals as u8 >= quorum => "approved",
            ApprovalDecision::Approve => "pending",
        };
        if new_status != "pending" {
            sqlx::query("UPDATE approvals SET status = ?, decided_at = ? WHERE id = ?")
                .bind(new_status)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if new_status != "pending" {
            self.announce(CoreEvent::ApprovalDecided {
                workspace,
                approval_id: id.to_string(),
                status: new_status.to_string(),
            });
        }
        // A person's own call runs as soon as it is approved; an agent's runs when its run resumes.
        let executed = if new_status == "approved" && correlation.run_id.is_empty() {
            let args = match self.approved_args(workspace, id).await {
                Ok(args) => args,
                Err(e) => {
                    self.refuse_unreadable(workspace, id, &action, &correlation, &e)
                        .await?;
                    return Err(e);
                }
            };
            Some(self.execute_approved(workspace, id, &args).await?)
        } else {
            None
        };
        Ok(DecisionResult {
            status: if executed.is_some() {
                self.approval_status(workspace, id).await?
            } else {
                new_status.to_string()
            },
            approvals: approvals as u8,
            quorum,
            executed,
        })
    }

    /// Executes an approved request with `args`, which must hash to exactly what was approved.
    /// Runs at most once: a second call, or a call with other arguments, is refused and audited.
    pub(crate) async fn execute_approved(
        &self,
        workspace: WorkspaceId,
        id: &str,
        args: &Value,
    ) -> Result<CallOutcome> {
        let pool = self.workspace_pool(workspace).await?;
        let row = sqlx::query("SELECT action, args_hash, requester_kind, requester_id, run_id, step_id, tier FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_optional(&pool)
            .await?
            .ok_or_else(|| Error::not_found("approval request", id))?;
        let action: String = row.get(0);
        let approved_hash: String = row.get(1);
        let kind: String = row.get(2);
        let requester: String = row.get(3);
        let correlation = Correlation {
            run_id: row.get::<Option<String>, _>(4).unwrap_or_default(),
            step_id: row.get::<Option<String>, _>(5).unwrap_or_default(),
            approval_id: id.to_string(),
        };
        let tier: String = row.get(6);
        let actor = if kind == "agent" {
            Actor::agent(&requester)
        } else {
            Actor::user(&requester)
        };
        let source = crate::audit::Source::local("runtime", "headmaster");
        let prepared: Prepared = self.prepare_call(&action, args)?;
        if prepared.hash != approved_hash {
            self.record(
                Scope::Workspace(workspace),
                NewEvent::new(actor, "tool.execution_refused", Outcome::Denied, &source)
                    .target(&action)
                    .correlation(correlation)
                    .payload(serde_json::json!({
                        "approval_id": id,
                        "reason": "arguments differ from the approved ones",
                        "approved_sha256": approved_hash,
                        "presented_sha256": prepared.hash,
                    })),
            )
            .await?;
            return Err(Error::NotAllowed(format!(
                "the arguments differ from the ones approved in request {id} (SHA-256 {approved_hash}); nothing was run"
            )));
        }
        // The claim is on record before anything runs: an execution that a crash interrupts
        // shows in the audit log as started and never finished.
        let claim = NewEvent::new(
            actor.clone(),
            "approval.executing",
            Outcome::Allowed,
            &source,
        )
        .target(&action)
        .correlation(correlation.clone())
        .payload(serde_json::json!({ "approval_id": id, "args_sha256": approved_hash }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![claim])
            .await?;
        let claimed = sqlx::query(
            "UPDATE approvals SET status = 'executing' WHERE id = ? AND status = 'approved'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 1 {
            tx.commit().await?;
        } else {
            drop(tx);
            let status = self.approval_status(workspace, id).await?;
            self.record(
                Scope::Workspace(workspace),
                NewEvent::new(actor, "tool.execution_refused", Outcome::Denied, &source)
                    .target(&action)
                    .correlation(correlation)
                    .payload(serde_json::json!({ "approval_id": id, "reason": format!("request is {status}, not approved") })),
            )
            .await?;
            return Err(Error::Conflict(format!(
                "approval {id} is {status}; an approved call runs once, and only after approval"
            )));
        }
        let output = self
            .execute_prepared(
                workspace,
                &prepared,
                &actor,
                &source,
                &correlation,
                Some(id),
            )
            .await?;
        Ok(CallOutcome::Executed {
            action,
            tier: Some(tier),
            reasons: vec![format!("approved (request {id})")],
            grant: None,
            output,
        })
    }

    /// An approved request whose stored arguments cannot be opened is failed, not left
    /// approved forever, and the refusal is audited.
    async fn refuse_unreadable(
        &self,
        workspace: WorkspaceId,
        id: &str,
        action: &str,
        correlation: &Correlation,
        error: &Error,
    ) -> Result<()> {
        let event = NewEvent::new(Actor::system(), "tool.execution_refused", Outcome::Denied, &crate::audit::Source::local("runtime", "headmaster"))
            .target(action)
            .correlation(correlation.clone())
            .payload(serde_json::json!({ "approval_id": id, "reason": "stored request could not be opened", "error": error.code() }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        sqlx::query("UPDATE approvals SET status = 'failed', executed_at = ? WHERE id = ? AND status = 'approved'")
            .bind(self.now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The final status of an executed request and its result, sealed for the `result` column.
    pub(crate) async fn seal_approval_result(
        &self,
        workspace: WorkspaceId,
        id: &str,
        result: &Result<Value>,
    ) -> Result<(&'static str, Vec<u8>)> {
        let (status, stored) = match result {
            Ok(output) => ("executed", serde_json::json!({ "ok": output })),
            Err(e) => (
                "failed",
                serde_json::json!({ "error": e.to_string(), "code": e.code() }),
            ),
        };
        let bytes = body::encode("approval result", id, &stored)?;
        let scope = workspace.to_string();
        let sealed = self
            .vault
            .seal(&Aad::new(&scope, "approvals", "result", id), &bytes)
            .await?;
        Ok((status, sealed))
    }

    /// The approved arguments of a request (from the sealed request body).
    pub(crate) async fn approved_args(&self, workspace: WorkspaceId, id: &str) -> Result<Value> {
        let pool = self.workspace_pool(workspace).await?;
        let sealed: Vec<u8> = sqlx::query_scalar("SELECT request FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await?;
        let scope = workspace.to_string();
        let body: RequestBody = body::decode(
            "approval request",
            id,
            &self
                .vault
                .open(&Aad::new(&scope, "approvals", "request", id), &sealed)
                .await?,
        )?;
        Ok(body.args)
    }

    /// A request's current status.
    pub(crate) async fn approval_status(&self, workspace: WorkspaceId, id: &str) -> Result<String> {
        let pool = self.workspace_pool(workspace).await?;
        sqlx::query_scalar("SELECT status FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_optional(&pool)
            .await?
            .ok_or_else(|| Error::not_found("approval request", id))
    }
}
