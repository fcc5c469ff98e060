//! Runs as people see them: start, list, show (timeline, tree, drafts), cancel, resume; the
//! stored form (create, load, checkpoint, steps, finish); drafts; and the worker tick that
//! resumes runs after a restart and flags stalled ones.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use super::engine::{runtime_source, Loaded, RunState};
use super::status;
use crate::access::{Capability, Scope};
use crate::audit::{Actor, Correlation, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::vault::seal::Aad;

/// A run as listed.
#[derive(Debug, Clone, Serialize)]
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
    pub status: String,
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
#[derive(Debug, Clone, Serialize)]
pub struct RunStep {
    /// Position.
    pub seq: i64,
    /// `tool_call`, `decision`, `result`, `delegation`, `finish`, `error`.
    pub kind: String,
    /// Details.
    pub body: Value,
    /// When (RFC 3339).
    pub at: String,
}

/// A run with its timeline, sub-runs and drafts.
#[derive(Debug, Clone, Serialize)]
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

/// A draft as listed (latest version of each key).
#[derive(Debug, Clone, Serialize)]
pub struct DraftSummary {
    /// Row id of this version.
    pub id: String,
    /// Draft key (shared by versions).
    pub key: String,
    /// Version.
    pub version: i64,
    /// Title.
    pub title: String,
    /// Run that saved it.
    pub run_id: Option<String>,
    /// Author (`user:<id>` / `agent:<id>`).
    pub author: String,
    /// Saved (RFC 3339).
    pub created_at: String,
}

/// A draft with every version's body.
#[derive(Debug, Clone, Serialize)]
pub struct DraftDetail {
    /// Key.
    pub key: String,
    /// Versions, newest first: summary and body.
    pub versions: Vec<(DraftSummary, String)>,
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
                &agent_id,
                session.user_id,
                task,
                None,
                None,
                None,
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
        if status::is_final(&current) {
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
            if status::is_final(&parent_status) {
                return Err(Error::Conflict(format!(
                    "run {run_id} is a sub-run of {parent}, which is {parent_status}; it cannot continue on its own"
                )));
            }
        }
        self.audit_workspace(
            workspace,
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
        if status::is_final(&current) {
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
            if status::is_final(&self.run_status(workspace, id).await?) {
                continue;
            }
            self.audit_workspace(
                workspace,
                NewEvent::new(
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
                .payload(json!({ "run_id": id, "requested_for": run_id })),
            )
            .await?;
            sqlx::query("UPDATE runs SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled', 'expired')")
                .bind(now)
                .bind(now)
                .bind(id)
                .execute(&pool)
                .await?;
            self.withdraw_requests(workspace, id).await?;
            self.announce_run(workspace, id, status::CANCELLED);
        }
        self.run_summary(workspace, run_id).await
    }

    /// Withdraws (expires) the pending requests of a run that will never resume.
    async fn withdraw_requests(&self, workspace: WorkspaceId, run_id: &str) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        sqlx::query("UPDATE approvals SET status = 'expired', decided_at = ? WHERE run_id = ? AND status = 'pending'")
            .bind(self.now())
            .bind(run_id)
            .execute(&pool)
            .await?;
        Ok(())
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
        let rows = sqlx::query(
            "SELECT id, seq, kind, body, created_at FROM run_steps WHERE run_id = ? ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&pool)
        .await?;
        let mut timeline = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get(0);
            let body = self
                .vault
                .open(
                    &Aad::new(&scope, "run_steps", "body", &id),
                    &row.get::<Vec<u8>, _>(3),
                )
                .await?;
            timeline.push(RunStep {
                seq: row.get(1),
                kind: row.get(2),
                body: serde_json::from_slice(&body).unwrap_or_default(),
                at: rfc3339_ms(row.get(4)),
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

    /// Drafts: the latest version of each.
    pub async fn list_drafts(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<DraftSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "draft.list",
        )
        .await?;
        let all = self.draft_summaries(workspace).await?;
        let mut latest: Vec<DraftSummary> = Vec::new();
        for d in all {
            if !latest.iter().any(|l| l.key == d.key) {
                latest.push(d);
            }
        }
        Ok(latest)
    }

    /// A draft (by key or version id) with all its versions.
    pub async fn show_draft(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<DraftDetail> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "draft.show",
        )
        .await?;
        let all = self.draft_summaries(workspace).await?;
        let key = all
            .iter()
            .find(|d| d.id == id || d.key == id)
            .map(|d| d.key.clone())
            .ok_or_else(|| Error::not_found("draft", id))?;
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let mut versions = Vec::new();
        for d in all.into_iter().filter(|d| d.key == key) {
            let sealed: Vec<u8> = sqlx::query_scalar("SELECT body FROM drafts WHERE id = ?")
                .bind(&d.id)
                .fetch_one(&pool)
                .await?;
            let body = self
                .vault
                .open_string(&Aad::new(&scope, "drafts", "body", &d.id), &sealed)
                .await?;
            versions.push((d, body));
        }
        Ok(DraftDetail { key, versions })
    }

    /// One pass of the background worker: resumes runs no process drives (after a restart, or
    /// once a decision arrived) and flags stalled ones. Returns how many runs it advanced.
    pub async fn tick_runs(self: &Arc<Self>) -> Result<usize> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM workspaces")
            .fetch_all(&self.pool)
            .await?;
        let mut advanced = 0;
        for id in ids {
            let Ok(workspace) = id.parse::<WorkspaceId>() else {
                continue;
            };
            self.flag_stalled(workspace).await?;
            self.expire_due(workspace).await?;
            let pool = self.workspace_pool(workspace).await?;
            let now = self.now();
            let candidates: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT r.id, r.status, r.waiting_on FROM runs r
                 WHERE r.status NOT IN ('completed', 'failed', 'cancelled', 'expired') AND r.parent_run_id IS NULL
                   AND (r.lease_owner IS NULL OR r.lease_until < ?)",
            )
            .bind(now)
            .fetch_all(&pool)
            .await?;
            for (run_id, run_status, waiting_on) in candidates {
                let ready = match run_status.as_str() {
                    status::WAITING_APPROVAL | status::WAITING_CONFIRMATION => match waiting_on {
                        Some(approval) => {
                            self.approval_status(workspace, &approval).await? != "pending"
                        }
                        None => true,
                    },
                    status::WAITING_CHILD => true,
                    _ => true,
                };
                if ready {
                    // One failing run must not stop the others from advancing.
                    match self.drive_run(workspace, &run_id).await {
                        Ok(_) => advanced += 1,
                        Err(e) => {
                            tracing::warn!(run = %run_id, error = %e, "advancing a run failed")
                        }
                    }
                }
            }
        }
        Ok(advanced)
    }

    /// Creates a run record (queued) and audits it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn create_run(
        &self,
        workspace: WorkspaceId,
        agent_id: &str,
        started_by: UserId,
        task: &str,
        parent: Option<&str>,
        tools: Option<Vec<String>>,
        max_steps: Option<u32>,
    ) -> Result<String> {
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
                &serde_json::to_vec(&state).unwrap_or_default(),
            )
            .await?;
        self.audit_workspace(
            workspace,
            NewEvent::new(Actor::user(started_by), "run.started", Outcome::Allowed, &runtime_source())
                .target(agent_id)
                .correlation(Correlation { run_id: id.clone(), ..Correlation::default() })
                .payload(json!({ "run_id": id, "agent_id": agent_id, "parent_run_id": parent, "tools": state.tools, "max_steps": state.max_steps })),
        )
        .await?;
        let pool = self.workspace_pool(workspace).await?;
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
        .execute(&pool)
        .await?;
        self.announce_run(workspace, &id, status::QUEUED);
        Ok(id)
    }

    pub(crate) async fn load_run(&self, workspace: WorkspaceId, run_id: &str) -> Result<Loaded> {
        let pool = self.workspace_pool(workspace).await?;
        let row = sqlx::query(
            "SELECT agent_id, status, started_by, task, state, steps FROM runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(&pool)
        .await?
        .ok_or_else(|| Error::not_found("run", run_id))?;
        let scope = workspace.to_string();
        let task = self
            .vault
            .open_string(
                &Aad::new(&scope, "runs", "task", run_id),
                &row.get::<Vec<u8>, _>(3),
            )
            .await?;
        let state: RunState = serde_json::from_slice(
            &self
                .vault
                .open(
                    &Aad::new(&scope, "runs", "state", run_id),
                    &row.get::<Vec<u8>, _>(4),
                )
                .await?,
        )
        .map_err(|e| {
            Error::Conflict(format!("the checkpoint of run {run_id} is unreadable: {e}"))
        })?;
        let started_by: String = row.get(2);
        Ok(Loaded {
            agent_id: row.get(0),
            status: row.get(1),
            started_by: started_by
                .parse()
                .map_err(|_| Error::Conflict("bad starter id".into()))?,
            task,
            state,
            steps: row.get(5),
        })
    }

    /// Writes the checkpoint and status in one statement.
    pub(crate) async fn checkpoint(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        run: &Loaded,
        new_status: &str,
        waiting_on: Option<&str>,
    ) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let sealed = self
            .vault
            .seal(
                &Aad::new(&scope, "runs", "state", run_id),
                &serde_json::to_vec(&run.state).unwrap_or_default(),
            )
            .await?;
        sqlx::query("UPDATE runs SET state = ?, status = ?, waiting_on = ?, updated_at = ? WHERE id = ? AND status NOT IN ('cancelled')")
            .bind(&sealed)
            .bind(new_status)
            .bind(waiting_on)
            .bind(self.now())
            .bind(run_id)
            .execute(&pool)
            .await?;
        self.announce_run(workspace, run_id, new_status);
        Ok(())
    }

    /// Appends a timeline step.
    pub(crate) async fn add_step(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        run: &mut Loaded,
        kind: &str,
        body: Value,
    ) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let id = uuid::Uuid::now_v7().to_string();
        let sealed = self
            .vault
            .seal(
                &Aad::new(&scope, "run_steps", "body", &id),
                &serde_json::to_vec(&body).unwrap_or_default(),
            )
            .await?;
        let seq: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM run_steps WHERE run_id = ?")
                .bind(run_id)
                .fetch_one(&pool)
                .await?;
        sqlx::query("INSERT INTO run_steps (id, run_id, seq, kind, body, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&id)
            .bind(run_id)
            .bind(seq)
            .bind(kind)
            .bind(&sealed)
            .bind(self.now())
            .execute(&pool)
            .await?;
        // The timeline gained a step: listeners (the desktop's run view) refresh.
        let current = self.run_status(workspace, run_id).await?;
        self.announce_run(workspace, run_id, &current);
        if kind == "tool_call" || kind == "delegation" {
            run.steps += 1;
            sqlx::query("UPDATE runs SET steps = ? WHERE id = ?")
                .bind(run.steps)
                .bind(run_id)
                .execute(&pool)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn set_status(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        new_status: &str,
        waiting_on: Option<&str>,
    ) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        sqlx::query("UPDATE runs SET status = ?, waiting_on = ?, updated_at = ? WHERE id = ? AND status NOT IN ('cancelled')")
            .bind(new_status)
            .bind(waiting_on)
            .bind(self.now())
            .bind(run_id)
            .execute(&pool)
            .await?;
        self.announce_run(workspace, run_id, new_status);
        Ok(())
    }

    /// Ends a run with a final status and its summary or error.
    pub(crate) async fn finish_run(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        run: &Loaded,
        final_status: &str,
        outcome: &str,
    ) -> Result<String> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let sealed = self
            .vault
            .seal(
                &Aad::new(&scope, "runs", "outcome", run_id),
                outcome.as_bytes(),
            )
            .await?;
        self.audit_workspace(
            workspace,
            NewEvent::new(
                Actor::agent(&run.agent_id),
                &format!("run.{final_status}"),
                if final_status == status::COMPLETED { Outcome::Allowed } else { Outcome::Failed },
                &runtime_source(),
            )
            .target(run_id)
            .correlation(Correlation { run_id: run_id.to_string(), ..Correlation::default() })
            .payload(json!({ "run_id": run_id, "status": final_status, "outcome": outcome, "steps": run.steps })),
        )
        .await?;
        self.withdraw_requests(workspace, run_id).await?;
        let now = self.now();
        sqlx::query("UPDATE runs SET status = ?, outcome = ?, finished_at = ?, updated_at = ?, waiting_on = NULL WHERE id = ? AND status NOT IN ('cancelled')")
            .bind(final_status)
            .bind(&sealed)
            .bind(now)
            .bind(now)
            .bind(run_id)
            .execute(&pool)
            .await?;
        self.announce_run(workspace, run_id, final_status);
        self.run_status(workspace, run_id).await
    }

    pub(crate) async fn run_status(&self, workspace: WorkspaceId, run_id: &str) -> Result<String> {
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
        let row = sqlx::query(
            "SELECT agent_id, parent_run_id, status, started_by, task, steps, stalled, waiting_on, created_at, updated_at FROM runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(&pool)
        .await?
        .ok_or_else(|| Error::not_found("run", run_id))?;
        let scope = workspace.to_string();
        let agent_id: String = row.get(0);
        let outcome = self.run_outcome(workspace, run_id).await?;
        Ok(RunSummary {
            id: run_id.to_string(),
            agent_name: self.agent_display_name(&scope, &agent_id).await,
            agent_id,
            parent_run_id: row.get(1),
            status: row.get(2),
            started_by: self.username_of(&row.get::<String, _>(3)).await,
            task: self
                .vault
                .open_string(
                    &Aad::new(&scope, "runs", "task", run_id),
                    &row.get::<Vec<u8>, _>(4),
                )
                .await?,
            steps: row.get(5),
            stalled: row.get::<i64, _>(6) != 0,
            waiting_on: row.get(7),
            outcome: (!outcome.is_empty()).then_some(outcome),
            created_at: rfc3339_ms(row.get(8)),
            updated_at: rfc3339_ms(row.get(9)),
        })
    }

    /// Marks running runs without a recent heartbeat as stalled, auditing each once.
    async fn flag_stalled(&self, workspace: WorkspaceId) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let cutoff = self.now() - self.config.stall_after_ms;
        let stalled: Vec<(String, String)> = sqlx::query_as(
            "UPDATE runs SET stalled = 1 WHERE status IN ('running', 'queued') AND stalled = 0
               AND COALESCE(heartbeat_at, created_at) < ? RETURNING id, agent_id",
        )
        .bind(cutoff)
        .fetch_all(&pool)
        .await?;
        for (run_id, agent_id) in stalled {
            self.audit_workspace(
                workspace,
                NewEvent::new(
                    Actor::agent(&agent_id),
                    "run.stalled",
                    Outcome::Failed,
                    &runtime_source(),
                )
                .target(&run_id)
                .correlation(Correlation {
                    run_id: run_id.clone(),
                    ..Correlation::default()
                })
                .payload(
                    json!({ "run_id": run_id, "no_heartbeat_for_ms": self.config.stall_after_ms }),
                ),
            )
            .await?;
            self.announce_run(workspace, &run_id, "stalled");
        }
        Ok(())
    }

    async fn draft_summaries(&self, workspace: WorkspaceId) -> Result<Vec<DraftSummary>> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows = sqlx::query("SELECT id, draft_key, version, title, run_id, author, created_at FROM drafts ORDER BY created_at DESC, version DESC")
            .fetch_all(&pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get(0);
            out.push(DraftSummary {
                title: self
                    .vault
                    .open_string(
                        &Aad::new(&scope, "drafts", "title", &id),
                        &row.get::<Vec<u8>, _>(3),
                    )
                    .await?,
                id,
                key: row.get(1),
                version: row.get(2),
                run_id: row.get(4),
                author: row.get(5),
                created_at: rfc3339_ms(row.get(6)),
            });
        }
        Ok(out)
    }
}
