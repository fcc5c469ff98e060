//! Filing an approval request for a call the policy did not allow outright: what reviewers
//! will see (affected resources, reasons) is described first, the arguments are sealed, and
//! the request commits with its `tool.proposed` and `approval.requested` events.

use headmaster_policy::Verdict;

use crate::access::Scope;
use crate::approvals::quorum;
use crate::approvals::request::RequestBody;
use crate::approvals::store::{self, NewRequest};
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::tools::call::{CallOutcome, CallRequest, Prepared, Proposer};
use crate::vault::seal::Aad;

use super::propose::verdict_tier;

/// A call the gate sends for a decision: for whom, from where, what was proposed and prepared,
/// the verdict that made it wait, and its attribution (the `tool.proposed` event commits with
/// the request).
pub(crate) struct Filing<'a> {
    pub on_behalf_of: crate::ids::UserId,
    pub source: &'a crate::audit::Source,
    pub request: &'a CallRequest,
    pub prepared: &'a Prepared,
    pub verdict: &'a Verdict,
    pub actor: Actor,
    pub correlation: Correlation,
    pub proposed: NewEvent,
}

impl Instance {
    /// Files an approval request for a call the policy did not allow outright.
    pub(crate) async fn request_approval(
        &self,
        workspace: WorkspaceId,
        filing: Filing<'_>,
    ) -> Result<CallOutcome> {
        let Filing {
            on_behalf_of,
            source,
            request,
            prepared,
            verdict,
            actor,
            correlation,
            proposed,
        } = filing;
        let quorum = quorum(verdict.decision);
        let tier = verdict_tier(verdict);
        let minutes = self.expiry_config(workspace).await?.minutes(tier);
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
        store::insert(
            &mut tx,
            &NewRequest {
                id: &id,
                tier,
                quorum,
                requester_kind: actor.kind,
                requester_id: &actor.id,
                on_behalf_of: &on_behalf_of.to_string(),
                run_id: run_id.as_deref(),
                step_id: step_id.as_deref(),
                action: &prepared.action,
                args_hash: &prepared.hash,
                sealed_request: &sealed,
                created_at: now,
                expires_at,
            },
        )
        .await?;
        tx.commit().await?;
        self.announce(CoreEvent::ApprovalRequested {
            workspace,
            approval_id: id.clone(),
            tier,
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
}
