//! The pure policy decision at the heart of Headmaster's approval gate:
//! `(workspace policy, proposed call) -> Decision`, with human-readable reasons.
//!
//! No I/O, no clock, no database: the core builds a [`WorkspacePolicy`] from stored settings,
//! compiles it once with [`CompiledPolicy::new`], and asks [`CompiledPolicy::decide`] (or
//! [`CompiledPolicy::decide_with_grants`]) for every proposed call.
//!
//! - Tiers map to decisions: low → Allow, medium → NeedsConfirmation, high →
//!   NeedsApproval{1}, critical → NeedsApproval{2}; disabled or unknown actions → Deny.
//! - Rules raise, lower (inside the boundary only), deny or permit; the strictest effect wins
//!   and a boundary-crossing call is never below medium.
//! - Shell command lines are parsed ([`shell`]) and every program a line can start is judged
//!   by a built-in table: a line is low only when each one is known to be safe for that use
//!   (read-only inspection, workspace-local text tools), unknown programs are at least medium,
//!   code the engine cannot read high, network access critical; what cannot be parsed is
//!   critical. No rule takes a line below its judgement.
//! - Standing grants ([`Grant`]) turn medium and high calls into Allow, never deny or critical.
//! - Rules are JSON (serde) or a compact one-line syntax ([`Rule::parse`]); every rule can
//!   [`describe`](Rule::describe) itself in one line.

mod args;
mod call;
mod compile;
mod cond;
mod condition;
mod defaults;
mod describe;
mod error;
mod eval;
mod explain;
mod glob;
pub mod grant;
mod model;
pub mod shell;
mod syntax;
mod tier;
mod truth;

pub use call::{Principal, PrincipalKind, ProposedCall};
pub use compile::CompiledPolicy;
pub use condition::{
    CmpOp, CommandMatch, Compare, Condition, DomainTest, PathTest, RedirectMatch, RoleTest,
    TextTest,
};
pub use defaults::default_policy;
pub use error::PolicyError;
pub use eval::Assessment;
pub use explain::Verdict;
pub use grant::{ArgPattern, Grant, GrantError, GrantSpec, MAX_GRANT_LIFETIME_MS};
pub use model::{ActionPolicy, Effect, Rule, Target, WorkspacePolicy};
pub use tier::{Decision, Role, Tier};
