//! Runs as people see them: start, list, show (timeline, tree, drafts), cancel, resume; the
//! stored form (create, load, checkpoint, steps, finish); drafts; and stall flagging for the
//! worker's pass (`pass`).

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

use super::drafts::DraftSummary;
use super::engine::runtime_source;
use crate::access::{Capability, Scope};
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::states::{status_in, RunStatus, StepKind};
use crate::store::body;
use crate::vault::seal::Aad;

/// A run as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RunSummary {
    /// Id.
    pub id: String,
    /// Agent id.
    pub agent_id: String,
    /// Agent name.
    pub agent_name: String,
    /// The run that delegated to this one.
    pub parent_run_id: Option<String>,
    /// Status.
    pub status: RunStatus,
    /// Who started it.
    pub started_by: String,
    /// The task.
    pub task: String,
    /// Steps taken.
    pub steps: i64,
    /// No heartbeat for longer than the stall threshold.
    pub stalled: bool,
    /// The approval or sub-run it waits for.
    pub waiting_on: Option<String>,
    /// The final summary or error.
    pub outcome: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// One step of the timeline.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RunStep {
    /// Position.
    pub seq: i64,
    /// What the step records.
    pub kind: StepKind,
    /// Details.
    pub body: Value,
    /// When (RFC 3339).
    pub at: String,
}

/// A run with its timeline, sub-runs and drafts.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RunDetail {
    /// Summary.
    #[serde(flatten)]
    pub summary: RunSummary,
    /// Timeline.
    pub timeline: Vec<RunStep>,
    /// Direct sub-runs.
    pub children: Vec<RunSummary>,
    /// Drafts it saved.
    pub drafts: Vec<DraftSummary>,
}

