//! Calls as the tools see them: the request and its outcome, preparing a call (catalog lookup,
//! schema check, canonical hash), describing what it would affect, and executing it with its
//! audit events. Deciding whether a call may run is the gate's (`crate::gate`); nothing here
//! knows of approvals or runs.

use headmaster_policy::Tier;
use serde::Serialize;
use serde_json::Value;
use sqlx::SqliteConnection;

use super::builtin::{self, BuiltinCall};
use super::canonical::call_hash;
use super::catalog::{crosses_boundary, executor, Executor};
use super::config::ToolConfig;
use crate::access::Scope;
use crate::audit::{Actor, Correlation, NewEvent, Outcome, Source};
use crate::error::{Error, Result};
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::store::body;

/// Who proposes a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposer {
    /// The signed-in person.
    User,
    /// An agent, in a run started by the signed-in person.
    Agent {
        /// Agent id.
        agent_id: String,
        /// Run id.
        run_id: String,
        /// Step id.
        step_id: String,
    },
}

/// A proposed call.
#[derive(Debug, Clone)]
pub struct CallRequest {
    /// `tool.action`.
    pub action: String,
    /// Arguments (JSON object).
    pub args: Value,
    /// Why (the agent's reasoning, or the person's note), shown to reviewers.
    pub reasoning: Option<String>,
    /// Who proposes it.
    pub proposer: Proposer,
}

/// What happened to a proposed call.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CallOutcome {
    /// It ran.
    Executed {
        /// Action.
        action: String,
        /// Effective tier.
        tier: Option<Tier>,
        /// Why it was allowed.
        reasons: Vec<String>,
        /// A standing grant that allowed it.
        grant: Option<String>,
        /// The tool's output (credential values scrubbed).
        #[ts(type = "unknown")]
        output: Value,
    },
    /// It waits for a person.
    Pending {
        /// Approval request id.
        approval_id: String,
        /// Tier.
        tier: Tier,
        /// Approvals needed.
        quorum: u8,
        /// When the request expires (RFC 3339).
        expires_at: String,
        /// Why it needs a decision.
        reasons: Vec<String>,
    },
    /// The policy refused it.
    Denied {
        /// Why.
        reasons: Vec<String>,
    },
}

/// A parsed call of any action.
#[derive(Debug, Clone)]
pub(crate) enum ParsedCall {
    External(headmaster_tools::ToolCall),
    Builtin(BuiltinCall),
}

/// Everything about a call that the pipeline and the approval path share.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub action: String,
    pub args: Value,
    pub parsed: ParsedCall,
    pub crosses_boundary: bool,
    pub hash: String,
}

/// Work that must commit in the same transaction as a database-only tool action: the agent
/// runtime records the step's result and checkpoint there, so the action and the run's record
/// of it happen together or not at all.
pub(crate) trait SameTransaction: Send {
    /// Called inside the transaction after the action ran (or failed), before the commit.
    fn within<'c>(
        &'c mut self,
        conn: &'c mut SqliteConnection,
        result: &'c Result<Value>,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'c;
}

/// No follow-up work.
pub(crate) struct NoFollowUp;

impl SameTransaction for NoFollowUp {
    async fn within<'c>(
        &'c mut self,
        _conn: &'c mut SqliteConnection,
        _result: &'c Result<Value>,
    ) -> Result<()> {
        Ok(())
    }
}

impl Instance {
    /// Finds the action and validates the arguments.
    pub(crate) fn prepare_call(&self, action: &str, args: &Value) -> Result<Prepared> {
        let executor = executor(action).ok_or_else(|| Error::NotFound {
            kind: "tool action",
            name: action.to_string(),
            hint: "; `headmaster tool list` shows the catalog".into(),
        })?;
        if !args.is_object() {
            return Err(Error::InvalidInput(format!(
                "arguments of {action} must be a JSON object"
            )));
        }
        let parsed = match executor {
            Executor::External(_) => ParsedCall::External(
                headmaster_tools::ToolCall::parse(action, args)
                    .map_err(|e| Error::InvalidInput(format!("{action}: {e}")))?,
            ),
            other => ParsedCall::Builtin(builtin::parse(other, args)?),
        };
        Ok(Prepared {
            action: action.to_string(),
            args: args.clone(),
            parsed,
            crosses_boundary: crosses_boundary(executor),
            hash: call_hash(action, args),
        })
    }

