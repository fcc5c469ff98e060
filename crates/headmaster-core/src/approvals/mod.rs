//! Approval requests: a boundary-crossing or risky call waits here for people.
//!
//! Medium: any member with `approval.confirm` (Operator or higher) confirms. High: one member
//! with `approval.decide` (Approver). Critical: two distinct Approvers. The person who proposed
//! (or whose agent proposed) never decides. A request expires (per-tier time limit); one
//! rejection rejects it. When the quorum is reached, the call is executed — checking again that
//! the arguments hash to the approved hash — exactly once: the `approved → executing`
//! transition is a compare-and-swap.

pub(crate) mod decide;
mod grants;
pub(crate) mod request;
mod rules;
pub(crate) mod store;

pub use crate::paging::{Page, PageRequest};
pub use crate::states::{ApprovalDecision, ApprovalStatus};
pub use decide::DecisionResult;
pub use grants::{GrantRequest, GrantSummary};
pub use request::{ApprovalDetail, ApprovalSummary, DecisionRecord, ExpiryConfig};

/// One page of the inbox.
pub type ApprovalPage = Page<ApprovalSummary>;
/// One page of standing grants.
pub type GrantPage = Page<GrantSummary>;
pub(crate) use rules::quorum;
pub use rules::{deciding_capability, waiting_status, Refusal};
