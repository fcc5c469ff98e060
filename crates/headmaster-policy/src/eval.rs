//! Walking a compiled policy for one call: find the action, parse and judge its command line,
//! apply every rule that concerns it, and combine the effects.
//!
//! Conditions have three outcomes (see `truth`). Restrictive effects (raise, deny) apply on
//! true or unknown; permissive ones (lower, permit) only on true. That one rule is what makes
//! every policy fail closed.
//!
//! A shell command line is a floor of its own: the built-in judgement (`shell::judge`) gives
//! the least tier each program it can start may run at, and the line's tier is raised to the
//! highest of them after `lower` rules, the way a line that cannot be parsed is raised to
//! critical. No rule takes a line below its judgement; a standing grant may still allow a
//! medium or high line, never a critical one (see `explain`).
//!
//! The walk is generic over a [`Sink`]: the fast path ([`CompiledPolicy::assess`]) uses a
//! sink that does nothing and compiles to no code, the explaining path collects reasons.

use crate::compile::{CompiledAction, CompiledPolicy, CompiledRule};
use crate::model::Effect;
use crate::shell::judge::{self, Finding};
use crate::shell::{self, SimpleCommand};
use crate::tier::{Decision, Tier};
use crate::truth::{all, Ctx, ShellState, Truth};
use crate::ProposedCall;
use serde_json::Value;

/// The outcome of [`CompiledPolicy::assess`]: the decision and the effective tier (none when
/// denied), without reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    /// What the gate does.
    pub decision: Decision,
    /// The effective tier; `None` when the call is denied.
    pub tier: Option<Tier>,
}

impl Assessment {
    fn deny() -> Self {
        Assessment {
            decision: Decision::Deny,
            tier: None,
        }
    }
}

/// Observes the evaluation; the default methods do nothing.
pub(crate) trait Sink {
    /// False for the fast path, which may stop at the first deny.
    const EXPLAINS: bool;
    fn unknown_action(&mut self, _call: &ProposedCall<'_>) {}
    fn disabled(&mut self, _action: &CompiledAction) {}
    fn start(&mut self, _action: &CompiledAction, _ctx: &Ctx<'_>) {}
    /// One finding of the shell judgement, about `cmd`.
    fn judged(&mut self, _cmd: &SimpleCommand, _finding: &Finding<'_>) {}
    /// The shell judgement of the whole line: the highest tier of its findings.
    fn judgement(&mut self, _commands: usize, _floor: Tier) {}
    fn applied(&mut self, _rule: &CompiledRule, _truth: Truth, _ctx: &Ctx<'_>) {}
    fn lower_ignored(&mut self, _rule: &CompiledRule) {}
    fn no_permit(&mut self, _action: &CompiledAction) {}
    fn finish(&mut self, _action: &CompiledAction, _result: &Assessment, _floored: bool) {}
}

/// The sink of the fast path.
pub(crate) struct Silent;

impl Sink for Silent {
    const EXPLAINS: bool = false;
}

impl CompiledPolicy {
    /// Decides without building reasons: the hot path, allocation-free unless a path must be
    /// normalised or a shell command line parsed.
    pub fn assess(&self, call: &ProposedCall<'_>) -> Assessment {
        self.evaluate(call, &mut Silent)
    }

    pub(crate) fn evaluate<S: Sink>(&self, call: &ProposedCall<'_>, sink: &mut S) -> Assessment {
        let Some(index) = self.lookup(call.tool, call.action) else {
            sink.unknown_action(call);
            return Assessment::deny();
        };
        let action = &self.actions[index];
        if !action.enabled {
            sink.disabled(action);
            return Assessment::deny();
        }
        let shell = match &action.command_arg {
            None => ShellState::NotShell,
            Some(field) => match call.args.get(field).and_then(Value::as_str) {
                Some(line) => match shell::parse(line) {
                    Ok(parsed) => ShellState::Parsed(parsed),
                    Err(e) => ShellState::Unparseable(e),
                },
                None => ShellState::Missing,
            },
        };
        let ctx = Ctx {
            call,
            crosses: action.crosses || call.crosses_boundary,
            own_domains: &self.own_domains,
            shell,
            fields: Default::default(),
        };
        sink.start(action, &ctx);
        // A command line that cannot be judged is critical: two Approvers read it instead.
        // One that can is at least as high as the strictest program it can start.
        let mut raise = match &ctx.shell {
            ShellState::Unparseable(_) | ShellState::Missing => Tier::Critical,
            ShellState::Parsed(line) => {
                let floor = judge::floor(line, &mut |cmd, finding| sink.judged(cmd, finding));
                sink.judgement(line.commands.len(), floor);
                floor
            }
            ShellState::NotShell => Tier::Low,
        };
        let mut lowered: Option<Tier> = None;
        let mut denied = false;
        let mut permitted = false;
        let order = if S::EXPLAINS {
            &action.rules
        } else {
            &action.fast
        };
        for &r in order {
            let rule = &self.rules[r as usize];
            // The fast path skips rules that cannot change the outcome any more.
            if !S::EXPLAINS {
                let moot = match rule.effect {
                    Effect::Raise(tier) => tier <= raise,
                    Effect::Lower(_) => ctx.crosses,
                    Effect::Permit => permitted,
                    Effect::Deny => false,
                };
                if moot {
                    continue;
                }
            }
            let truth = all(&rule.when, &ctx);
            match rule.effect {
                Effect::Deny if truth != Truth::False => {
                    denied = true;
                    sink.applied(rule, truth, &ctx);
                    if !S::EXPLAINS {
                        return Assessment::deny();
                    }
                }
                Effect::Raise(tier) if truth != Truth::False => {
                    raise = raise.max(tier);
                    sink.applied(rule, truth, &ctx);
                }
                Effect::Lower(tier) if truth == Truth::True => {
                    if ctx.crosses {
                        sink.lower_ignored(rule);
                    } else {
                        lowered = Some(lowered.map_or(tier, |l| l.max(tier)));
                        sink.applied(rule, truth, &ctx);
                    }
                }
                Effect::Permit if truth == Truth::True => {
                    permitted = true;
                    sink.applied(rule, truth, &ctx);
                }
                _ => {}
            }
        }
        if action.has_permits && !permitted {
            sink.no_permit(action);
            denied = true;
        }
        let result = if denied {
            Assessment::deny()
        } else {
            let base = lowered.map_or(action.tier, |l| l.min(action.tier));
            let tier = base.max(raise);
            let floored = ctx.crosses && tier < Tier::Medium;
            let tier = if floored { Tier::Medium } else { tier };
            let result = Assessment {
                decision: tier.decision(),
                tier: Some(tier),
            };
            sink.finish(action, &result, floored);
            return result;
        };
        sink.finish(action, &result, false);
        result
    }
}
