//! Tools: the catalog (deny by default), per-workspace configuration and policy, credentials,
//! the core's own actions (memory, drafts, sandboxed shell), and the single call pipeline.

pub(crate) mod admin;
pub(crate) mod builtin;
pub(crate) mod call;
pub mod canonical;
pub(crate) mod catalog;
pub mod config;
mod credentials;

pub use admin::{RuleSummary, ToolStatus, ToolsOverview};
pub use builtin::ShellResult;
pub use call::{CallOutcome, CallRequest, Proposer};
pub use catalog::{catalog, CatalogEntry};
pub use config::{ShellSettings, ToolConfig};
pub use credentials::CredentialSummary;
pub use headmaster_policy::Tier;
