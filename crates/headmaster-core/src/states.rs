//! The closed sets the core stores and sends: statuses and their state machines, decisions.
//!
//! Each enum is stored as its snake_case name (`sqlx::Type` over TEXT, matching the CHECK
//! constraints of the migrations), serialised the same way, and generated into the UI's
//! TypeScript types. A state machine's transitions are written once, in its `may_become`; the
//! SQL that moves a row guards on [`RunStatus::sources`] / [`ApprovalStatus::sources`], so a
//! transition the table refuses cannot happen in the database either.

use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, TS)]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = "TEXT", rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stored (and serialised) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Parses a stored name.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// What follows from a closed set's `may_become` table: where a move may come from, and which
/// values are final (nothing follows them).
macro_rules! state_machine {
    ($name:ident) => {
        impl $name {
            /// The values from which a move to `next` is allowed.
            pub fn sources(next: $name) -> Vec<$name> {
                Self::ALL
                    .iter()
                    .copied()
                    .filter(|s| s.may_become(next))
                    .collect()
            }

            /// Whether nothing may follow this value.
            pub fn is_final(self) -> bool {
                Self::ALL.iter().all(|s| !self.may_become(*s))
            }
        }
    };
}

closed_set! {
    /// Where a run is. `stalled` is not a status: it is a flag on a queued or running run whose
    /// heartbeat stopped ([`RunSummary::stalled`](crate::runtime::RunSummary)).
    RunStatus {
        /// Created, not yet started.
        Queued = "queued",
        /// Advancing.
        Running = "running",
        /// Waiting for an Operator to confirm a medium-tier call.
        WaitingConfirmation = "waiting_confirmation",
        /// Waiting for Approvers.
        WaitingApproval = "waiting_approval",
        /// Waiting for a delegated sub-run.
        WaitingChild = "waiting_child",
        /// Finished.
        Completed = "completed",
        /// Ended with an error.
        Failed = "failed",
        /// Cancelled by a person.
        Cancelled = "cancelled",
        /// Ran out of wall time.
        Expired = "expired",
    }
}

state_machine!(RunStatus);

impl RunStatus {
    /// Whether the run waits on a person's decision.
    pub fn waits_on_decision(self) -> bool {
        matches!(
            self,
            RunStatus::WaitingConfirmation | RunStatus::WaitingApproval
        )
    }

    /// The run's state machine. A running run checkpoints into `running` again after each step;
    /// a waiting run goes back to running when it resumes; any unfinished run can fail, be
    /// cancelled or run out of time; a finished run never changes. Only a running run completes
    /// or starts to wait.
    pub fn may_become(self, next: RunStatus) -> bool {
        use RunStatus::*;
        match self {
            Completed | Failed | Cancelled | Expired => false,
            Queued => matches!(next, Running | Failed | Cancelled | Expired),
            Running => next != Queued,
            WaitingConfirmation | WaitingApproval | WaitingChild => {
                matches!(next, Running | Failed | Cancelled | Expired)
            }
        }
    }
}

closed_set! {
    /// Where an approval request is.
    ApprovalStatus {
        /// Waits for decisions.
        Pending = "pending",
        /// Its quorum approved it; the call has not started.
        Approved = "approved",
        /// Somebody rejected it.
        Rejected = "rejected",
        /// Nobody decided in time, or its run ended first (withdrawn).
        Expired = "expired",
        /// The approved call is running (claimed exactly once).
        Executing = "executing",
        /// The approved call ran.
        Executed = "executed",
        /// The approved call failed, or its stored request could not be opened.
        Failed = "failed",
    }
}

state_machine!(ApprovalStatus);

impl ApprovalStatus {
    /// The request's state machine: a pending request is approved (once the quorum is met),
    /// rejected (by one rejection) or expired; an approved one is claimed for execution, or
    /// failed when its stored arguments cannot be opened; an executing one ends executed or
    /// failed. Nothing else moves.
    pub fn may_become(self, next: ApprovalStatus) -> bool {
        use ApprovalStatus::*;
        matches!(
            (self, next),
            (Pending, Approved | Rejected | Expired)
                | (Approved, Executing | Failed)
                | (Executing, Executed | Failed)
        )
    }
}

closed_set! {
    /// What a run's timeline step records.
    StepKind {
        /// The agent proposed a tool call.
        ToolCall = "tool_call",
        /// A person decided (or the request expired) on the call the run waits for.
        Decision = "decision",
        /// The call ran, was denied, rejected or failed.
        Result = "result",
        /// The run handed a task to a sub-run.
        Delegation = "delegation",
        /// The run finished with its summary.
        Finish = "finish",
        /// Something went wrong outside a call (the model endpoint, a limit).
        Error = "error",
    }
}

