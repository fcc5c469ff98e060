//! Running an approved call exactly once: its arguments must hash to what was approved, the
//! `approved → executing` move is a compare-and-swap recorded (`approval.executing`) before
//! anything runs, and the request's final status and sealed result commit with the event of
//! the execution. A person's own call runs when its decision completes the quorum; an agent's
//! when its run resumes.

use serde_json::Value;
use sqlx::SqliteConnection;

use crate::access::Scope;
use crate::approvals::store::{self, Stamp};
use crate::approvals::{ApprovalDecision, ApprovalStatus, DecisionResult};
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;
use crate::tools::call::{Attribution, CallOutcome, Prepared, SameTransaction};
use crate::vault::seal::Aad;

impl Instance {
    /// Records a decision on a request and, when it completes the quorum of a person's own
    /// call, runs the call. Refusals (self-decision, insufficient role, a second vote, an
    /// expired or decided request) change nothing and are audited.
    pub async fn decide_approval(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
        decision: ApprovalDecision,
        comment: Option<&str>,
    ) -> Result<DecisionResult> {
        let recorded = self
            .record_decision(session, workspace, id, decision, comment)
            .await?;
        // A person's own call runs as soon as it is approved; an agent's runs when its run resumes.
        let executed = if recorded.status == ApprovalStatus::Approved
            && recorded.correlation.run_id.is_empty()
        {
            let args = match self.approved_args(workspace, id).await {
                Ok(args) => args,
                Err(e) => {
                    self.refuse_unreadable(
                        workspace,
                        id,
                        &recorded.action,
                        &recorded.correlation,
                        &e,
                    )
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
                recorded.status
            },
            approvals: recorded.approvals,
            quorum: recorded.quorum,
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
        let row = store::for_execution(&mut *pool.acquire().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("approval request", id))?;
        let action = row.action;
        let approved_hash = row.args_hash;
        let correlation = Correlation {
            run_id: row.run_id.unwrap_or_default(),
            step_id: row.step_id.unwrap_or_default(),
            approval_id: id.to_string(),
        };
        let tier = row.tier;
        let actor = match row.requester_kind {
            crate::audit::ActorKind::Agent => Actor::agent(&row.requester_id),
            _ => Actor::user(&row.requester_id),
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
        let claimed =
            store::move_to(&mut tx, id, ApprovalStatus::Executing, Stamp::None, 0).await?;
        if claimed {
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
                Attribution {
                    actor: &actor,
                    source: &source,
                    correlation: &correlation,
                },
                &mut FinishApproval {
                    instance: self,
                    workspace,
                    id,
                },
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
        store::move_from(
            &mut tx,
            id,
            &[ApprovalStatus::Approved],
            ApprovalStatus::Failed,
            Stamp::Executed,
            self.now(),
        )
        .await?;
        tx.commit().await
    }

    /// The final status of an executed request and its result, sealed for the `result` column.
    pub(crate) async fn seal_approval_result(
        &self,
        workspace: WorkspaceId,
        id: &str,
        result: &Result<Value>,
    ) -> Result<(ApprovalStatus, Vec<u8>)> {
        let (status, stored) = match result {
            Ok(output) => (
                ApprovalStatus::Executed,
                serde_json::json!({ "ok": output }),
            ),
            Err(e) => (
                ApprovalStatus::Failed,
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
        let sealed = store::sealed_request(&mut *pool.acquire().await?, id).await?;
        Ok(self.open_request(workspace, id, &sealed).await?.args)
    }
}

/// Stores an approved request's final status and sealed result with the event of its
/// execution.
pub(crate) struct FinishApproval<'a> {
    instance: &'a Instance,
    workspace: WorkspaceId,
    id: &'a str,
}

impl SameTransaction for FinishApproval<'_> {
    async fn within<'c>(
        &'c mut self,
        conn: &'c mut SqliteConnection,
        result: &'c Result<Value>,
    ) -> Result<()> {
        // Sealing may write the instance database, never this workspace's: no deadlock.
        let (status, sealed) = self
            .instance
            .seal_approval_result(self.workspace, self.id, result)
            .await?;
        store::finish(conn, self.id, status, &sealed, self.instance.now()).await?;
        Ok(())
    }
}
