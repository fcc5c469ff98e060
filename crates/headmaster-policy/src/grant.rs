//! Standing grants: "allow this action, with arguments matching this pattern, for this agent
//! or user, for up to 24 hours".
//!
//! A grant turns a call that would wait for a confirmation or one Approver (medium or high)
//! into an immediate Allow, and the verdict names the grant so the core can audit its use.
//! It never overrides a Deny, and it never applies to critical calls: critical means "two
//! distinct people must look at this exact call", and a standing grant is one person's
//! decision made in advance, so honouring it would silently drop the second Approver.
//!
//! Grants are pure data here; the core stores, lists, revokes and audits them.

use crate::glob::Glob;
use crate::ProposedCall;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The longest a grant may live: 24 hours, in milliseconds.
pub const MAX_GRANT_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// A pattern for one top-level argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgPattern {
    /// The argument equals this JSON value exactly.
    Exact(Value),
    /// The argument is a string matching this `*`-pattern, or a non-empty list of strings
    /// that all match it (`*@acme.com` for every recipient).
    Like(String),
}

impl ArgPattern {
    fn matches(&self, value: &Value) -> bool {
        match self {
            ArgPattern::Exact(expected) => expected == value,
            ArgPattern::Like(pattern) => {
                let glob = Glob::new(pattern, false);
                match value {
                    Value::String(s) => glob.matches(s),
                    Value::Array(items) => {
                        !items.is_empty()
                            && items
                                .iter()
                                .all(|i| i.as_str().is_some_and(|s| glob.matches(s)))
                    }
                    _ => false,
                }
            }
        }
    }
}

/// What an Approver asks for when creating a grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantSpec {
    /// The grant's id (the core uses a UUIDv7).
    pub id: String,
    /// Tool name, e.g. `email`.
    pub tool: String,
    /// Action name, e.g. `send`.
    pub action: String,
    /// The user or agent id the grant is for.
    pub principal: String,
    /// Patterns per top-level argument; arguments not listed may have any value.
    #[serde(default)]
    pub args: BTreeMap<String, ArgPattern>,
    /// When the grant expires (unix milliseconds).
    pub expires_at: i64,
}

/// A standing grant. Built only through [`Grant::new`], which enforces the 24-hour limit;
/// [`Grant::matches`] checks the limit again so a tampered stored grant is worthless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    id: String,
    tool: String,
    action: String,
    principal: String,
    args: BTreeMap<String, ArgPattern>,
    created_at: i64,
    expires_at: i64,
    revoked: bool,
}

/// A grant that cannot be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The requested lifetime exceeds 24 hours.
    #[error("a grant may last at most 24 hours; this one would last {requested_ms} ms — choose an earlier expiry")]
    TooLong {
        /// Requested lifetime in milliseconds.
        requested_ms: i64,
    },
    /// The expiry is not in the future.
    #[error("the grant's expiry is not in the future; choose an expiry up to 24 hours from now")]
    AlreadyExpired,
    /// A required field is empty.
    #[error("the grant's {0} is empty; name the tool, action and principal it is for")]
    Empty(&'static str),
}

impl Grant {
    /// Creates a grant at `now_ms`, refusing lifetimes beyond [`MAX_GRANT_LIFETIME_MS`].
    pub fn new(spec: GrantSpec, now_ms: i64) -> Result<Grant, GrantError> {
        for (name, value) in [
            ("id", &spec.id),
            ("tool", &spec.tool),
            ("action", &spec.action),
            ("principal", &spec.principal),
        ] {
            if value.trim().is_empty() {
                return Err(GrantError::Empty(name));
            }
        }
        let lifetime = spec.expires_at.saturating_sub(now_ms);
        if lifetime <= 0 {
            return Err(GrantError::AlreadyExpired);
        }
        if lifetime > MAX_GRANT_LIFETIME_MS {
            return Err(GrantError::TooLong {
                requested_ms: lifetime,
            });
        }
        Ok(Grant {
            id: spec.id,
            tool: spec.tool,
            action: spec.action,
            principal: spec.principal,
            args: spec.args,
            created_at: now_ms,
            expires_at: spec.expires_at,
            revoked: false,
        })
    }

    /// The grant's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `tool.action`.
    pub fn action_key(&self) -> String {
        format!("{}.{}", self.tool, self.action)
    }

    /// The user or agent id it is for.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The argument patterns.
    pub fn args(&self) -> &BTreeMap<String, ArgPattern> {
        &self.args
    }

    /// Creation time (unix ms).
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// Expiry time (unix ms).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Whether it has been revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked
    }

    /// Revokes the grant; it never matches again.
    pub fn revoke(&mut self) {
        self.revoked = true;
    }

    /// Not revoked, not expired at `now_ms`, and within the 24-hour limit.
    pub fn is_active(&self, now_ms: i64) -> bool {
        !self.revoked
            && now_ms >= self.created_at
            && now_ms < self.expires_at
            && self.expires_at - self.created_at <= MAX_GRANT_LIFETIME_MS
    }

    /// True when the grant is active and covers this call: same tool, action and principal,
    /// and every listed argument present and matching its pattern.
    pub fn matches(&self, call: &ProposedCall<'_>, now_ms: i64) -> bool {
        self.is_active(now_ms)
            && self.tool == call.tool
            && self.action == call.action
            && self.principal == call.principal.id
            && self
                .args
                .iter()
                .all(|(name, pattern)| call.args.get(name).is_some_and(|v| pattern.matches(v)))
    }
}
