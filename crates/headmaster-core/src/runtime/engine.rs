//! Driving runs: one step at a time, checkpointed, under a lease with a heartbeat.
//!
//! Only the process holding a run's lease advances it; the lease is renewed by the heartbeat
//! while the run is driven and lapses if the process dies, so another process (the desktop
//! app after a crash, `headmaster run resume`) can take over. Before a proposed call is sent
//! through the gate, the step is recorded; a call that needs a decision parks the run with the
//! approval id in its checkpoint. On resume, the approval's status decides what happens: a
//! pending request keeps waiting; an approved one is executed through `execute_approved`
//! (hash-checked, compare-and-swap to run once); an already executed one is not run again —
//! its stored result is read back. That is the idempotency key that keeps a boundary-crossing
//! action from running twice across crashes.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::chat::{self, ChatEndpoint, ChatState};
use super::playbook::{Next, PlaybookState, StepStatus};
use super::record::NewRun;
use super::{AgentDefinition, ProviderConfig};
use crate::access::{Capability, Scope};
use crate::audit::{Actor, Correlation, NewEvent, Outcome, Source};
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::states::{RunStatus, StepKind};
use crate::tools::call::{CallOutcome, CallRequest, Proposer, SameTransaction};

/// How long a lease lasts without renewal (ms).
pub(crate) const LEASE_MS: i64 = 15_000;
/// Heartbeat period.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// A run's checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct RunState {
    pub tools: Vec<String>,
    pub max_steps: u32,
    pub deadline_ms: i64,
    pub playbook: Option<PlaybookState>,
    pub chat: Option<ChatState>,
    pub pending: Option<PendingCall>,
    pub child: Option<ChildWait>,
}

/// A call waiting for a decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingCall {
    pub step: String,
    pub action: String,
    pub args: Value,
    pub approval_id: String,
}

/// A delegated sub-run being waited for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChildWait {
    pub step: String,
    pub run_id: String,
}

/// A loaded run.
pub(crate) struct Loaded {
    pub agent_id: String,
    pub status: RunStatus,
    pub started_by: UserId,
    pub task: String,
    pub state: RunState,
    pub steps: i64,
    /// Timeline steps not yet written (the next checkpoint writes them).
    pub queued_steps: Vec<(StepKind, Value)>,
    /// The lease owner driving this run, when it is being driven.
    pub owner: Option<String>,
}

impl Instance {
    /// Advances a run until it finishes or has to wait; returns its status. Returns at once if
    /// another process holds the run's lease.
    pub(crate) async fn drive_run(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        run_id: &str,
    ) -> Result<RunStatus> {
        let owner = format!("{}:{}", std::process::id(), uuid::Uuid::now_v7());
        if !self.claim_lease(workspace, run_id, &owner).await? {
            return self.run_status(workspace, run_id).await;
        }
        let beat = {
            let instance = Arc::clone(self);
            let run = run_id.to_string();
            let owner = owner.clone();
            tokio::spawn(async move {
                let mut ticker =
                    tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
                loop {
                    ticker.tick().await;
                    match instance.beat(workspace, &run, &owner).await {
                        Ok(()) => {}
                        // Another process took the run: stop renewing.
                        Err(Error::Conflict(_)) => break,
                        // A busy or briefly failing database is not a lost lease: the next
                        // beat tries again (giving up here would let the lease lapse while
                        // the step still runs).
                        Err(e) => tracing::warn!(run = %run, error = %e, "a run heartbeat failed"),
                    }
                }
            })
        };
        let result = self.drive_steps(workspace, run_id, &owner).await;
        beat.abort();
        let pool = self.workspace_pool(workspace).await?;
        sqlx::query("UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?")
            .bind(run_id)
            .bind(&owner)
            .execute(&pool)
            .await?;
        result
    }