    /// What a reviewer must see before approving.
    pub(crate) async fn affected(
        &self,
        workspace: WorkspaceId,
        prepared: &Prepared,
    ) -> Result<Value> {
        let config = self.tool_config(workspace).await?;
        match &prepared.parsed {
            ParsedCall::External(call) => {
                let ctx = self.tool_context(workspace, &config)?;
                let affected = ctx
                    .affected(call)
                    .await
                    .map_err(|e| Error::InvalidInput(format!("{}: {e}", prepared.action)))?;
                Ok(body::to_value(
                    "affected preview of",
                    &prepared.action,
                    affected,
                )?)
            }
            ParsedCall::Builtin(call) => Ok(self.builtin_affected(workspace, call, &config)),
        }
    }

    /// Executes an allowed call and audits the result; `follow_up` commits in the same
    /// transaction as that event (the gate stores an approved request's final status and
    /// sealed result there).
    pub(crate) async fn execute_prepared<F: SameTransaction>(
        &self,
        workspace: WorkspaceId,
        prepared: &Prepared,
        by: Attribution<'_>,
        follow_up: &mut F,
    ) -> Result<Value> {
        let Attribution {
            actor,
            source,
            correlation,
        } = by;
        if let ParsedCall::Builtin(call) = &prepared.parsed {
            if call.is_database_only() {
                // The action, its event and (for an approved request) the request's result
                // commit together.
                let done = self
                    .run_builtin_atomically(
                        workspace,
                        prepared,
                        call,
                        by,
                        Recording::default(),
                        follow_up,
                    )
                    .await?;
                return done.unwrap_or_else(|| {
                    Err(Error::Conflict(
                        "the action was not carried out; try again".into(),
                    ))
                });
            }
        }
        let result = self
            .run_prepared(workspace, prepared, actor, source, correlation)
            .await;
        let event = match &result {
            Ok(output) => NewEvent::new(actor.clone(), "tool.executed", Outcome::Allowed, source)
                .target(&prepared.action)
                .correlation(correlation.clone())
                .payload(serde_json::json!({
                    "action": prepared.action,
                    "args_sha256": prepared.hash,
                    "output": summarize(output),
                })),
            Err(e) => NewEvent::new(actor.clone(), "tool.failed", Outcome::Failed, source)
                .target(&prepared.action)
                .correlation(correlation.clone())
                .payload(serde_json::json!({ "action": prepared.action, "args_sha256": prepared.hash, "error": e.to_string() })),
        };
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        follow_up.within(&mut tx, &result).await?;
        tx.commit().await?;
        result
    }

    async fn run_prepared(
        &self,
        workspace: WorkspaceId,
        prepared: &Prepared,
        actor: &Actor,
        source: &Source,
        correlation: &Correlation,
    ) -> Result<Value> {
        let config = self.tool_config(workspace).await?;
        match &prepared.parsed {
            ParsedCall::External(call) => {
                let ctx = self.tool_context(workspace, &config)?;
                let mut names = call.credential_references();
                if matches!(call, headmaster_tools::ToolCall::EmailSend(_)) {
                    if let Some(email) = &config.email {
                        names.extend(email.credential_references());
                    }
                }
                names.sort();
                names.dedup();
                let credentials = self
                    .credentials_for(
                        workspace,
                        &names,
                        actor,
                        source,
                        correlation,
                        &prepared.action,
                    )
                    .await?;
                let output =
                    ctx.execute(call, &credentials)
                        .await
                        .map_err(|e| Error::ToolFailed {
                            action: prepared.action.clone(),
                            code: e.code().to_string(),
                            message: e.to_string(),
                        })?;
                Ok(body::to_value("output of", &prepared.action, output)?)
            }
            ParsedCall::Builtin(BuiltinCall::Shell(args)) => {
                self.run_shell(workspace, args, &config).await
            }
            // `execute_prepared` runs those inside the transaction that records them.
            ParsedCall::Builtin(_) => Err(Error::Conflict(format!(
                "{} is a database-only action and runs only with its audit events",
                prepared.action
            ))),
        }
    }

