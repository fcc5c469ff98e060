//! The workspace policy as an Admin edits it and the core stores it (sealed, as JSON).
//!
//! A policy lists every catalogued action with its tier, names the workspace's own email
//! domains and tool groups, and holds an ordered list of rules. This is plain data; compiling
//! it (`CompiledPolicy::new`) checks it and prepares it for fast decisions.

use crate::condition::Condition;
use crate::tier::Tier;
use crate::PolicyError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Everything the gate needs to know about one workspace.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkspacePolicy {
    /// The workspace's own email domains; recipients elsewhere are "outside".
    #[serde(default)]
    pub own_domains: Vec<String>,
    /// Every catalogued action, keyed `tool.action`. Actions not listed are unknown and denied.
    pub actions: BTreeMap<String, ActionPolicy>,
    /// Named tool groups; members are tools (`email`) or actions (`email.send`).
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
    /// Argument rules, in order. Order only affects the order of reasons: the strictest effect
    /// wins regardless of position.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One action's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPolicy {
    /// Disabled actions are denied. Every action starts disabled until an Admin enables it.
    pub enabled: bool,
    /// The tier before rules.
    pub tier: Tier,
    /// The action always leaves the workspace (email, HTTP); it is never below medium.
    #[serde(default)]
    pub crosses_boundary: bool,
    /// The argument holding a POSIX-sh command line (shell tools). It is parsed for every call;
    /// a line that cannot be parsed is judged critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_arg: Option<String>,
}

impl ActionPolicy {
    /// A disabled action with this tier that stays inside the workspace.
    pub fn inside(tier: Tier) -> Self {
        ActionPolicy {
            enabled: false,
            tier,
            crosses_boundary: false,
            command_arg: None,
        }
    }

    /// A disabled action with this tier that crosses the workspace boundary.
    pub fn crossing(tier: Tier) -> Self {
        ActionPolicy {
            crosses_boundary: true,
            ..Self::inside(tier)
        }
    }
}

/// One argument rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id, named in reasons and audits.
    pub id: String,
    /// Which calls the rule looks at.
    pub target: Target,
    /// Conditions that must all hold; empty means always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Condition>,
    /// What happens when they do.
    pub effect: Effect,
    /// A short human explanation shown in reasons, e.g. "network tool".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Rule {
    /// Parses a rule from its JSON form (what `headmaster tool add-rule` accepts).
    pub fn from_json(text: &str) -> Result<Rule, PolicyError> {
        serde_json::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))
    }
}

/// What a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Target {
    /// Every action (`*`).
    Any,
    /// Every action of a tool (`email`).
    Tool(String),
    /// One action (`email.send`).
    Action {
        /// Tool name.
        tool: String,
        /// Action name.
        action: String,
    },
    /// Every member of a tool group (`group:comms`).
    Group(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Any => f.write_str("*"),
            Target::Tool(t) => f.write_str(t),
            Target::Action { tool, action } => write!(f, "{tool}.{action}"),
            Target::Group(g) => write!(f, "group:{g}"),
        }
    }
}

impl std::str::FromStr for Target {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "*" {
            return Ok(Target::Any);
        }
        if let Some(group) = s.strip_prefix("group:") {
            return valid_name(group, s).map(|g| Target::Group(g.to_owned()));
        }
        match s.split_once('.') {
            Some((tool, action)) => Ok(Target::Action {
                tool: valid_name(tool, s)?.to_owned(),
                action: valid_name(action, s)?.to_owned(),
            }),
            None => valid_name(s, s).map(|t| Target::Tool(t.to_owned())),
        }
    }
}

impl TryFrom<String> for Target {
    type Error = PolicyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Target> for String {
    fn from(t: Target) -> String {
        t.to_string()
    }
}

/// What a rule does when its conditions hold. The strictest effect over all matching rules
/// wins: deny > critical > high > medium > low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Raise the tier to at least this.
    Raise(Tier),
    /// Lower the action's base tier to this (never raises it). Ignored, with a reason, for
    /// calls that cross the workspace boundary. Raises from other rules still apply on top.
    Lower(Tier),
    /// Refuse the call.
    Deny,
    /// Allow-list entry: once any permit rule targets an action, calls to it that match no
    /// permit rule are denied (Cedar's permit semantics). A matching permit does not change
    /// the tier.
    Permit,
}

