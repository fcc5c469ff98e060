//! Checking a [`WorkspacePolicy`] and turning it into a [`CompiledPolicy`] that decides fast.
//!
//! Compilation interns tool and action names into indices, expands rule targets (tools,
//! groups, `*`) into a per-action list of rule indices, normalises folders and compiles
//! `*`-patterns once. Deciding then costs a hash lookup and a walk over the few rules that
//! concern the action, with no allocation unless a path needs normalising or a shell command
//! line is parsed.

use crate::cond::{compile_condition, Cond, FieldTable};
use crate::condition::Condition;
use crate::model::{Effect, Target, WorkspacePolicy};
use crate::tier::Tier;
use crate::PolicyError;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A checked policy, ready to decide. Build it once per policy change and share it.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) tools: ToolIndex,
    pub(crate) actions: Vec<CompiledAction>,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) own_domains: Vec<String>,
    pub(crate) source: WorkspacePolicy,
}

/// Tool name to its actions' names and indices. A tool has a handful of actions, so a short
/// linear scan after the hash lookup is cheaper than a second map.
pub(crate) type ToolIndex = HashMap<Box<str>, Vec<(Box<str>, u32)>, BuildHasherDefault<Fnv>>;

#[derive(Debug, Clone)]
pub(crate) struct CompiledAction {
    pub(crate) key: String,
    pub(crate) enabled: bool,
    pub(crate) tier: Tier,
    pub(crate) crosses: bool,
    pub(crate) command_arg: Option<String>,
    /// Rules in policy order, for explanations.
    pub(crate) rules: Vec<u32>,
    /// The same rules in the order the fast path wants them: denies first (they end the
    /// walk), then raises from the highest tier down (a raise at or below the tier already
    /// reached can be skipped), then lowers, then permits (skipped after the first match).
    pub(crate) fast: Vec<u32>,
    pub(crate) has_permits: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) id: String,
    pub(crate) effect: Effect,
    pub(crate) when: Vec<Cond>,
    /// Index into the source policy's rules, for descriptions.
    pub(crate) source: usize,
}

impl CompiledPolicy {
    /// Checks `policy` and compiles it. Fails on malformed action keys, duplicate or empty
    /// rule ids, targets or group members that name nothing, shell conditions on actions that
    /// take no command line, and rules that lower an always-crossing action.
    pub fn new(policy: &WorkspacePolicy) -> Result<Self, PolicyError> {
        let mut tools = ToolIndex::default();
        let mut actions = Vec::with_capacity(policy.actions.len());
        for (key, ap) in &policy.actions {
            let Ok(Target::Action { tool, action }) = key.parse::<Target>() else {
                return Err(PolicyError::BadActionKey(key.clone()));
            };
            let index = actions.len() as u32;
            tools
                .entry(tool.into_boxed_str())
                .or_default()
                .push((action.into_boxed_str(), index));
            actions.push(CompiledAction {
                key: key.clone(),
                enabled: ap.enabled,
                tier: ap.tier,
                crosses: ap.crosses_boundary,
                command_arg: ap.command_arg.clone(),
                rules: Vec::new(),
                fast: Vec::new(),
                has_permits: false,
            });
        }
        let mut compiled = CompiledPolicy {
            tools,
            actions,
            rules: Vec::with_capacity(policy.rules.len()),
            own_domains: policy
                .own_domains
                .iter()
                .map(|d| d.trim().to_owned())
                .collect(),
            source: policy.clone(),
        };
        compiled.check_groups(policy)?;
        let mut fields = FieldTable::default();
        let mut ids = HashSet::new();
        for (source, rule) in policy.rules.iter().enumerate() {
            check_rule_id(&rule.id)?;
            if !ids.insert(rule.id.as_str()) {
                return Err(PolicyError::DuplicateRule(rule.id.clone()));
            }
            let targets = compiled.expand(&rule.target, policy, &rule.id)?;
            let uses_shell = rule.when.iter().any(uses_shell);
            for &t in &targets {
                let action = &compiled.actions[t as usize];
                let exact = matches!(rule.target, Target::Action { .. });
                if exact && uses_shell && action.command_arg.is_none() {
                    return Err(PolicyError::CommandWithoutShell {
                        rule: rule.id.clone(),
                        action: action.key.clone(),
                    });
                }
                if exact && action.crosses && matches!(rule.effect, Effect::Lower(_)) {
                    return Err(PolicyError::LowerOnCrossing {
                        rule: rule.id.clone(),
                        action: action.key.clone(),
                    });
                }
            }
            let index = compiled.rules.len() as u32;
            for &t in &targets {
                let action = &mut compiled.actions[t as usize];
                action.rules.push(index);
                action.has_permits |= rule.effect == Effect::Permit;
            }
            compiled.rules.push(CompiledRule {
                id: rule.id.clone(),
                effect: rule.effect,
                when: rule
                    .when
                    .iter()
                    .map(|c| compile_condition(c, &mut fields))
                    .collect(),
                source,
            });
        }
        for action in &mut compiled.actions {
            let mut fast = action.rules.clone();
            let rules = &compiled.rules;
            fast.sort_by_key(|&r| match rules[r as usize].effect {
                Effect::Deny => (0, 0),
                Effect::Raise(t) => (1, 3 - t as u8),
                Effect::Lower(_) => (2, 0),
                Effect::Permit => (3, 0),
            });
            action.fast = fast;
        }
        Ok(compiled)
    }