impl Instance {
    /// Starts a run of `agent` on `task` and drives it until it finishes or waits. The run acts
    /// with the starter's authority.
    pub async fn start_run(
        self: &Arc<Self>,
        session: &Session,
        workspace: WorkspaceId,
        agent: &str,
        task: &str,
        drive: bool,
    ) -> Result<RunSummary> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::RunStart,
            "run.start",
        )
        .await?;
        if task.trim().is_empty() || task.len() > 16_384 {
            return Err(Error::InvalidInput(
                "a task needs 1–16384 bytes of text".into(),
            ));
        }
        let agent_id = self.agent_id(workspace, agent).await?;
        let run_id = self
            .create_run(
                workspace,
                super::record::NewRun {
                    agent_id: &agent_id,
                    started_by: session.user_id,
                    task,
                    parent: None,
                    tools: None,
                    max_steps: None,
                },
            )
            .await?;
        if drive {
            self.drive_run(workspace, &run_id).await?;
        }
        self.run_summary(workspace, &run_id).await
    }

    /// Continues a run that waits (after a decision) or stalled; `run.control`.
    pub async fn resume_run(
        self: &Arc<Self>,
        session: &Session,
        workspace: WorkspaceId,
        run_id: &str,
    ) -> Result<RunSummary> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::RunControl,
            "run.resume",
        )
        .await?;
        let current = self.run_status(workspace, run_id).await?;
        if current.is_final() {
            return Err(Error::Conflict(format!(
                "run {run_id} is {current}; only unfinished runs can be resumed"
            )));
        }
        let pool = self.workspace_pool(workspace).await?;
        let parent: Option<String> =
            sqlx::query_scalar("SELECT parent_run_id FROM runs WHERE id = ?")
                .bind(run_id)
                .fetch_one(&pool)
                .await?;
        if let Some(parent) = parent {
            let parent_status = self.run_status(workspace, &parent).await?;
            if parent_status.is_final() {
                return Err(Error::Conflict(format!(
                    "run {run_id} is a sub-run of {parent}, which is {parent_status}; it cannot continue on its own"
                )));
            }
        }
        self.record(
            Scope::Workspace(workspace),
            NewEvent::new(
                Actor::user(session.user_id),
                "run.resumed",
                Outcome::Allowed,
                &session.source,
            )
            .target(run_id)
            .correlation(Correlation {
                run_id: run_id.to_string(),
                ..Correlation::default()
            }),
        )
        .await?;
        self.drive_run(workspace, run_id).await?;
        self.run_summary(workspace, run_id).await
    }

    /// Cancels an unfinished run and its unfinished sub-runs, withdrawing their pending
    /// requests.
    pub async fn cancel_run(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        run_id: &str,
    ) -> Result<RunSummary> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::RunControl,
            "run.cancel",
        )
        .await?;
        let pool = self.workspace_pool(workspace).await?;
        let current = self.run_status(workspace, run_id).await?;
        if current.is_final() {
            return Err(Error::Conflict(format!(
                "run {run_id} is already {current}"
            )));
        }
        let tree: Vec<String> = sqlx::query_scalar(
            "WITH RECURSIVE tree(id) AS (SELECT ?1 UNION ALL SELECT r.id FROM runs r JOIN tree t ON r.parent_run_id = t.id)
             SELECT id FROM tree",
        )
        .bind(run_id)
        .fetch_all(&pool)
        .await?;
        let now = self.now();
        for id in &tree {
            if self.run_status(workspace, id).await?.is_final() {
                continue;
            }
            let event = NewEvent::new(
                Actor::user(session.user_id),
                "run.cancelled",
                Outcome::Allowed,
                &session.source,
            )
            .target(id)
            .correlation(Correlation {
                run_id: id.clone(),
                ..Correlation::default()
            })
            .payload(json!({ "run_id": id, "requested_for": run_id }));
            // The event, the status and the withdrawal of its requests commit together: a step
            // that commits after this sees the run cancelled and rolls back (`checkpoint_in`).
            let mut tx = self
                .begin_change(Scope::Workspace(workspace), vec![event])
                .await?;
            let updated = sqlx::query(&format!(
                "UPDATE runs SET status = ?, finished_at = ?, updated_at = ? WHERE id = ? AND {}",
                super::record::run_sources(RunStatus::Cancelled)
            ))
            .bind(RunStatus::Cancelled)
            .bind(now)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                // It ended while this was prepared.
                continue;
            }
            let withdrawn = crate::approvals::store::withdraw_for_run(&mut tx, id, now).await?;
            for (approval_id, action) in withdrawn {
                tx.record(super::record::withdrawn_event(
                    id,
                    &approval_id,
                    &action,
                    RunStatus::Cancelled,
                ))
                .await?;
            }
            tx.commit().await?;
            self.announce_run(workspace, id, RunStatus::Cancelled);
        }
        self.run_summary(workspace, run_id).await
    }

    /// Runs, newest first; flags stalled runs on the way.
    pub async fn list_runs(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<RunSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "run.list",
        )
        .await?;
        self.flag_stalled(workspace).await?;
        let pool = self.workspace_pool(workspace).await?;
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM runs ORDER BY created_at DESC LIMIT 200")
                .fetch_all(&pool)
                .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.run_summary(workspace, &id).await?);
        }
        Ok(out)
    }

    /// One run with its timeline, sub-runs and drafts.
    pub async fn show_run(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        run_id: &str,
    ) -> Result<RunDetail> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "run.show",
        )
        .await?;
        self.flag_stalled(workspace).await?;
        let summary = self.run_summary(workspace, run_id).await?;
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows: Vec<(String, i64, StepKind, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT id, seq, kind, body, created_at FROM run_steps WHERE run_id = ? ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&pool)
        .await?;
        let mut timeline = Vec::with_capacity(rows.len());
        for (id, seq, kind, sealed, created_at) in rows {
            let plain = self
                .vault
                .open(&Aad::new(&scope, "run_steps", "body", &id), &sealed)
                .await?;
            timeline.push(RunStep {
                seq,
                kind,
                body: body::decode("run step", &id, &plain)?,
                at: rfc3339_ms(created_at),
            });
        }
        let child_ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM runs WHERE parent_run_id = ? ORDER BY created_at")
                .bind(run_id)
                .fetch_all(&pool)
                .await?;
        let mut children = Vec::new();
        for id in child_ids {
            children.push(self.run_summary(workspace, &id).await?);
        }
        let drafts = self
            .draft_summaries(workspace)
            .await?
            .into_iter()
            .filter(|d| d.run_id.as_deref() == Some(run_id))
            .collect();
        Ok(RunDetail {
            summary,
            timeline,
            children,
            drafts,
        })
    }

    /// Marks running runs without a recent heartbeat as stalled, with one audit event each, in
    /// one transaction.
    pub(super) async fn flag_stalled(&self, workspace: WorkspaceId) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let cutoff = self.now() - self.config.stall_after_ms;
        // The common case (nothing stalled) costs one indexed read and no write lock.
        let due: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT 1 FROM runs WHERE {} AND stalled = 0
               AND COALESCE(heartbeat_at, created_at) < ? LIMIT 1",
            stall_candidates()
        ))
        .bind(cutoff)
        .fetch_optional(&pool)
        .await?;
        if due.is_none() {
            return Ok(());
        }
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), Vec::new())
            .await?;
        let stalled: Vec<(String, String, RunStatus)> = sqlx::query_as(&format!(
            "UPDATE runs SET stalled = 1 WHERE {} AND stalled = 0
               AND COALESCE(heartbeat_at, created_at) < ? RETURNING id, agent_id, status",
            stall_candidates()
        ))
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        for (run_id, agent_id, _) in &stalled {
            tx.record(
                NewEvent::new(
                    Actor::agent(agent_id),
                    "run.stalled",
                    Outcome::Failed,
                    &runtime_source(),
                )
                .target(run_id)
                .correlation(Correlation {
                    run_id: run_id.clone(),
                    ..Correlation::default()
                })
                .payload(
                    json!({ "run_id": run_id, "no_heartbeat_for_ms": self.config.stall_after_ms }),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        for (run_id, _, status) in stalled {
            self.announce(crate::events::CoreEvent::RunUpdated {
                workspace,
                run_id,
                status,
                stalled: true,
            });
        }
        Ok(())
    }
}

/// The runs a heartbeat is expected from: queued (a driver claims them at once) and running.
fn stall_candidates() -> String {
    status_in(
        "status",
        &[RunStatus::Queued, RunStatus::Running],
        RunStatus::as_str,
    )
}

/// The runs that are not over, for a query's WHERE.
pub(crate) fn unfinished(column: &str) -> String {
    let open: Vec<RunStatus> = RunStatus::ALL
        .iter()
        .copied()
        .filter(|s| !s.is_final())
        .collect();
    status_in(column, &open, RunStatus::as_str)
}
