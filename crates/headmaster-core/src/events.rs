//! Events the core announces to whoever listens in the same process (the desktop shell turns
//! them into UI updates and native notifications; the runtime resumes runs on decisions).
//! Other processes learn of changes by reading the database.

use crate::ids::WorkspaceId;

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreEvent {
    /// A new approval request waits for a decision.
    ApprovalRequested {
        /// Workspace.
        workspace: WorkspaceId,
        /// Request id.
        approval_id: String,
        /// Tier (`medium`, `high`, `critical`).
        tier: String,
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
        status: String,
    },
    /// A run changed state or gained a step.
    RunUpdated {
        /// Workspace.
        workspace: WorkspaceId,
        /// Run id.
        run_id: String,
        /// New status.
        status: String,
    },
}