impl WorkspacePolicy {
    /// Enables or disables `tool` (all its actions) or one `tool.action`; returns how many
    /// actions changed.
    pub fn set_enabled(&mut self, target: &str, enabled: bool) -> Result<usize, PolicyError> {
        self.edit_actions(target, |a| {
            let changed = a.enabled != enabled;
            a.enabled = enabled;
            changed
        })
    }

    /// Sets the base tier of `tool` (all its actions) or one `tool.action`; returns how many
    /// actions changed.
    pub fn set_tier(&mut self, target: &str, tier: Tier) -> Result<usize, PolicyError> {
        self.edit_actions(target, |a| {
            let changed = a.tier != tier;
            a.tier = tier;
            changed
        })
    }

    /// Appends a rule after checking that the policy still compiles with it.
    pub fn add_rule(&mut self, rule: Rule) -> Result<(), PolicyError> {
        let mut candidate = self.clone();
        candidate.rules.push(rule);
        crate::CompiledPolicy::new(&candidate)?;
        *self = candidate;
        Ok(())
    }

    /// Removes the rule with this id and returns it.
    pub fn remove_rule(&mut self, id: &str) -> Result<Rule, PolicyError> {
        let at = self
            .rules
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| PolicyError::NoSuchRule(id.to_owned()))?;
        Ok(self.rules.remove(at))
    }

    fn edit_actions(
        &mut self,
        target: &str,
        mut edit: impl FnMut(&mut ActionPolicy) -> bool,
    ) -> Result<usize, PolicyError> {
        let target: Target = target.parse()?;
        let mut seen = 0;
        let mut changed = 0;
        for (key, action) in self.actions.iter_mut() {
            let (tool, name) = key.split_once('.').unwrap_or((key, ""));
            let hit = match &target {
                Target::Tool(t) => t == tool,
                Target::Action { tool: t, action: a } => t == tool && a == name,
                Target::Any | Target::Group(_) => false,
            };
            if hit {
                seen += 1;
                changed += usize::from(edit(action));
            }
        }
        if seen == 0 {
            return Err(PolicyError::UnknownTarget {
                rule: "(tool setting)".to_owned(),
                target: target.to_string(),
            });
        }
        Ok(changed)
    }
}

fn valid_name<'a>(name: &'a str, whole: &str) -> Result<&'a str, PolicyError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(name)
    } else {
        Err(PolicyError::BadActionKey(whole.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_through_their_string_form() {
        for text in ["*", "email", "email.send", "group:comms"] {
            let t: Target = text.parse().unwrap();
            assert_eq!(t.to_string(), text);
        }
        assert!("email.".parse::<Target>().is_err());
        assert!("e mail".parse::<Target>().is_err());
    }

    #[test]
    fn set_enabled_flips_a_whole_tool_or_one_action_and_rejects_unknown_ones() {
        let mut p = WorkspacePolicy::default();
        p.actions
            .insert("file.read".into(), ActionPolicy::inside(Tier::Low));
        p.actions
            .insert("file.write".into(), ActionPolicy::inside(Tier::Low));
        assert_eq!(p.set_enabled("file", true).unwrap(), 2);
        assert_eq!(p.set_enabled("file.write", false).unwrap(), 1);
        assert!(!p.actions["file.write"].enabled && p.actions["file.read"].enabled);
        assert!(p.set_enabled("email", true).is_err());
    }

    #[test]
    fn remove_rule_reports_a_missing_id() {
        let mut p = WorkspacePolicy::default();
        assert_eq!(
            p.remove_rule("r9"),
            Err(PolicyError::NoSuchRule("r9".into()))
        );
    }
}