    async fn drive_steps(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        run_id: &str,
        owner: &str,
    ) -> Result<RunStatus> {
        // Every checkpoint proves the lease (see `checkpoint`); the heartbeat task renews it.
        // An explicit beat between steps is only needed when steps are rare.
        let mut last_beat = self.now();
        let mut definition: Option<Result<AgentDefinition>> = None;
        // After an internal step the run in memory is exactly its checkpoint (the checkpoint
        // proved the lease and that the run was not cancelled), so it is not read back.
        let mut current: Option<Loaded> = None;
        loop {
            let mut run = match current.take() {
                Some(run) => run,
                None => self.load_run(workspace, run_id).await?,
            };
            run.owner = Some(owner.to_string());
            if run.status.is_final() {
                return Ok(run.status);
            }
            if self.now() - last_beat >= 1_000 {
                self.beat(workspace, run_id, owner).await?;
                last_beat = self.now();
            }
            if self.now() > run.state.deadline_ms {
                return self
                    .finish_run(
                        workspace,
                        run_id,
                        &mut run,
                        RunStatus::Expired,
                        "the run exceeded its wall-time limit",
                    )
                    .await;
            }
            // The definition a run started with stays its definition while it is driven.
            if definition.is_none() {
                definition = Some(self.agent_definition(workspace, &run.agent_id).await);
            }
            let definition = match definition.as_ref().expect("loaded above") {
                Ok(d) => d.clone(),
                Err(e) => {
                    return self
                        .finish_run(
                            workspace,
                            run_id,
                            &mut run,
                            RunStatus::Failed,
                            &format!("agent unavailable: {e}"),
                        )
                        .await
                }
            };
            match run.status {
                RunStatus::Queued => {
                    self.set_status(workspace, run_id, RunStatus::Running, None)
                        .await?;
                }
                RunStatus::WaitingApproval | RunStatus::WaitingConfirmation => {
                    if !self
                        .resolve_pending(workspace, run_id, &mut run, &definition)
                        .await?
                    {
                        return Ok(run.status);
                    }
                }
                RunStatus::WaitingChild => {
                    if !self
                        .resolve_child(workspace, run_id, &mut run, &definition)
                        .await?
                    {
                        return Ok(run.status);
                    }
                }
                _ => {
                    if run.steps >= i64::from(run.state.max_steps) {
                        let reason =
                            format!("the run reached its step limit ({})", run.state.max_steps);
                        return self
                            .finish_run(workspace, run_id, &mut run, RunStatus::Failed, &reason)
                            .await;
                    }
                    let next = self.next_step(workspace, &mut run, &definition).await;
                    current = self
                        .take_step(workspace, run_id, run, &definition, next)
                        .await?;
                }
            }
        }
    }

    async fn next_step(
        &self,
        workspace: WorkspaceId,
        run: &mut Loaded,
        definition: &AgentDefinition,
    ) -> Next {
        match &definition.provider {
            ProviderConfig::Playbook { playbook } => {
                let state = run
                    .state
                    .playbook
                    .get_or_insert_with(PlaybookState::default);
                playbook.next(state, &run.task)
            }
            ProviderConfig::OpenAi {
                base_url,
                model,
                api_key_credential,
                timeout_seconds,
            } => {
                if run.state.chat.is_none() {
                    // Memory that cannot be read fails the run: carrying on without it would
                    // hide the damage and give the model a context nobody chose.
                    let memory = match self
                        .relevant_memory(workspace, &definition.memory_scope, &run.task, 4096)
                        .await
                    {
                        Ok(memory) => memory,
                        Err(e) => return Next::Fail(format!("workspace memory: {e}")),
                    };
                    run.state.chat =
                        Some(ChatState::new(&definition.instructions, &run.task, &memory));
                }
                let api_key = match api_key_credential {
                    Some(name) => match self
                        .credentials_for(
                            workspace,
                            std::slice::from_ref(name),
                            &Actor::agent(&run.agent_id),
                            &runtime_source(),
                            &Correlation::default(),
                            "model.request",
                        )
                        .await
                    {
                        Ok(set) => {
                            use headmaster_tools::CredentialResolver;
                            match set.resolve(name) {
                                Ok(v) => Some(v.expose_secret().to_string()),
                                Err(e) => return Next::Fail(format!("model API key: {e}")),
                            }
                        }
                        Err(e) => return Next::Fail(format!("model API key: {e}")),
                    },
                    None => None,
                };
                let endpoint = ChatEndpoint {
                    base_url: base_url.clone(),
                    model: model.clone(),
                    api_key,
                    timeout: Duration::from_secs((*timeout_seconds).max(1)),
                    backoff: self.model_backoff(),
                };
                let schemas: Vec<(String, Value)> = crate::tools::catalog()
                    .into_iter()
                    .map(|e| (e.name, e.args_schema))
                    .collect();
                let state = run.state.chat.as_mut().expect("set above");
                let next = chat::next(&endpoint, state, &run.state.tools, &schemas).await;
                if state.tokens > definition.limits.max_tokens {
                    return Next::Fail(format!(
                        "the run used {} tokens, over its limit of {}",
                        state.tokens, definition.limits.max_tokens
                    ));
                }
                next
            }
        }
    }

