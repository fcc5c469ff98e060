//! Deciding a request and executing an approved call exactly once.

use serde::Serialize;
use ts_rs::TS;

use super::rules::{self, Facts, Refusal};
use super::store::{self, DecideRow, NewDecision, Stamp};
use crate::access::{Capability, Scope};
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::states::{ApprovalDecision, ApprovalStatus};
use crate::tools::call::CallOutcome;
use crate::vault::seal::Aad;

/// What a decision led to.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecisionResult {
    /// The request's status now.
    pub status: ApprovalStatus,
    /// Approvals so far.
    pub approvals: u8,
    /// Approvals needed.
    pub quorum: u8,
    /// The execution, when this decision completed the quorum of a person's own call.
    pub executed: Option<CallOutcome>,
}

/// A decision as recorded, before anything it lets run.
#[derive(Debug)]
pub(crate) struct Recorded {
    /// The request's status after the decision.
    pub status: ApprovalStatus,
    /// Approvals so far.
    pub approvals: u8,
    /// Approvals needed.
    pub quorum: u8,
    /// `tool.action`.
    pub action: String,
    /// The run and step it belongs to (empty for a person's own call).
    pub correlation: Correlation,
}

impl Instance {
    /// Records a decision on a request (the gate's `decide_approval` runs what it approves).
    /// Refusals (self-decision, insufficient role, a second vote, an expired or decided
    /// request) change nothing and are audited.
    pub(crate) async fn record_decision(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
        decision: ApprovalDecision,
        comment: Option<&str>,
    ) -> Result<Recorded> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "approval.decide",
        )
        .await?;
        self.expire_due(workspace).await?;
        let pool = self.workspace_pool(workspace).await?;
        let row = store::for_decision(
            &mut *pool.acquire().await?,
            id,
            &session.user_id.to_string(),
        )
        .await?
        .ok_or_else(|| Error::not_found("approval request", id))?;
        let quorum = row.quorum.clamp(0, 255) as u8;
        let action = row.action.clone();
        let correlation = Correlation {
            run_id: row.run_id.clone().unwrap_or_default(),
            step_id: row.step_id.clone().unwrap_or_default(),
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
        let me = session.user_id.to_string();
        let caps = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                rules::deciding_capability(row.tier),
                rules::decision_action(row.tier),
            )
            .await?
            .capabilities;
        // The time check is the expiry pass above: a request past its time reads as expired.
        match rules::may_decide(&row.facts(), &me, &caps, i64::MIN) {
            Ok(()) => {}
            Err(Refusal::OwnRequest) => {
                let err = refuse(Refusal::OwnRequest.to_string()).await?;
                return Err(Error::NotAllowed(err.to_string()));
            }
            // The vote is checked again, authoritatively, inside the transaction below.
            Err(Refusal::AlreadyVoted) => {}
            Err(refusal) => return Err(refuse(refusal.to_string()).await?),
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
        // Checked again inside the write transaction: a decision that raced this one, or this
        // person's own earlier vote, wins.
        let current = store::for_decision(&mut tx, id, &me)
            .await?
            .ok_or_else(|| Error::not_found("approval request", id))?;
        if let Err(refusal) = rules::may_decide(&current.facts(), &me, &caps, i64::MIN) {
            drop(tx);
            return Err(refuse(refusal.to_string()).await?);
        }
        let approvals = store::add_decision(
            &mut tx,
            &NewDecision {
                id: &decision_id,
                approval_id: id,
                decider_id: &me,
                decision,
                sealed_comment: sealed_comment.as_deref(),
                decided_at: now,
            },
        )
        .await?;
        let new_status = match decision {
            ApprovalDecision::Reject => ApprovalStatus::Rejected,
            ApprovalDecision::Approve if approvals >= quorum => ApprovalStatus::Approved,
            ApprovalDecision::Approve => ApprovalStatus::Pending,
        };
        if new_status != ApprovalStatus::Pending
            && !store::move_to(&mut tx, id, new_status, Stamp::Decided, now).await?
        {
            return Err(Error::Conflict(format!(
                "approval {id} could not become {new_status}; nothing was changed"
            )));
        }
        tx.commit().await?;
        if new_status != ApprovalStatus::Pending {
            self.announce(CoreEvent::ApprovalDecided {
                workspace,
                approval_id: id.to_string(),
                status: new_status,
            });
        }
        Ok(Recorded {
            status: new_status,
            approvals,
            quorum,
            action,
            correlation,
        })
    }
}

impl Instance {
    /// A request's current status.
    pub(crate) async fn approval_status(
        &self,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<ApprovalStatus> {
        let pool = self.workspace_pool(workspace).await?;
        store::status(&mut *pool.acquire().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("approval request", id))
    }
}

impl DecideRow {
    fn facts(&self) -> Facts<'_> {
        Facts {
            status: self.status,
            tier: self.tier,
            on_behalf_of: &self.on_behalf_of,
            expires_at: self.expires_at,
            voted: self.voted,
        }
    }
}