impl StepKind {
    /// Whether the step counts against the run's step budget (a call or a delegation).
    pub fn counts_as_step(self) -> bool {
        matches!(self, StepKind::ToolCall | StepKind::Delegation)
    }
}

closed_set! {
    /// How a call a run proposed ended, as its timeline and its agent see it.
    StepStatus {
        /// It ran.
        Executed = "executed",
        /// The policy refused it.
        Denied = "denied",
        /// A person rejected it.
        Rejected = "rejected",
        /// It failed (or its request expired).
        Failed = "failed",
    }
}

closed_set! {
    /// One person's decision on a request.
    ApprovalDecision {
        /// Counts towards the quorum.
        Approve = "approve",
        /// One rejection rejects the request.
        Reject = "reject",
    }
}

/// `status IN ('a', 'b')` for a guarded UPDATE; the names are this module's constants, never
/// input, so they are safe to splice.
pub(crate) fn status_in<T: Copy>(
    column: &str,
    set: &[T],
    name: impl Fn(T) -> &'static str,
) -> String {
    if set.is_empty() {
        return "0".to_string();
    }
    let names: Vec<String> = set.iter().map(|s| format!("'{}'", name(*s))).collect();
    format!("{column} IN ({})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair of run statuses, with the expected answer written out: the whole table.
    #[test]
    fn run_transitions_allowed_and_refused() {
        use RunStatus::*;
        let allowed: &[(RunStatus, &[RunStatus])] = &[
            (Queued, &[Running, Failed, Cancelled, Expired]),
            (
                Running,
                &[
                    Running,
                    WaitingConfirmation,
                    WaitingApproval,
                    WaitingChild,
                    Completed,
                    Failed,
                    Cancelled,
                    Expired,
                ],
            ),
            (WaitingConfirmation, &[Running, Failed, Cancelled, Expired]),
            (WaitingApproval, &[Running, Failed, Cancelled, Expired]),
            (WaitingChild, &[Running, Failed, Cancelled, Expired]),
            (Completed, &[]),
            (Failed, &[]),
            (Cancelled, &[]),
            (Expired, &[]),
        ];
        assert_eq!(allowed.len(), RunStatus::ALL.len());
        for (from, to) in allowed {
            for next in RunStatus::ALL {
                assert_eq!(from.may_become(*next), to.contains(next), "{from} → {next}");
            }
        }
    }

    #[test]
    fn approval_transitions_allowed_and_refused() {
        use ApprovalStatus::*;
        let allowed: &[(ApprovalStatus, &[ApprovalStatus])] = &[
            (Pending, &[Approved, Rejected, Expired]),
            (Approved, &[Executing, Failed]),
            (Executing, &[Executed, Failed]),
            (Rejected, &[]),
            (Expired, &[]),
            (Executed, &[]),
            (Failed, &[]),
        ];
        assert_eq!(allowed.len(), ApprovalStatus::ALL.len());
        for (from, to) in allowed {
            for next in ApprovalStatus::ALL {
                assert_eq!(from.may_become(*next), to.contains(next), "{from} → {next}");
            }
        }
        let finals: Vec<_> = ApprovalStatus::ALL
            .iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, [&Rejected, &Expired, &Executed, &Failed]);
    }

    #[test]
    fn sources_invert_the_table_and_final_runs_are_the_four() {
        assert_eq!(
            RunStatus::sources(RunStatus::Completed),
            [RunStatus::Running]
        );
        assert_eq!(
            ApprovalStatus::sources(ApprovalStatus::Failed),
            [ApprovalStatus::Approved, ApprovalStatus::Executing]
        );
        let finals: Vec<_> = RunStatus::ALL.iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [
                &RunStatus::Completed,
                &RunStatus::Failed,
                &RunStatus::Cancelled,
                &RunStatus::Expired
            ]
        );
        assert_eq!(
            status_in(
                "status",
                &RunStatus::sources(RunStatus::Queued),
                RunStatus::as_str
            ),
            "0"
        );
        assert_eq!(
            status_in(
                "a.status",
                &[ApprovalStatus::Pending],
                ApprovalStatus::as_str
            ),
            "a.status IN ('pending')"
        );
    }

    /// The stored names are exactly the ones the migrations' CHECK constraints allow.
    #[test]
    fn stored_names_match_the_schema() {
        let runtime = include_str!("../migrations/workspace/0003_runtime.sql");
        let tools = include_str!("../migrations/workspace/0002_tools.sql");
        for s in RunStatus::ALL {
            assert!(runtime.contains(&format!("'{s}'")), "{s}");
            assert_eq!(RunStatus::parse(s.as_str()), Some(*s));
        }
        for s in ApprovalStatus::ALL {
            assert!(tools.contains(&format!("'{s}'")), "{s}");
        }
        for d in ApprovalDecision::ALL {
            assert!(tools.contains(&format!("'{d}'")), "{d}");
        }
    }
}