    /// The policy this was compiled from.
    pub fn source(&self) -> &WorkspacePolicy {
        &self.source
    }

    pub(crate) fn lookup(&self, tool: &str, action: &str) -> Option<usize> {
        let entries = self.tools.get(tool)?;
        entries
            .iter()
            .find(|(name, _)| &**name == action)
            .map(|&(_, i)| i as usize)
    }

    fn check_groups(&self, policy: &WorkspacePolicy) -> Result<(), PolicyError> {
        for (group, members) in &policy.groups {
            for member in members {
                if self.member_actions(member).is_empty() {
                    return Err(PolicyError::UnknownGroupMember {
                        group: group.clone(),
                        member: member.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn member_actions(&self, member: &str) -> Vec<u32> {
        match member.split_once('.') {
            Some((tool, action)) => self
                .lookup(tool, action)
                .map(|i| vec![i as u32])
                .unwrap_or_default(),
            None => self
                .tools
                .get(member)
                .map(|e| e.iter().map(|&(_, i)| i).collect())
                .unwrap_or_default(),
        }
    }

    fn expand(
        &self,
        target: &Target,
        policy: &WorkspacePolicy,
        rule: &str,
    ) -> Result<Vec<u32>, PolicyError> {
        let mut out: Vec<u32> = match target {
            Target::Any => (0..self.actions.len() as u32).collect(),
            Target::Tool(t) => self.member_actions(t),
            Target::Action { tool, action } => self.member_actions(&format!("{tool}.{action}")),
            Target::Group(g) => policy
                .groups
                .get(g)
                .map(|members| {
                    members
                        .iter()
                        .flat_map(|m| self.member_actions(m))
                        .collect()
                })
                .unwrap_or_default(),
        };
        out.sort_unstable();
        out.dedup();
        if out.is_empty() && *target != Target::Any {
            return Err(PolicyError::UnknownTarget {
                rule: rule.to_owned(),
                target: target.to_string(),
            });
        }
        Ok(out)
    }
}

fn check_rule_id(id: &str) -> Result<(), PolicyError> {
    if id.is_empty() {
        return Err(PolicyError::EmptyRuleId);
    }
    let ok = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(PolicyError::BadRuleId(id.to_owned()))
    }
}

fn uses_shell(c: &Condition) -> bool {
    match c {
        Condition::Command(_) | Condition::Redirect(_) => true,
        Condition::Not(inner) => uses_shell(inner),
        Condition::Any(cs) | Condition::All(cs) => cs.iter().any(uses_shell),
        _ => false,
    }
}

/// FNV-1a: tool names are a handful of short ASCII strings chosen by the workspace's Admin,
/// so a fast non-cryptographic hash is enough and beats SipHash on the hot path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
