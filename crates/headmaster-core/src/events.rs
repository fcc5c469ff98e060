//! Events the core announces to whoever listens in the same process (the desktop shell turns
//! them into UI updates and native notifications; the runtime resumes runs on decisions).
//! Other processes learn of changes by reading the database.

use headmaster_policy::Tier;

use crate::ids::WorkspaceId;
use crate::states::{ApprovalStatus, RunStatus};

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreEvent {
    /// A new approval request waits for a decision.
    ApprovalRequested {
        /// Workspace.
        workspace: WorkspaceId,
        /// Request id.
        approval_id: String,
        /// Tier (medium, high or critical).
        tier: Tier,
        /// `tool.action`.
        action: String,
        /// Creation time (ms), for measuring notification latency.
        created_at: i64,
    },
    /// A request was approved, rejected or expired.
    ApprovalDecided {
        /// Workspace.
        workspace: WorkspaceId,
        /// Request id.
        approval_id: String,
        /// New status.
        status: ApprovalStatus,
    },
    /// A run changed state or gained a step.
    RunUpdated {
        /// Workspace.
        workspace: WorkspaceId,
        /// Run id.
        run_id: String,
        /// Its status now.
        status: RunStatus,
        /// Whether this update is the run being flagged as stalled (its heartbeat stopped).
        stalled: bool,
    },
}
