//! Continuing a parked run: the decision on its pending call (executed through the hash check,
//! or read back if it already ran), or the end of its sub-run.

use std::sync::Arc;

use serde_json::{json, Value};

use super::engine::{Loaded, Observed, RunState};
use super::playbook::StepStatus;
use super::AgentDefinition;
use crate::error::{Error, Result};
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::states::{ApprovalStatus, RunStatus, StepKind};
use crate::tools::call::CallOutcome;
use crate::vault::seal::Aad;

impl Instance {
    /// Resolves a parked call; `false` while it still waits.
    pub(crate) async fn resolve_pending(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        run_id: &str,
        run: &mut Loaded,
        definition: &AgentDefinition,
    ) -> Result<bool> {
        let Some(pending) = run.state.pending.clone() else {
            self.set_status(workspace, run_id, RunStatus::Running, None)
                .await?;
            return Ok(true);
        };
        self.expire_due(workspace).await?;
        let approval_status = self
            .approval_status(workspace, &pending.approval_id)
            .await?;
        let (step_status, output, reason) = match approval_status {
            ApprovalStatus::Pending => return Ok(false),
            ApprovalStatus::Approved => match self.execute_approved(workspace, &pending.approval_id, &pending.args).await {
                Ok(CallOutcome::Executed { output, .. }) => (StepStatus::Executed, output, None),
                Ok(_) => (StepStatus::Failed, Value::Null, Some("unexpected outcome".to_string())),
                Err(Error::Conflict(_)) => self.stored_result(workspace, &pending.approval_id).await?,
                Err(e) => (StepStatus::Failed, Value::Null, Some(e.to_string())),
            },
            ApprovalStatus::Executed | ApprovalStatus::Failed => self.stored_result(workspace, &pending.approval_id).await?,
            ApprovalStatus::Executing => (
                StepStatus::Failed,
                Value::Null,
                Some("execution was interrupted by a crash; it is not retried, so it cannot run twice".to_string()),
            ),
            other @ (ApprovalStatus::Rejected | ApprovalStatus::Expired) => {
                let comments = self.rejection_comments(workspace, &pending.approval_id).await?;
                (StepStatus::Rejected, Value::Null, Some(format!("request {other}{comments}")))
            }
        };
        let mut owned = std::mem::replace(run, placeholder());
        owned.state.pending = None;
        self.add_step(&mut owned, StepKind::Decision, json!({ "step": pending.step, "approval_id": pending.approval_id, "status": approval_status }));
        self.observe(
            workspace,
            run_id,
            owned,
            definition,
            Observed {
                step: &pending.step,
                status: step_status,
                output,
                reason,
            },
        )
        .await?;
        Ok(true)
    }

    pub(crate) async fn resolve_child(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        run_id: &str,
        run: &mut Loaded,
        definition: &AgentDefinition,
    ) -> Result<bool> {
        let Some(child) = run.state.child.clone() else {
            self.set_status(workspace, run_id, RunStatus::Running, None)
                .await?;
            return Ok(true);
        };
        let child_status = self.run_status(workspace, &child.run_id).await?;
        if !child_status.is_final() {
            Box::pin(self.drive_run(workspace, &child.run_id)).await?;
            let again = self.run_status(workspace, &child.run_id).await?;
            if !again.is_final() {
                return Ok(false);
            }
        }
        let outcome = self.run_outcome(workspace, &child.run_id).await?;
        let final_status = self.run_status(workspace, &child.run_id).await?;
        let mut owned = std::mem::replace(run, placeholder());
        owned.state.child = None;
        let (status_kind, reason) = if final_status == RunStatus::Completed {
            (StepStatus::Executed, None)
        } else {
            (
                StepStatus::Failed,
                Some(format!("sub-run {final_status}: {outcome}")),
            )
        };
        self.observe(
            workspace,
            run_id,
            owned,
            definition,
            Observed {
                step: &child.step,
                status: status_kind,
                output: json!({ "run_id": child.run_id, "status": final_status, "summary": outcome }),
                reason,
            },
        )
        .await?;
        Ok(true)
    }

    async fn stored_result(
        &self,
        workspace: WorkspaceId,
        approval_id: &str,
    ) -> Result<(StepStatus, Value, Option<String>)> {
        let pool = self.workspace_pool(workspace).await?;
        let sealed =
            crate::approvals::store::sealed_result(&mut *pool.acquire().await?, approval_id)
                .await?;
        let Some(sealed) = sealed else {
            return Ok((
                StepStatus::Failed,
                Value::Null,
                Some("the approved call left no result".into()),
            ));
        };
        let stored = self.open_result(workspace, approval_id, &sealed).await?;
        Ok(match stored.get("ok") {
            Some(output) => (StepStatus::Executed, output.clone(), None),
            None => (
                StepStatus::Failed,
                Value::Null,
                stored["error"].as_str().map(str::to_string),
            ),
        })
    }

    async fn rejection_comments(
        &self,
        workspace: WorkspaceId,
        approval_id: &str,
    ) -> Result<String> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows =
            crate::approvals::store::rejections(&mut *pool.acquire().await?, approval_id).await?;
        let mut comments = Vec::new();
        for (id, comment) in rows {
            if let Some(sealed) = comment {
                comments.push(
                    self.vault
                        .open_string(
                            &Aad::new(&scope, "approval_decisions", "comment", &id),
                            &sealed,
                        )
                        .await?,
                );
            }
        }
        Ok(if comments.is_empty() {
            String::new()
        } else {
            format!(": {}", comments.join("; "))
        })
    }
}

fn placeholder() -> Loaded {
    Loaded {
        agent_id: String::new(),
        status: RunStatus::Queued,
        started_by: UserId::new(),
        task: String::new(),
        state: RunState::default(),
        steps: 0,
        queued_steps: Vec::new(),
        owner: None,
    }
}
