//! The mapping of a decoded audit record to an OCSF 1.x event, the line format of `events.jsonl`
//! and of the server's SIEM query API.
//!
//! The input is an [`AuditRecord`]: a stored event after the core has opened its sealed fields
//! and resolved names. Erased subjects arrive with `[erased]` in place of what their key used to
//! open. The output is a JSON object that carries every attribute the schema requires for its
//! class (the crate's schema test checks that against the schema files), either as a
//! `serde_json::Value` ([`to_ocsf`]) or written straight into a byte buffer ([`write_ocsf`]).

mod classify;
mod event;
mod line;
mod shape;

use std::borrow::Cow;

pub use classify::{classify, Classification, OcsfClass, ALL_CLASSES};
pub use event::{to_ocsf, write_ocsf};
pub use line::{EventLine, EventMetadata, EventUnmapped};

/// The OCSF schema version the events are validated against (`metadata.version`).
pub const OCSF_VERSION: &str = "1.9.0-dev";

/// What stands in for a value whose data subject was erased (crypto-shredded).
pub const ERASED: &str = "[erased]";

/// A decoded audit event, ready to be expressed in OCSF.
///
/// Text is `Cow` so that an export can lend the stored row's fields and the opened values
/// instead of copying them for each of a million events; owned values work as well.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord<'a> {
    /// The chain's scope: a workspace id, or `instance`.
    pub scope: Cow<'a, str>,
    /// Position in the chain.
    pub seq: u64,
    /// UTC time in RFC 3339, as stored.
    pub time: Cow<'a, str>,
    /// Who acted.
    pub actor: Actor<'a>,
    /// Dotted action name, e.g. `auth.sign_in` or `tool.executed`.
    pub action: Cow<'a, str>,
    /// What the action was applied to (an id or a tool name), possibly empty.
    pub target: Cow<'a, str>,
    /// A person-readable name for the target when the core could resolve one.
    pub target_name: Option<Cow<'a, str>>,
    /// `allowed`, `denied`, `failed` or `pending`.
    pub outcome: Cow<'a, str>,
    /// Where the action came from.
    pub source: Source<'a>,
    /// Correlation: the agent run, or empty.
    pub run_id: Cow<'a, str>,
    /// Correlation: the step within the run, or empty.
    pub step_id: Cow<'a, str>,
    /// Correlation: the approval request, or empty.
    pub approval_id: Cow<'a, str>,
    /// The opened payload (`null` when there is none or it was erased).
    pub payload: Cow<'a, serde_json::Value>,
    /// The agent that acted, for agent tool calls.
    pub ai_agent: Option<AiAgent<'a>>,
}

/// The actor of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor<'a> {
    /// `user`, `agent`, `system` or `anonymous`.
    pub kind: Cow<'a, str>,
    /// Stable pseudonymous id, empty for anonymous actors.
    pub id: Cow<'a, str>,
    /// Resolved display name, or `[erased]`.
    pub name: Cow<'a, str>,
}

/// Where an event came from. Every field is optional, and any may be `[erased]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source<'a> {
    /// The client application: `desktop`, `cli`, `server`, …
    pub client: Option<Cow<'a, str>>,
    /// Host name of the machine.
    pub host: Option<Cow<'a, str>>,
    /// Operating-system account that ran the client.
    pub os_user: Option<Cow<'a, str>>,
    /// IP address, when the action arrived over a network.
    pub ip: Option<Cow<'a, str>>,
    /// HTTP user agent, when the action arrived over HTTP.
    pub user_agent: Option<Cow<'a, str>>,
}

/// The agent behind an agent action (`ai_agent` of the `ai_operation` profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiAgent<'a> {
    /// The agent's id.
    pub uid: Cow<'a, str>,
    /// The run id (one instance of the agent at work).
    pub instance_uid: Cow<'a, str>,
    /// The agent's name.
    pub name: Cow<'a, str>,
    /// The model backing the agent, if it has one (playbook agents run without).
    pub model: Option<AiModel<'a>>,
}

/// A model backing an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiModel<'a> {
    /// Model name, e.g. `llama3.1:8b`.
    pub name: Cow<'a, str>,
    /// Provider, e.g. `ollama`, `openai`.
    pub provider: Cow<'a, str>,
}

/// Why a record could not be expressed in OCSF.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OcsfError {
    /// The stored time is not RFC 3339.
    #[error(
        "audit event seq {seq} has time {time:?}, which is not RFC 3339; \
         the stored row is malformed and should be checked with `headmaster audit verify`"
    )]
    BadTime {
        /// The event's sequence number.
        seq: u64,
        /// The time as stored.
        time: String,
    },
}