    async fn take_step(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        run_id: &str,
        mut run: Loaded,
        definition: &AgentDefinition,
        next: Next,
    ) -> Result<Option<Loaded>> {
        match next {
            Next::Finish(summary) => {
                self.add_step(&mut run, StepKind::Finish, json!({ "summary": summary }));
                self.finish_run(workspace, run_id, &mut run, RunStatus::Completed, &summary)
                    .await?;
            }
            Next::Fail(reason) => {
                self.add_step(&mut run, StepKind::Error, json!({ "error": reason }));
                self.finish_run(workspace, run_id, &mut run, RunStatus::Failed, &reason)
                    .await?;
            }
            Next::Tool {
                step,
                action,
                args,
                reasoning,
            } => {
                self.add_step(
                    &mut run,
                    StepKind::ToolCall,
                    json!({ "step": step, "action": action, "args": args, "reasoning": reasoning }),
                );
                if !run.state.tools.contains(&action) {
                    let reason = format!(
                        "agent may not use {action}; its tools are {}",
                        run.state.tools.join(", ")
                    );
                    self.record(
                        Scope::Workspace(workspace),
                        NewEvent::new(
                            Actor::agent(&run.agent_id),
                            "tool.denied",
                            Outcome::Denied,
                            &runtime_source(),
                        )
                        .target(&action)
                        .correlation(correlation(run_id, &step))
                        .payload(json!({ "action": action, "reasons": [reason] })),
                    )
                    .await?;
                    return self
                        .observe(
                            workspace,
                            run_id,
                            run,
                            definition,
                            Observed {
                                step: &step,
                                status: StepStatus::Denied,
                                output: Value::Null,
                                reason: Some(reason),
                            },
                        )
                        .await
                        .map(|()| None);
                }
                let (started_by, agent_id) = (run.started_by, run.agent_id.clone());
                let mut record = RecordStep {
                    instance: self,
                    workspace,
                    run_id,
                    run: &mut run,
                    definition,
                    step: &step,
                    recorded: false,
                    cancelled: false,
                    stop: None,
                };
                let outcome = self
                    .propose_for_run(
                        workspace,
                        RunStep {
                            run_id,
                            started_by,
                            agent_id: &agent_id,
                            step: &step,
                        },
                        &action,
                        args.clone(),
                        reasoning,
                        &mut record,
                    )
                    .await;
                if record.cancelled {
                    // Cancelled while the step ran: its action was rolled back with it.
                    return Ok(None);
                }
                if record.recorded {
                    // The action, its audit events, the step's result and the checkpoint
                    // committed together; only a playbook's "stop" is left to finish.
                    if let Some(reason) = record.stop.take() {
                        self.finish_run(workspace, run_id, &mut run, RunStatus::Failed, &reason)
                            .await?;
                        return Ok(None);
                    }
                    self.announce_run(workspace, run_id, RunStatus::Running);
                    return Ok(Some(run));
                }
                match outcome {
                    Ok(CallOutcome::Executed { output, .. }) => {
                        self.observe(
                            workspace,
                            run_id,
                            run,
                            definition,
                            Observed {
                                step: &step,
                                status: StepStatus::Executed,
                                output,
                                reason: None,
                            },
                        )
                        .await?
                    }
                    Ok(CallOutcome::Denied { reasons }) => {
                        self.observe(
                            workspace,
                            run_id,
                            run,
                            definition,
                            Observed {
                                step: &step,
                                status: StepStatus::Denied,
                                output: Value::Null,
                                reason: Some(reasons.join("; ")),
                            },
                        )
                        .await?
                    }
                    Ok(CallOutcome::Pending {
                        approval_id,
                        tier,
                        quorum,
                        ..
                    }) => {
                        self.add_step(&mut run, StepKind::Decision, json!({ "step": step, "approval_id": approval_id, "tier": tier, "quorum": quorum, "status": crate::states::ApprovalStatus::Pending }));
                        run.state.pending = Some(PendingCall {
                            step,
                            action,
                            args,
                            approval_id: approval_id.clone(),
                        });
                        let waiting = crate::approvals::waiting_status(tier);
                        self.checkpoint(workspace, run_id, &mut run, waiting, Some(&approval_id))
                            .await?;
                    }
                    Err(e) => {
                        self.observe(
                            workspace,
                            run_id,
                            run,
                            definition,
                            Observed {
                                step: &step,
                                status: StepStatus::Failed,
                                output: Value::Null,
                                reason: Some(e.to_string()),
                            },
                        )
                        .await?
                    }
                }
            }
            Next::Delegate {
                step,
                delegate,
                task,
            } => {
                let child_agent = match self.agent_id(workspace, &delegate.agent).await {
                    Ok(id) => id,
                    Err(e) => {
                        return self
                            .observe(
                                workspace,
                                run_id,
                                run,
                                definition,
                                Observed {
                                    step: &step,
                                    status: StepStatus::Failed,
                                    output: Value::Null,
                                    reason: Some(e.to_string()),
                                },
                            )
                            .await
                            .map(|()| None)
                    }
                };
                // A sub-run gets at most what the parent holds and what its own agent lists.
                let child_tools = self.agent_definition(workspace, &child_agent).await?.tools;
                let tools: Vec<String> = delegate
                    .tools
                    .clone()
                    .unwrap_or_else(|| run.state.tools.clone())
                    .into_iter()
                    .filter(|t| run.state.tools.contains(t) && child_tools.contains(t))
                    .collect();
                let budget = delegate.max_steps.unwrap_or(10).min(run.state.max_steps);
                let child = self
                    .create_run(
                        workspace,
                        NewRun {
                            agent_id: &child_agent,
                            started_by: run.started_by,
                            task: &task,
                            parent: Some(run_id),
                            tools: Some(tools.clone()),
                            max_steps: Some(budget),
                        },
                    )
                    .await?;
                self.add_step(&mut run, StepKind::Delegation, json!({ "step": step, "agent": delegate.agent, "child_run": child, "tools": tools, "max_steps": budget }));
                run.state.child = Some(ChildWait {
                    step,
                    run_id: child.clone(),
                });
                self.checkpoint(
                    workspace,
                    run_id,
                    &mut run,
                    RunStatus::WaitingChild,
                    Some(&child),
                )
                .await?;
                Box::pin(self.drive_run(workspace, &child)).await?;
            }
        }
        Ok(None)
    }

