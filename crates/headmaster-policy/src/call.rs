//! The proposed call as the gate sees it: who proposes what, with which arguments.
//!
//! [`ProposedCall`] borrows everything, so the core can build one per decision from data it
//! already holds (the session's principal, the parsed arguments) without copying.

use crate::tier::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether a person or an agent proposes the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// A signed-in person.
    User,
    /// An agent acting in a run.
    Agent,
}

/// Who proposes the call. The core builds this once per session or agent and reuses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    /// The user or agent id.
    pub id: String,
    /// User or agent.
    pub kind: PrincipalKind,
    /// The built-in role that role nesting is judged on (for a custom role, the highest
    /// built-in role whose capabilities it holds; for an agent, the role it acts with).
    pub role: Role,
    /// The role's name as configured (equal to `role`'s name unless it is a custom role).
    pub role_name: String,
    /// Groups the principal belongs to, e.g. `contractors`.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Further attributes, e.g. `suspended: true`, `oncall: true`.
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

impl Principal {
    /// A user with a built-in role and no groups or attributes.
    pub fn user(id: impl Into<String>, role: Role) -> Self {
        Self::new(id.into(), PrincipalKind::User, role)
    }

    /// An agent acting with a built-in role.
    pub fn agent(id: impl Into<String>, role: Role) -> Self {
        Self::new(id.into(), PrincipalKind::Agent, role)
    }

    /// Adds a group membership.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// Sets an attribute.
    pub fn with_attribute(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.attributes.insert(name.into(), value);
        self
    }

    /// Replaces the role name (for custom roles), keeping `role` for nesting.
    pub fn with_role_name(mut self, name: impl Into<String>) -> Self {
        self.role_name = name.into();
        self
    }

    fn new(id: String, kind: PrincipalKind, role: Role) -> Self {
        Principal {
            id,
            kind,
            role,
            role_name: role.title().to_owned(),
            groups: Vec::new(),
            attributes: BTreeMap::new(),
        }
    }
}

/// One proposed tool call, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct ProposedCall<'a> {
    /// Tool name, e.g. `email`.
    pub tool: &'a str,
    /// Action name, e.g. `send`.
    pub action: &'a str,
    /// The call's arguments, normally a JSON object.
    pub args: &'a serde_json::Value,
    /// Who proposes it.
    pub principal: &'a Principal,
    /// Set by the core when this particular call leaves the workspace even though the action
    /// does not always do so (for example an HTTP call to a host outside the allowlist).
    pub crosses_boundary: bool,
}

impl<'a> ProposedCall<'a> {
    /// A call that crosses the boundary only if its action does.
    pub fn new(
        tool: &'a str,
        action: &'a str,
        args: &'a serde_json::Value,
        principal: &'a Principal,
    ) -> Self {
        ProposedCall {
            tool,
            action,
            args,
            principal,
            crosses_boundary: false,
        }
    }
}
