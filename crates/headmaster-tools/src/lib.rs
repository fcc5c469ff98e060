//! Tool executors, each confined to its boundary.
//!
//! This crate knows how to *run* a tool action safely; it does not decide *whether* it may run.
//! The core wraps every action in the catalog (enabled or not), the permission checks, the
//! approval gate, credential loading and the audit log. What lives here:
//!
//! - [`mod@catalog`]: the machine-readable description of every action (name, summary, whether it
//!   crosses the trust boundary, a JSON-Schema-like description of its arguments).
//! - [`ToolCall`]: parses and validates the arguments of one action, and [`ToolContext`]
//!   computes what a reviewer must see ([`AffectedResources`]) and executes the call.
//! - [`files`]: `file.read` / `file.write` / `file.list` inside the workspace files folder,
//!   walked one component at a time without following links.
//! - [`http`]: `http.get` / `http.head` and the mutating methods, with a host allowlist and an
//!   SSRF defence that checks every resolved address and pins the connection to them.
//! - [`email`]: `email.send` over SMTP.
//! - [`secret`]: `{{credential:NAME}}` references, substitution at execution only, and the
//!   [`Scrubber`] that keeps secret values out of outputs and errors.
//!
//! The shell tool is deliberately absent: `headmaster-sandbox` runs commands and the core wraps it.

pub mod catalog;
pub mod email;
pub mod files;
pub mod http;
pub mod secret;

mod call;
mod error;

pub use call::{AffectedResources, ToolCall, ToolContext, ToolOutput};
pub use catalog::{catalog, Action, ActionSpec};
pub use error::{ArgError, ToolError};
pub use secret::{
    references, substitute, CredentialError, CredentialResolver, CredentialSet, Scrubber,
    SecretValue,
};