    /// Records a step's result in the timeline and with the provider; returns the reason when
    /// the playbook says the run must stop (the error step is queued too).
    pub(crate) fn record_result(
        &self,
        run: &mut Loaded,
        definition: &AgentDefinition,
        step: &str,
        step_status: StepStatus,
        output: Value,
        reason: Option<String>,
    ) -> Option<String> {
        self.add_step(run, StepKind::Result, json!({ "step": step, "status": step_status.as_str(), "output": output, "reason": reason }));
        let stop = match &definition.provider {
            ProviderConfig::Playbook { playbook } => {
                let state = run
                    .state
                    .playbook
                    .get_or_insert_with(PlaybookState::default);
                playbook
                    .record(state, step, step_status, output, reason)
                    .err()
            }
            ProviderConfig::OpenAi { .. } => {
                if let Some(chat) = run.state.chat.as_mut() {
                    chat.record(step, step_status, &output, reason.as_deref());
                }
                None
            }
        };
        if let Some(reason) = &stop {
            self.add_step(run, StepKind::Error, json!({ "error": reason }));
        }
        stop
    }

    /// Records a step's result with the provider and checkpoints the run as running (or ends it
    /// when the playbook says stop).
    pub(crate) async fn observe(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        mut run: Loaded,
        definition: &AgentDefinition,
        observed: Observed<'_>,
    ) -> Result<()> {
        let stop = self.record_result(
            &mut run,
            definition,
            observed.step,
            observed.status,
            observed.output,
            observed.reason,
        );
        match stop {
            Some(reason) => {
                self.finish_run(workspace, run_id, &mut run, RunStatus::Failed, &reason)
                    .await?;
            }
            None => {
                self.checkpoint(workspace, run_id, &mut run, RunStatus::Running, None)
                    .await?
            }
        }
        Ok(())
    }

