//! The stored form of a run: creating it, loading and checkpointing it, appending timeline
//! steps, finishing it, and reading its summary.

use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::engine::{runtime_source, Loaded, RunState};
use super::runs::RunSummary;
use crate::access::Scope;
use crate::approvals::store as approvals_store;
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::states::{status_in, RunStatus, StepKind};
use crate::store::body;
use crate::vault::seal::Aad;

impl Instance {
    /// Creates a run record (queued) and audits it.
    pub(crate) async fn create_run(
        &self,
        workspace: WorkspaceId,
        new: NewRun<'_>,
    ) -> Result<String> {
        let NewRun {
            agent_id,
            started_by,
            task,
            parent,
            tools,
            max_steps,
        } = new;
        let definition = self.agent_definition(workspace, agent_id).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        let state = RunState {
            tools: tools.unwrap_or_else(|| definition.tools.clone()),
            max_steps: max_steps.unwrap_or(definition.limits.max_steps),
            deadline_ms: now + definition.limits.wall_seconds as i64 * 1000,
            ..RunState::default()
        };
        let scope = workspace.to_string();
        let sealed_task = self
            .vault
            .seal(&Aad::new(&scope, "runs", "task", &id), task.as_bytes())
            .await?;
        let sealed_state = self
            .vault
            .seal(
                &Aad::new(&scope, "runs", "state", &id),
                &body::encode("run checkpoint", &id, &state)?,
            )
            .await?;
        let event = NewEvent::new(Actor::user(started_by), "run.started", Outcome::Allowed, &runtime_source())
            .target(agent_id)
            .correlation(Correlation { run_id: id.clone(), ..Correlation::default() })
            .payload(json!({ "run_id": id, "agent_id": agent_id, "parent_run_id": parent, "tools": state.tools, "max_steps": state.max_steps }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        sqlx::query(
            "INSERT INTO runs (id, agent_id, parent_run_id, status, started_by, task, state, created_at, updated_at)
             VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(agent_id)
        .bind(parent)
        .bind(started_by.to_string())
        .bind(&sealed_task)
        .bind(&sealed_state)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.announce_run(workspace, &id, RunStatus::Queued);
        Ok(id)
    }

    pub(crate) async fn load_run(&self, workspace: WorkspaceId, run_id: &str) -> Result<Loaded> {
        let pool = self.workspace_pool(workspace).await?;
        let row: LoadRow = sqlx::query_as(
            "SELECT agent_id, status, started_by, task, state, steps FROM runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(&pool)
        .await?
        .ok_or_else(|| Error::not_found("run", run_id))?;
        let scope = workspace.to_string();
        let task = self
            .vault
            .open_string(&Aad::new(&scope, "runs", "task", run_id), &row.task)
            .await?;
        let state: RunState = body::decode(
            "run checkpoint",
            run_id,
            &self
                .vault
                .open(&Aad::new(&scope, "runs", "state", run_id), &row.state)
                .await?,
        )?;
        Ok(Loaded {
            agent_id: row.agent_id,
            status: row.status,
            started_by: row
                .started_by
                .parse()
                .map_err(|_| body::corrupt("run", run_id, "its starter is not a user id"))?,
            task,
            state,
            steps: row.steps,
            queued_steps: Vec::new(),
            owner: None,
        })
    }

    /// Writes the queued timeline steps, the checkpoint and the status in one transaction.
    pub(crate) async fn checkpoint(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        run: &mut Loaded,
        new_status: RunStatus,
        waiting_on: Option<&str>,
    ) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let stored = self
            .checkpoint_in(&mut tx, workspace, run_id, run, new_status, waiting_on)
            .await?;
        if !stored {
            // The run was cancelled meanwhile; the timeline steps still go in.
            run.status = RunStatus::Cancelled;
        }
        tx.commit().await?;
        self.announce_run(workspace, run_id, new_status);
        Ok(())
    }

    /// The checkpoint inside the caller's write transaction. When the run is being driven, the
    /// update also proves the driver still holds the lease. Sealing touches only the instance
    /// database, never this workspace's, so it is safe inside the transaction. Returns false
    /// when the run had been cancelled (nothing but the timeline steps was written).
    pub(crate) async fn checkpoint_in(
        &self,
        conn: &mut SqliteConnection,
        workspace: WorkspaceId,
        run_id: &str,
        run: &mut Loaded,
        new_status: RunStatus,
        waiting_on: Option<&str>,
    ) -> Result<bool> {
        let scope = workspace.to_string();
        let sealed = self
            .vault
            .seal(
                &Aad::new(&scope, "runs", "state", run_id),
                &body::encode("run checkpoint", run_id, &run.state)?,
            )
            .await?;
        let steps = self.seal_queued_steps(workspace, run).await?;
        insert_steps(&mut *conn, run_id, steps, self.now()).await?;
        let updated = sqlx::query(&format!(
            "UPDATE runs SET state = ?, status = ?, waiting_on = ?, steps = ?, updated_at = ?
             WHERE id = ? AND {} AND (? IS NULL OR lease_owner = ?)",
            run_sources(new_status)
        ))
        .bind(&sealed)
        .bind(new_status)
        .bind(waiting_on)
        .bind(run.steps)
        .bind(self.now())
        .bind(run_id)
        .bind(run.owner.as_deref())
        .bind(run.owner.as_deref())
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated == 0 && run.owner.is_some() {
            let current: Option<RunStatus> =
                sqlx::query_scalar("SELECT status FROM runs WHERE id = ?")
                    .bind(run_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            match current {
                Some(RunStatus::Cancelled) => {}
                Some(current) if !current.may_become(new_status) => {
                    return Err(Error::Conflict(format!(
                        "run {run_id} is {current} and cannot become {new_status}; nothing was changed"
                    )))
                }
                _ => {
                    return Err(Error::Conflict(format!(
                        "run {run_id} is being driven by another process now; this one stops"
                    )))
                }
            }
        }
        if updated == 0 {
            return Ok(false);
        }
        run.status = new_status;
        Ok(true)
    }

    /// Queues a timeline step; the next checkpoint (or the end of the run) writes it, in the
    /// same transaction as the state it led to.
    pub(crate) fn add_step(&self, run: &mut Loaded, kind: StepKind, body: Value) {
        if kind.counts_as_step() {
            run.steps += 1;
        }
        run.queued_steps.push((kind, body));
    }

    /// Seals the queued steps' bodies (outside any transaction).
    async fn seal_queued_steps(
        &self,
        workspace: WorkspaceId,
        run: &mut Loaded,
    ) -> Result<Vec<SealedStep>> {
        let scope = workspace.to_string();
        let mut out = Vec::with_capacity(run.queued_steps.len());
        for (kind, step) in std::mem::take(&mut run.queued_steps) {
            let id = uuid::Uuid::now_v7().to_string();
            let sealed = self
                .vault
                .seal(
                    &Aad::new(&scope, "run_steps", "body", &id),
                    &body::encode("run step", &id, &step)?,
                )
                .await?;
            out.push(SealedStep { id, kind, sealed });
        }
        Ok(out)
    }

    pub(crate) async fn set_status(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        new_status: RunStatus,
        waiting_on: Option<&str>,
    ) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        sqlx::query(&format!(
            "UPDATE runs SET status = ?, waiting_on = ?, updated_at = ? WHERE id = ? AND {}",
            run_sources(new_status)
        ))
        .bind(new_status)
        .bind(waiting_on)
        .bind(self.now())
        .bind(run_id)
        .execute(&pool)
        .await?;
        self.announce_run(workspace, run_id, new_status);
        Ok(())
    }

    /// Ends a run with a final status and its summary or error: queued steps, the audit event,
    /// the withdrawal of its pending requests and the final state in one transaction.
    pub(crate) async fn finish_run(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        run: &mut Loaded,
        final_status: RunStatus,
        outcome: &str,
    ) -> Result<RunStatus> {
        let scope = workspace.to_string();
        let sealed = self
            .vault
            .seal(
                &Aad::new(&scope, "runs", "outcome", run_id),
                outcome.as_bytes(),
            )
            .await?;
        let steps = self.seal_queued_steps(workspace, run).await?;
        let event = NewEvent::new(
            Actor::agent(&run.agent_id),
            &format!("run.{final_status}"),
            if final_status == RunStatus::Completed { Outcome::Allowed } else { Outcome::Failed },
            &runtime_source(),
        )
        .target(run_id)
        .correlation(Correlation { run_id: run_id.to_string(), ..Correlation::default() })
        .payload(json!({ "run_id": run_id, "status": final_status, "outcome": outcome, "steps": run.steps }));
        let now = self.now();
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        // The guarded update goes first: a run cancelled meanwhile keeps its cancellation, and
        // this transaction (its steps and its final event) rolls back.
        let finished = sqlx::query(&format!("UPDATE runs SET status = ?, outcome = ?, steps = ?, finished_at = ?, updated_at = ?, waiting_on = NULL WHERE id = ? AND {}", run_sources(final_status)))
            .bind(final_status)
            .bind(&sealed)
            .bind(run.steps)
            .bind(now)
            .bind(now)
            .bind(run_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if finished == 0 {
            drop(tx);
            return self.run_status(workspace, run_id).await;
        }
        insert_steps(&mut tx, run_id, steps, now).await?;
        let withdrawn = approvals_store::withdraw_for_run(&mut tx, run_id, now).await?;
        for (approval_id, action) in withdrawn {
            tx.record(withdrawn_event(run_id, &approval_id, &action, final_status))
                .await?;
        }
        tx.commit().await?;
        self.announce_run(workspace, run_id, final_status);
        self.run_status(workspace, run_id).await
    }

    pub(crate) async fn run_status(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
    ) -> Result<RunStatus> {
        let pool = self.workspace_pool(workspace).await?;
        sqlx::query_scalar("SELECT status FROM runs WHERE id = ?")
            .bind(run_id)
            .fetch_optional(&pool)
            .await?
            .ok_or_else(|| Error::not_found("run", run_id))
    }

    pub(crate) async fn run_outcome(&self, workspace: WorkspaceId, run_id: &str) -> Result<String> {
        let pool = self.workspace_pool(workspace).await?;
        let sealed: Option<Vec<u8>> = sqlx::query_scalar("SELECT outcome FROM runs WHERE id = ?")
            .bind(run_id)
            .fetch_optional(&pool)
            .await?
            .flatten();
        match sealed {
            Some(s) => Ok(self
                .vault
                .open_string(
                    &Aad::new(&workspace.to_string(), "runs", "outcome", run_id),
                    &s,
                )
                .await?),
            None => Ok(String::new()),
        }
    }

    /// A run's summary.
    pub(crate) async fn run_summary(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
    ) -> Result<RunSummary> {
        let pool = self.workspace_pool(workspace).await?;
        let row: SummaryRow = sqlx::query_as(
            "SELECT agent_id, parent_run_id, status, started_by, task, steps, stalled, waiting_on, created_at, updated_at FROM runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(&pool)
        .await?
        .ok_or_else(|| Error::not_found("run", run_id))?;
        let scope = workspace.to_string();
        let outcome = self.run_outcome(workspace, run_id).await?;
        Ok(RunSummary {
            id: run_id.to_string(),
            agent_name: self.agent_display_name(&scope, &row.agent_id).await,
            agent_id: row.agent_id,
            parent_run_id: row.parent_run_id,
            status: row.status,
            started_by: self.username_of(&row.started_by).await,
            task: self
                .vault
                .open_string(&Aad::new(&scope, "runs", "task", run_id), &row.task)
                .await?,
            steps: row.steps,
            stalled: row.stalled,
            waiting_on: row.waiting_on,
            outcome: (!outcome.is_empty()).then_some(outcome),
            created_at: rfc3339_ms(row.created_at),
            updated_at: rfc3339_ms(row.updated_at),
        })
    }
}

/// A run to create: which agent, for whom, what to do; a sub-run also names its parent and gets
/// the parent's narrowed tools and step budget (a top-level run takes its agent's).
pub(crate) struct NewRun<'a> {
    pub agent_id: &'a str,
    pub started_by: UserId,
    pub task: &'a str,
    pub parent: Option<&'a str>,
    pub tools: Option<Vec<String>>,
    pub max_steps: Option<u32>,
}

/// A timeline step sealed and ready to insert.
struct SealedStep {
    id: String,
    kind: StepKind,
    sealed: Vec<u8>,
}

/// Inserts sealed steps after the run's last one, inside the caller's transaction.
async fn insert_steps(
    conn: &mut SqliteConnection,
    run_id: &str,
    steps: Vec<SealedStep>,
    now: i64,
) -> Result<()> {
    if steps.is_empty() {
        return Ok(());
    }
    // One statement for all of them: positions continue after the run's last step.
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO run_steps (id, run_id, seq, kind, body, created_at)
         SELECT v.column1, ",
    );
    insert
        .push_bind(run_id)
        .push(", last.n + v.column2, v.column3, v.column4, ")
        .push_bind(now)
        .push(" FROM (SELECT COALESCE(MAX(seq), 0) AS n FROM run_steps WHERE run_id = ")
        .push_bind(run_id)
        .push(") AS last, (");
    insert.push_values(steps.iter().zip(1i64..), |mut row, (step, position)| {
        row.push_bind(&step.id)
            .push_bind(position)
            .push_bind(step.kind)
            .push_bind(&step.sealed);
    });
    insert.push(") AS v");
    insert.build().execute(&mut *conn).await?;
    Ok(())
}

/// The event recording that a run's pending request was withdrawn because the run ended.
pub(crate) fn withdrawn_event(
    run_id: &str,
    approval_id: &str,
    action: &str,
    run_status: RunStatus,
) -> NewEvent {
    NewEvent::new(
        Actor::system(),
        "approval.withdrawn",
        Outcome::Denied,
        &runtime_source(),
    )
    .target(action)
    .correlation(Correlation {
        run_id: run_id.to_string(),
        step_id: String::new(),
        approval_id: approval_id.to_string(),
    })
    .payload(json!({ "approval_id": approval_id, "reason": format!("run {run_status}") }))
}

/// The guard of an UPDATE that moves a run to `next`: its current status is one the state
/// machine lets become `next`.
pub(crate) fn run_sources(next: RunStatus) -> String {
    status_in("status", &RunStatus::sources(next), RunStatus::as_str)
}

/// What `load_run` reads.
#[derive(sqlx::FromRow)]
struct LoadRow {
    agent_id: String,
    status: RunStatus,
    started_by: String,
    task: Vec<u8>,
    state: Vec<u8>,
    steps: i64,
}

/// What `run_summary` reads.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    agent_id: String,
    parent_run_id: Option<String>,
    status: RunStatus,
    started_by: String,
    task: Vec<u8>,
    steps: i64,
    stalled: bool,
    waiting_on: Option<String>,
    created_at: i64,
    updated_at: i64,
}
