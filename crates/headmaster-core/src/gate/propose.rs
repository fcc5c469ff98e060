//! The one path from a proposed tool call to its execution.
//!
//! `propose_call` passes the access gate (`tool.call`), prepares the call (catalog, schema,
//! hash), asks the policy (with standing grants) for a verdict, and then either refuses,
//! executes (low tier, or a matching grant), or files an approval request whose hash binds the
//! exact action and arguments. Every step is audited: proposed, denied or requested, executed
//! or failed. There is no other way to run a tool.

use headmaster_policy::{Decision, Principal, ProposedCall, Tier, Verdict};

use super::filing::Filing;
use crate::access::{Capability, CapabilitySet, Scope};
use crate::audit::{NewEvent, Outcome, Source};
use crate::error::Result;
use crate::identity::Session;
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::tools::call::{
    actor_of, split, Attribution, CallOutcome, CallRequest, NoFollowUp, ParsedCall, Proposer,
    Recording, SameTransaction,
};

impl Instance {
    /// Proposes a tool call as the signed-in person (or their agent).
    pub async fn propose_call(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        request: CallRequest,
    ) -> Result<CallOutcome> {
        let auth = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                Capability::ToolCall,
                "tool.call",
            )
            .await?;
        self.propose_authorized(workspace, &auth, &session.source, request)
            .await
    }

    /// The pipeline after the gate (agent runs pass the gate with `authorize_user`).
    pub(crate) async fn propose_authorized(
        &self,
        workspace: WorkspaceId,
        auth: &crate::access::Authorized,
        session_source: &Source,
        request: CallRequest,
    ) -> Result<CallOutcome> {
        self.propose_with(workspace, auth, session_source, request, &mut NoFollowUp)
            .await
    }

    /// The pipeline, with `follow_up` committed in the same transaction as a database-only
    /// action when one runs (the agent runtime's checkpoint of the step).
    pub(crate) async fn propose_with<F: SameTransaction>(
        &self,
        workspace: WorkspaceId,
        auth: &crate::access::Authorized,
        session_source: &Source,
        request: CallRequest,
        follow_up: &mut F,
    ) -> Result<CallOutcome> {
        let (actor, correlation) = actor_of(auth.user_id, &request.proposer);
        let prepared = match self.prepare_call(&request.action, &request.args) {
            Ok(p) => p,
            Err(e) => {
                self.record(
                    Scope::Workspace(workspace),
                    NewEvent::new(actor, "tool.rejected", Outcome::Denied, session_source)
                        .target(&request.action)
                        .correlation(correlation)
                        .payload(
                            serde_json::json!({ "action": request.action, "error": e.to_string() }),
                        ),
                )
                .await?;
                return Err(e);
            }
        };
        let principal = principal_of(
            auth.user_id,
            &request.proposer,
            &auth.capabilities,
            &auth.role,
        );
        // The decision may first be taken under the cached policy without reading its change
        // time: a workspace-internal action then checks that time inside its own write
        // transaction (one statement it runs anyway), and every other path checks it here
        // before acting. A changed policy means deciding again under the new one.
        let mut cached = self.cached_policy(workspace);
        let (verdict, proposed) = loop {
            let (compiled, unchecked) = match cached.take() {
                Some((time, compiled)) => (compiled, Some(time)),
                None => (self.compiled_policy(workspace).await?, None),
            };
            let (tool, action) = split(&prepared.action);
            let call = ProposedCall {
                tool,
                action,
                args: &prepared.args,
                principal: &principal,
                crosses_boundary: prepared.crosses_boundary,
            };
            // Standing grants only ever turn a wait for a person into an allow, so they are read
            // only for calls that would wait.
            let mut verdict = compiled.decide(&call);
            if matches!(
                verdict.decision,
                Decision::NeedsConfirmation | Decision::NeedsApproval { .. }
            ) {
                let grants = self
                    .active_grants(workspace, &prepared.action, auth.user_id)
                    .await?;
                verdict = compiled.decide_with_grants(&call, &grants, self.now());
            }
            let proposed = NewEvent::new(
                actor.clone(),
                "tool.proposed",
                Outcome::Pending,
                session_source,
            )
            .target(&prepared.action)
            .correlation(correlation.clone())
            .payload(serde_json::json!({
                "action": prepared.action,
                "args": prepared.args,
                "args_sha256": prepared.hash,
                "reasoning": request.reasoning,
                "verdict": verdict,
            }));
            // An allowed call of a workspace-internal action (memory, drafts) is recorded, run
            // and recorded again in one transaction: all of it happens, or none of it.
            if verdict.decision == Decision::Allow && verdict.grant.is_none() {
                if let ParsedCall::Builtin(builtin) = &prepared.parsed {
                    if builtin.is_database_only() {
                        let done = self
                            .run_builtin_atomically(
                                workspace,
                                &prepared,
                                builtin,
                                Attribution {
                                    actor: &actor,
                                    source: session_source,
                                    correlation: &correlation,
                                },
                                Recording {
                                    proposed: Some(proposed),
                                    policy_time: unchecked,
                                },
                                follow_up,
                            )
                            .await?;
                        let Some(output) = done else {
                            // The policy changed since it was cached: decide again.
                            continue;
                        };
                        return Ok(CallOutcome::Executed {
                            action: prepared.action,
                            tier: verdict.tier,
                            reasons: verdict.reasons,
                            grant: None,
                            output: output?,
                        });
                    }
                }
            }
            if unchecked.is_some() {
                // Not checked yet and about to act on it: decide under the current policy.
                continue;
            }
            break (verdict, proposed);
        };
        match verdict.decision {
            Decision::Deny => {
                let denied = NewEvent::new(actor, "tool.denied", Outcome::Denied, session_source)
                    .target(&prepared.action)
                    .correlation(correlation)
                    .payload(serde_json::json!({ "action": prepared.action, "reasons": verdict.reasons }));
                self.begin_change(Scope::Workspace(workspace), vec![proposed, denied])
                    .await?
                    .commit()
                    .await?;
                Ok(CallOutcome::Denied {
                    reasons: verdict.reasons,
                })
            }
            Decision::Allow => {
                // The proposal (and the grant it uses) is on record before anything runs: if it
                // cannot be written, nothing runs.
                let mut events = vec![proposed];
                if let Some(grant) = &verdict.grant {
                    events.push(
                        NewEvent::new(actor.clone(), "grant.used", Outcome::Allowed, session_source)
                            .target(grant)
                            .correlation(correlation.clone())
                            .payload(serde_json::json!({ "grant_id": grant, "action": prepared.action, "args_sha256": prepared.hash })),
                    );
                }
                self.begin_change(Scope::Workspace(workspace), events)
                    .await?
                    .commit()
                    .await?;
                let output = self
                    .execute_prepared(
                        workspace,
                        &prepared,
                        Attribution {
                            actor: &actor,
                            source: session_source,
                            correlation: &correlation,
                        },
                        &mut NoFollowUp,
                    )
                    .await?;
                Ok(CallOutcome::Executed {
                    action: prepared.action,
                    tier: verdict.tier,
                    reasons: verdict.reasons,
                    grant: verdict.grant,
                    output,
                })
            }
            Decision::NeedsConfirmation | Decision::NeedsApproval { .. } => {
                self.request_approval(
                    workspace,
                    Filing {
                        on_behalf_of: auth.user_id,
                        source: session_source,
                        request: &request,
                        prepared: &prepared,
                        verdict: &verdict,
                        actor,
                        correlation,
                        proposed,
                    },
                )
                .await
            }
        }
    }
}

/// The policy principal: the person, or their agent with the person's role.
fn principal_of(
    user: UserId,
    proposer: &Proposer,
    caps: &CapabilitySet,
    role_name: &str,
) -> Principal {
    let role = crate::access::policy_role(caps);
    let principal = match proposer {
        Proposer::User => Principal::user(user.to_string(), role),
        Proposer::Agent { agent_id, .. } => Principal::agent(agent_id.clone(), role),
    };
    principal.with_role_name(role_name.to_string())
}

/// The verdict's tier, for requests (a verdict without one waits as high).
pub(crate) fn verdict_tier(verdict: &Verdict) -> Tier {
    verdict.tier.unwrap_or(Tier::High)
}