    /// Runs a database-only core action with its `tool.proposed` and `tool.executed` (or
    /// `tool.failed`) events in one transaction.
    pub(crate) async fn run_builtin_atomically<F: SameTransaction>(
        &self,
        workspace: WorkspaceId,
        prepared: &Prepared,
        call: &BuiltinCall,
        by: Attribution<'_>,
        recording: Recording,
        follow_up: &mut F,
    ) -> Result<Option<Result<Value>>> {
        let Attribution {
            actor,
            source,
            correlation,
        } = by;
        let Recording {
            proposed,
            policy_time,
        } = recording;
        let author = format!("{}:{}", actor.kind.as_str(), actor.id);
        let run_id = (!correlation.run_id.is_empty()).then_some(correlation.run_id.as_str());
        // Everything that may touch the key store happens before the write transaction.
        let effect = self
            .prepare_builtin(workspace, call, &author, run_id)
            .await?;
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), proposed.into_iter().collect())
            .await?;
        // A database error is not the tool's failure: it fails the whole change (SQLite may
        // have rolled the transaction back already), so nothing is recorded as done.
        let result = match self.apply_builtin(&mut tx, effect).await {
            Err(Error::Store(e)) => return Err(Error::Store(e)),
            other => other,
        };
        let event = match &result {
            Ok(output) => NewEvent::new(actor.clone(), "tool.executed", Outcome::Allowed, source)
                .target(&prepared.action)
                .correlation(correlation.clone())
                .payload(serde_json::json!({
                    "action": prepared.action,
                    "args_sha256": prepared.hash,
                    "output": summarize(output),
                })),
            Err(e) => NewEvent::new(actor.clone(), "tool.failed", Outcome::Failed, source)
                .target(&prepared.action)
                .correlation(correlation.clone())
                .payload(serde_json::json!({
                    "action": prepared.action,
                    "args_sha256": prepared.hash,
                    "error": e.to_string(),
                })),
        };
        // Preparing touches only the instance database, never this workspace's: no deadlock.
        // Both events go in with one statement after the action at the commit; the write lock
        // taken by BEGIN IMMEDIATE keeps the tip and their order true.
        tx.record(event).await?;
        if let Some(decided_under) = policy_time {
            if tx.policy_time().await? != decided_under {
                // Decided under a policy that has since changed: undo and let the caller decide
                // again (dropping the transaction rolls the action back).
                return Ok(None);
            }
        }
        follow_up.within(&mut tx, &result).await?;
        tx.commit().await?;
        Ok(Some(result))
    }

    fn tool_context(
        &self,
        workspace: WorkspaceId,
        config: &ToolConfig,
    ) -> Result<headmaster_tools::ToolContext> {
        let files_dir = self.layout.workspace_files(workspace);
        Ok(headmaster_tools::ToolContext {
            files: headmaster_tools::files::FileScope::new(files_dir, config.file.clone()),
            http: headmaster_tools::http::HttpContext::new(config.http.clone()).map_err(|e| {
                Error::Conflict(format!(
                    "the workspace's http configuration is invalid: {e}"
                ))
            })?,
            email: config.email.clone(),
        })
    }
}

/// Who a call is recorded as: the audit actor, where the request came from, what it belongs to.
#[derive(Clone, Copy)]
pub(crate) struct Attribution<'a> {
    pub actor: &'a Actor,
    pub source: &'a Source,
    pub correlation: &'a Correlation,
}

/// What a database-only action records besides its result: the `tool.proposed` event when the
/// call has not been recorded yet, and the policy's change time it was decided under (the
/// action is undone, for the caller to decide again, when the policy changed meanwhile).
#[derive(Default)]
pub(crate) struct Recording {
    pub proposed: Option<NewEvent>,
    pub policy_time: Option<i64>,
}

/// The audit actor and correlation of a proposer.
pub(crate) fn actor_of(user: UserId, proposer: &Proposer) -> (Actor, Correlation) {
    match proposer {
        Proposer::User => (Actor::user(user), Correlation::default()),
        Proposer::Agent {
            agent_id,
            run_id,
            step_id,
        } => (
            Actor::agent(agent_id),
            Correlation {
                run_id: run_id.clone(),
                step_id: step_id.clone(),
                approval_id: String::new(),
            },
        ),
    }
}

pub(crate) fn split(action: &str) -> (&str, &str) {
    action.split_once('.').unwrap_or((action, ""))
}

/// Keeps audit payloads bounded: long strings in the output are cut.
fn summarize(output: &Value) -> Value {
    match output {
        Value::String(s) if s.len() > 2048 => Value::String(format!(
            "{}… ({} bytes)",
            &s[..s.floor_char_boundary(2048)],
            s.len()
        )),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), summarize(v))).collect())
        }
        Value::Array(items) if items.len() > 100 => {
            Value::String(format!("[{} items]", items.len()))
        }
        Value::Array(items) => Value::Array(items.iter().map(summarize).collect()),
        other => other.clone(),
    }
}