    /// Passes the gate as the person who started the run, then proposes as the agent. When the
    /// call runs a database-only action, `follow_up` records the step in the same transaction.
    async fn propose_for_run<F: SameTransaction>(
        &self,
        workspace: WorkspaceId,
        step: RunStep<'_>,
        action: &str,
        args: Value,
        reasoning: Option<String>,
        follow_up: &mut F,
    ) -> Result<CallOutcome> {
        let RunStep {
            run_id,
            started_by,
            agent_id,
            step,
        } = step;
        let auth = self
            .authorize_run_starter(
                started_by,
                &runtime_source(),
                workspace,
                Capability::ToolCall,
                "tool.call",
            )
            .await?;
        self.propose_with(
            workspace,
            &auth,
            &runtime_source(),
            CallRequest {
                action: action.to_string(),
                args,
                reasoning,
                proposer: Proposer::Agent {
                    agent_id: agent_id.to_string(),
                    run_id: run_id.to_string(),
                    step_id: step.to_string(),
                },
            },
            follow_up,
        )
        .await
    }

    /// The backoff between model retries (`Config::model_backoff_ms`; tests shorten it).
    fn model_backoff(&self) -> Duration {
        Duration::from_millis(self.config.model_backoff_ms)
    }
}

/// What a step produced, for `observe`.
pub(crate) struct Observed<'a> {
    /// The playbook step.
    pub step: &'a str,
    /// How it ended.
    pub status: StepStatus,
    /// The tool's output.
    pub output: Value,
    /// Why it did not execute, when it did not.
    pub reason: Option<String>,
}

/// The run step a call is proposed for: whose run, which agent, which step.
struct RunStep<'a> {
    run_id: &'a str,
    started_by: UserId,
    agent_id: &'a str,
    step: &'a str,
}

pub(crate) fn correlation(run_id: &str, step: &str) -> Correlation {
    Correlation {
        run_id: run_id.to_string(),
        step_id: step.to_string(),
        approval_id: String::new(),
    }
}

pub(crate) fn runtime_source() -> Source {
    Source::local(
        "runtime",
        concat!("headmaster-runtime/", env!("CARGO_PKG_VERSION")),
    )
}

impl Instance {
    /// Announces a run update.
    pub(crate) fn announce_run(&self, workspace: WorkspaceId, run_id: &str, status: RunStatus) {
        self.announce(CoreEvent::RunUpdated {
            workspace,
            run_id: run_id.to_string(),
            status,
            stalled: false,
        });
    }
}

/// Records a step's result and checkpoints the run inside the transaction of a database-only
/// action (see `SameTransaction`).
struct RecordStep<'a> {
    instance: &'a Instance,
    workspace: WorkspaceId,
    run_id: &'a str,
    run: &'a mut Loaded,
    definition: &'a AgentDefinition,
    step: &'a str,
    recorded: bool,
    /// The run was cancelled before the step committed; the step was rolled back.
    cancelled: bool,
    stop: Option<String>,
}

impl SameTransaction for RecordStep<'_> {
    async fn within<'c>(
        &'c mut self,
        conn: &'c mut SqliteConnection,
        result: &'c Result<Value>,
    ) -> Result<()> {
        let (step_status, output, reason) = match result {
            Ok(output) => (StepStatus::Executed, output.clone(), None),
            Err(e) => (StepStatus::Failed, Value::Null, Some(e.to_string())),
        };
        self.stop = self.instance.record_result(
            self.run,
            self.definition,
            self.step,
            step_status,
            output,
            reason,
        );
        let stored = self
            .instance
            .checkpoint_in(
                conn,
                self.workspace,
                self.run_id,
                self.run,
                RunStatus::Running,
                None,
            )
            .await?;
        if !stored {
            // A cancelled run takes no further action: fail the transaction so the action
            // and its events roll back.
            self.cancelled = true;
            return Err(crate::error::Error::Conflict(format!(
                "run {} was cancelled",
                self.run_id
            )));
        }
        self.recorded = true;
        Ok(())
    }
}
