//! The background pass over every workspace's runs.
//!
//! A pass flags stalled runs, expires due requests, and hands every run that can go on (queued,
//! continuing after a restart, or whose request was decided) to its own task. At most
//! `Config::max_concurrent_runs` runs are driven at once; the rest wait for a slot, so one run
//! whose model call hangs, or whose shell step takes minutes, holds one slot and nothing else.
//! A sub-run is driven inside its parent's task (the parent waits for its child, as delegation
//! says; no other run does), so a parent never waits for a slot its own child needs.
//!
//! Failures stay where they happen: a run that fails to advance is logged and retried on a later
//! pass, and a workspace whose database cannot be read is reported in [`Pass::problems`] while
//! the other workspaces' runs go on.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::states::{ApprovalStatus, RunStatus};

/// The runs this process drives now, and the slots that bound them.
#[derive(Debug)]
pub(crate) struct Slots {
    permits: Arc<Semaphore>,
    in_flight: Arc<Mutex<HashSet<(WorkspaceId, String)>>>,
}

impl Slots {
    /// Room for `max` runs at once (at least one).
    pub(crate) fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.max(1))),
            in_flight: Arc::default(),
        }
    }

    /// Marks a run as taken by this process; `None` if a task already has it.
    fn take(&self, workspace: WorkspaceId, run_id: &str) -> Option<Taken> {
        let key = (workspace, run_id.to_string());
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if !in_flight.insert(key.clone()) {
            return None;
        }
        Some(Taken {
            key,
            in_flight: Arc::clone(&self.in_flight),
        })
    }
}

/// A run a task of this process has; released when the task ends, however it ends.
struct Taken {
    key: (WorkspaceId, String),
    in_flight: Arc<Mutex<HashSet<(WorkspaceId, String)>>>,
}

impl Drop for Taken {
    fn drop(&mut self) {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

/// A workspace a pass could not look at.
#[derive(Debug)]
pub struct WorkspaceProblem {
    /// The workspace.
    pub workspace: WorkspaceId,
    /// What went wrong.
    pub error: Error,
}

/// What one pass started. Dropping it leaves the runs going; [`Pass::finish`] waits for them.
#[derive(Debug)]
pub struct Pass {
    started: Vec<JoinHandle<Result<RunStatus>>>,
    /// Workspaces the pass skipped, with the reason.
    pub problems: Vec<WorkspaceProblem>,
}

impl Pass {
    /// How many runs the pass handed to tasks.
    pub fn started(&self) -> usize {
        self.started.len()
    }

    /// Waits until every run the pass started finished or waits again; returns how many
    /// advanced without an error.
    pub async fn finish(self) -> usize {
        let mut advanced = 0;
        for task in self.started {
            if let Ok(Ok(_)) = task.await {
                advanced += 1;
            }
        }
        advanced
    }
}

impl Instance {
    /// One pass of the background worker (see the module doc). Returns at once; the runs it
    /// started go on in their own tasks.
    pub async fn dispatch_runs(self: &Arc<Self>) -> Result<Pass> {
        let mut pass = Pass {
            started: Vec::new(),
            problems: Vec::new(),
        };
        for workspace in self.workspace_ids().await? {
            match self.ready_runs(workspace).await {
                Ok(ready) => {
                    for run_id in ready {
                        if let Some(task) = self.start_driving(workspace, run_id) {
                            pass.started.push(task);
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%workspace, %error, "the runs of a workspace could not be read");
                    pass.problems.push(WorkspaceProblem { workspace, error });
                }
            }
        }
        Ok(pass)
    }

    /// One pass, waiting for the runs it started: returns how many runs it advanced. Runs
    /// driven concurrently still hold one slot each.
    pub async fn tick_runs(self: &Arc<Self>) -> Result<usize> {
        Ok(self.dispatch_runs().await?.finish().await)
    }

    /// The workspace's top-level runs that can go on now and no process drives, after stalls
    /// are flagged and due requests expired.
    async fn ready_runs(&self, workspace: WorkspaceId) -> Result<Vec<String>> {
        self.flag_stalled(workspace).await?;
        self.expire_due(workspace).await?;
        let pool = self.workspace_pool(workspace).await?;
        let candidates: Vec<(String, RunStatus, Option<String>)> = sqlx::query_as(&format!(
            "SELECT r.id, r.status, r.waiting_on FROM runs r
             WHERE {} AND r.parent_run_id IS NULL
               AND (r.lease_owner IS NULL OR r.lease_until < ?)",
            super::runs::unfinished("r.status")
        ))
        .bind(self.now())
        .fetch_all(&pool)
        .await?;
        let mut ready = Vec::with_capacity(candidates.len());
        for (run_id, run_status, waiting_on) in candidates {
            let waits_for_decision = run_status.waits_on_decision();
            if run_status == RunStatus::WaitingChild {
                // A parent whose sub-run (or a deeper one) waits on a pending request has
                // nothing to do; driving it would only re-claim its lease on every pass.
                match self.child_waits_for_decision(workspace, &run_id).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(run = %run_id, %error, "the sub-runs of a run could not be read");
                        continue;
                    }
                }
            }
            if let (true, Some(approval)) = (waits_for_decision, waiting_on) {
                match self.approval_status(workspace, &approval).await {
                    Ok(ApprovalStatus::Pending) => continue,
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(run = %run_id, %error, "the request a run waits on could not be read");
                        continue;
                    }
                }
            }
            ready.push(run_id);
        }
        Ok(ready)
    }

    /// Whether a sub-run in `run_id`'s tree waits on a request nobody decided yet.
    async fn child_waits_for_decision(&self, workspace: WorkspaceId, run_id: &str) -> Result<bool> {
        let pool = self.workspace_pool(workspace).await?;
        let waiting: Option<i64> = sqlx::query_scalar(
            "WITH RECURSIVE tree(id) AS (
                 SELECT id FROM runs WHERE parent_run_id = ?1
                 UNION ALL SELECT r.id FROM runs r JOIN tree t ON r.parent_run_id = t.id)
             SELECT 1 FROM runs c JOIN tree t ON c.id = t.id JOIN approvals a ON a.id = c.waiting_on
             WHERE c.status IN (?2, ?3) AND a.status = ?4
             LIMIT 1",
        )
        .bind(run_id)
        .bind(RunStatus::WaitingApproval)
        .bind(RunStatus::WaitingConfirmation)
        .bind(ApprovalStatus::Pending)
        .fetch_optional(&pool)
        .await?;
        Ok(waiting.is_some())
    }

    /// Hands a run to a task that waits for a slot and drives it; `None` if a task of this
    /// process has it already.
    fn start_driving(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        run_id: String,
    ) -> Option<JoinHandle<Result<RunStatus>>> {
        let taken = self.run_slots.take(workspace, &run_id)?;
        let permits = Arc::clone(&self.run_slots.permits);
        let instance = Arc::clone(self);
        Some(tokio::spawn(async move {
            let _taken = taken;
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|_| Error::Conflict("the run worker is shutting down".into()))?;
            let result = instance.drive_run(workspace, &run_id).await;
            if let Err(error) = &result {
                tracing::warn!(run = %run_id, %error, "advancing a run failed");
            }
            result
        }))
    }
}
