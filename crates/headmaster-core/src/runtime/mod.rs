//! The agent runtime: agents, durable runs, providers (playbook and OpenAI-compatible),
//! delegation, heartbeats, memory for context, drafts.
//!
//! A run is a state machine stored (sealed) in the workspace database:
//! queued → running → waiting_confirmation / waiting_approval / waiting_child → running →
//! completed / failed / cancelled / expired. Its checkpoint is written after every step, so a
//! run continues after a restart from where it stopped. Every tool call goes through the same
//! gate as a person's (`propose_call`), with the agent as the actor and the person who started
//! the run as the one on whose behalf it acts; boundary-crossing calls therefore always pass an
//! approval, and the approval's status is the idempotency key that keeps them from running
//! twice.

mod agents;
mod chat;
mod drafts;
mod engine;
mod lease;
mod memory;
mod pass;
pub mod playbook;
mod record;
mod resume;
mod runs;
mod template;

use serde::{Deserialize, Serialize};

pub use crate::states::RunStatus;
pub use agents::AgentSummary;
pub use drafts::{DraftDetail, DraftSummary};
pub use engine::HEARTBEAT;
pub use memory::MemoryEntry;
pub(crate) use pass::Slots;
pub use pass::{Pass, WorkspaceProblem};
pub use playbook::{Playbook, PlaybookError};
pub use runs::{RunDetail, RunStep, RunSummary};

/// How an agent decides its next step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderConfig {
    /// A declarative playbook: no model, fully offline.
    Playbook {
        /// The playbook.
        playbook: Playbook,
    },
    /// An OpenAI-compatible chat-completions endpoint with tool calling (Ollama, llama.cpp
    /// server, vLLM, OpenAI).
    OpenAi {
        /// Base URL, e.g. `http://127.0.0.1:11434/v1`.
        base_url: String,
        /// Model name.
        model: String,
        /// Credential holding the API key, if the endpoint needs one.
        #[serde(default)]
        api_key_credential: Option<String>,
        /// Per-request timeout, seconds.
        #[serde(default = "default_timeout")]
        timeout_seconds: u64,
    },
}

fn default_timeout() -> u64 {
    60
}

/// An agent definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct AgentDefinition {
    /// Name (unique in the workspace).
    pub name: String,
    /// Instructions (the system prompt for model agents).
    #[serde(default)]
    pub instructions: String,
    /// Provider.
    pub provider: ProviderConfig,
    /// Actions it may propose (a subset of the workspace's enabled tools at run time).
    pub tools: Vec<String>,
    /// Memory keys it loads start with this prefix (empty: all).
    #[serde(default)]
    pub memory_scope: String,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
}

/// Run limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(default)]
pub struct Limits {
    /// Most steps.
    pub max_steps: u32,
    /// Most model tokens (model agents).
    pub max_tokens: u64,
    /// Wall time from start, seconds.
    pub wall_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_steps: 50,
            max_tokens: 200_000,
            wall_seconds: 24 * 3600,
        }
    }
}

/// The example playbooks shipped with Headmaster: (file name, TOML).
pub const EXAMPLE_PLAYBOOKS: &[(&str, &str)] = &[
    (
        "weekly-client-update.toml",
        include_str!("../../../../playbooks/weekly-client-update.toml"),
    ),
    (
        "triage-folder.toml",
        include_str!("../../../../playbooks/triage-folder.toml"),
    ),
];

#[cfg(test)]
mod examples {
    #[test]
    fn the_example_playbooks_parse() {
        for (name, text) in super::EXAMPLE_PLAYBOOKS {
            super::Playbook::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
