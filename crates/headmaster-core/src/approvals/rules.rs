//! Who may decide a request, written once. The inbox's "yours to decide", the CLI's marker, the
//! desktop's notifications and `decide_approval` itself all ask [`may_decide`].

use headmaster_policy::{Decision, Tier};
use std::fmt;

use crate::access::{Capability, CapabilitySet};
use crate::states::{ApprovalStatus, RunStatus};

/// The capability that decides requests of a tier: medium-tier requests are confirmed
/// (Operators and up), high and critical ones approved (Approvers).
pub fn deciding_capability(tier: Tier) -> Capability {
    match tier {
        Tier::Low | Tier::Medium => Capability::ApprovalConfirm,
        Tier::High | Tier::Critical => Capability::ApprovalDecide,
    }
}

/// What a run waits in while a request of `tier` is decided.
pub fn waiting_status(tier: Tier) -> RunStatus {
    match deciding_capability(tier) {
        Capability::ApprovalConfirm => RunStatus::WaitingConfirmation,
        _ => RunStatus::WaitingApproval,
    }
}

/// The audited name of deciding a request of a tier.
pub(crate) fn decision_action(tier: Tier) -> &'static str {
    match deciding_capability(tier) {
        Capability::ApprovalConfirm => "approval.confirm",
        _ => "approval.decide",
    }
}

/// How many distinct people must approve a request that the gate sent for a decision.
pub(crate) fn quorum(decision: Decision) -> u8 {
    match decision {
        Decision::NeedsApproval { quorum } => quorum.max(1),
        _ => 1,
    }
}

/// What is known about a request and the person looking at it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    /// The request's status.
    pub status: ApprovalStatus,
    /// Its tier.
    pub tier: Tier,
    /// The person the call was proposed for (the proposer or the run's starter).
    pub on_behalf_of: &'a str,
    /// When it expires (ms).
    pub expires_at: i64,
    /// Whether the person already decided it.
    pub voted: bool,
}

/// Why a person may not decide a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Their role lacks the deciding capability.
    Lacks(Capability),
    /// They proposed the call, or started the run that did.
    OwnRequest,
    /// It is no longer pending.
    NotPending(ApprovalStatus),
    /// Its time ran out (it is expired at the next read).
    TimedOut,
    /// They already decided it.
    AlreadyVoted,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Lacks(cap) => write!(
                f,
                "deciding this request needs `{}`, which your role does not have",
                cap.name()
            ),
            Refusal::OwnRequest => f.write_str(
                "you proposed this call (or started the run that did); another person must decide it",
            ),
            Refusal::NotPending(status) => {
                write!(f, "this request is already {status}; nothing was changed")
            }
            Refusal::TimedOut => f.write_str("this request is already expired; nothing was changed"),
            Refusal::AlreadyVoted => f.write_str(
                "you already decided this request; a second vote by the same person does not count",
            ),
        }
    }
}

/// Whether `person` (holding `caps`) may decide the request now, and if not, why. Checked in
/// this order: role, own request, status, time, earlier vote.
pub(crate) fn may_decide(
    facts: &Facts<'_>,
    person: &str,
    caps: &CapabilitySet,
    now: i64,
) -> Result<(), Refusal> {
    let needed = deciding_capability(facts.tier);
    if !caps.contains(needed) {
        return Err(Refusal::Lacks(needed));
    }
    if facts.on_behalf_of == person {
        return Err(Refusal::OwnRequest);
    }
    if facts.status != ApprovalStatus::Pending {
        return Err(Refusal::NotPending(facts.status));
    }
    if facts.expires_at <= now {
        return Err(Refusal::TimedOut);
    }
    if facts.voted {
        return Err(Refusal::AlreadyVoted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Role, RoleCapabilities};

    fn facts(tier: Tier) -> Facts<'static> {
        Facts {
            status: ApprovalStatus::Pending,
            tier,
            on_behalf_of: "alice",
            expires_at: 1_000,
            voted: false,
        }
    }

    #[test]
    fn each_tier_names_its_deciders() {
        let operator = Role::Operator.capabilities();
        let approver = Role::Approver.capabilities();
        assert_eq!(
            may_decide(&facts(Tier::Medium), "bob", &operator, 0),
            Ok(())
        );
        for tier in [Tier::High, Tier::Critical] {
            assert_eq!(
                may_decide(&facts(tier), "bob", &operator, 0),
                Err(Refusal::Lacks(Capability::ApprovalDecide))
            );
            assert_eq!(may_decide(&facts(tier), "bob", &approver, 0), Ok(()));
        }
        assert_eq!(
            may_decide(&facts(Tier::Medium), "bob", &Role::Viewer.capabilities(), 0),
            Err(Refusal::Lacks(Capability::ApprovalConfirm))
        );
        assert_eq!(decision_action(Tier::Medium), "approval.confirm");
        assert_eq!(decision_action(Tier::Critical), "approval.decide");
        assert_eq!(quorum(Tier::Critical.decision()), 2);
        assert_eq!(quorum(Tier::High.decision()), 1);
    }

    #[test]
    fn own_requests_decided_ones_timed_out_ones_and_second_votes_are_refused() {
        let admin = Role::Admin.capabilities();
        let f = facts(Tier::High);
        assert_eq!(may_decide(&f, "alice", &admin, 0), Err(Refusal::OwnRequest));
        let decided = Facts {
            status: ApprovalStatus::Approved,
            ..f
        };
        assert_eq!(
            may_decide(&decided, "bob", &admin, 0),
            Err(Refusal::NotPending(ApprovalStatus::Approved))
        );
        assert_eq!(may_decide(&f, "bob", &admin, 1_000), Err(Refusal::TimedOut));
        let voted = Facts { voted: true, ..f };
        assert_eq!(
            may_decide(&voted, "bob", &admin, 0),
            Err(Refusal::AlreadyVoted)
        );
    }
}
