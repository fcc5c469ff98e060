//! Verdicts with human-readable reasons, and the application of standing grants.
//!
//! [`CompiledPolicy::decide`] runs the same walk as the fast path with a sink that writes one
//! sentence per fact that shaped the decision: the action's base tier, the shell judgement of
//! every program a command line can start (and why), each rule that applied with the concrete
//! argument that triggered it, lowering that was refused, the boundary floor, and finally
//! which effect won.

use crate::compile::{CompiledAction, CompiledPolicy, CompiledRule};
use crate::cond::Cond;
use crate::condition::Condition;
use crate::eval::{Assessment, Sink};
use crate::grant::Grant;
use crate::model::Effect;
use crate::shell::judge::Finding;
use crate::shell::{Origin, SimpleCommand};
use crate::tier::{Decision, Tier};
use crate::truth::{command_truth, eval, Ctx, ShellState, Truth};
use crate::{args, ProposedCall};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The gate's answer with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// What the gate does.
    pub decision: Decision,
    /// The effective tier; `None` when denied.
    pub tier: Option<Tier>,
    /// One sentence per fact that shaped the decision, in order.
    pub reasons: Vec<String>,
    /// Ids of the rules whose effect applied.
    pub rules: Vec<String>,
    /// The standing grant that allowed the call, if one did (audit its use).
    pub grant: Option<String>,
}

impl CompiledPolicy {
    /// Decides and explains. Same decision as [`CompiledPolicy::assess`].
    pub fn decide(&self, call: &ProposedCall<'_>) -> Verdict {
        let mut sink = Explainer {
            policy: self,
            reasons: Vec::new(),
            rules: Vec::new(),
        };
        let result = self.evaluate(call, &mut sink);
        Verdict {
            decision: result.decision,
            tier: result.tier,
            reasons: sink.reasons,
            rules: sink.rules,
            grant: None,
        }
    }

    /// Decides, then lets the first matching active grant turn a medium or high call into
    /// Allow. Deny and critical are never changed by a grant.
    pub fn decide_with_grants(
        &self,
        call: &ProposedCall<'_>,
        grants: &[Grant],
        now_ms: i64,
    ) -> Verdict {
        let mut verdict = self.decide(call);
        let waiting = matches!(
            verdict.decision,
            Decision::NeedsConfirmation | Decision::NeedsApproval { .. }
        );
        if !waiting {
            return verdict;
        }
        let Some(grant) = grants.iter().find(|g| g.matches(call, now_ms)) else {
            return verdict;
        };
        if verdict.tier == Some(Tier::Critical) {
            verdict.reasons.push(format!(
                "standing grant {} matches, but grants never apply to critical calls: two \
                 distinct Approvers must still sign off",
                grant.id()
            ));
            return verdict;
        }
        verdict.reasons.push(format!(
            "standing grant {} allows this call without a new decision (expires at {} ms)",
            grant.id(),
            grant.expires_at()
        ));
        verdict.decision = Decision::Allow;
        verdict.grant = Some(grant.id().to_owned());
        verdict
    }
}

struct Explainer<'p> {
    policy: &'p CompiledPolicy,
    reasons: Vec<String>,
    rules: Vec<String>,
}

impl Sink for Explainer<'_> {
    const EXPLAINS: bool = true;

    fn unknown_action(&mut self, call: &ProposedCall<'_>) {
        let reason = if self.policy.tools.contains_key(call.tool) {
            format!(
                "action {}.{} is not in this workspace's catalog; unknown actions are denied",
                call.tool, call.action
            )
        } else {
            format!(
                "tool {} is not available in this workspace; unknown tools are denied",
                call.tool
            )
        };
        self.reasons.push(reason);
    }

    fn disabled(&mut self, action: &CompiledAction) {
        self.reasons.push(format!(
            "tool {0} is not enabled in this workspace; an Admin can enable it with \
             `headmaster tool enable {0}`",
            action.key
        ));
    }

    fn start(&mut self, action: &CompiledAction, ctx: &Ctx<'_>) {
        self.reasons.push(format!(
            "{} starts at tier {} (workspace setting)",
            action.key, action.tier
        ));
        match &ctx.shell {
            ShellState::Unparseable(e) => self.reasons.push(format!(
                "the command line is critical because it cannot be parsed: {e}"
            )),
            ShellState::Missing => self.reasons.push(format!(
                "the `{}` argument is missing or not a string, so the command is critical",
                action.command_arg.as_deref().unwrap_or("command")
            )),
            ShellState::NotShell | ShellState::Parsed(_) => {}
        }
    }

    fn judged(&mut self, cmd: &SimpleCommand, finding: &Finding<'_>) {
        self.reasons.push(format!(
            "the shell judgement puts `{}`{} at {} ({finding})",
            cmd.display(),
            origin_phrase(cmd.origin),
            finding.tier
        ));
    }

    fn judgement(&mut self, commands: usize, floor: Tier) {
        self.reasons.push(if commands == 0 {
            "the command line runs no program".to_owned()
        } else {
            format!(
                "the command line is at least {floor}: the highest tier the shell judgement \
                 gives the programs it can start, which no rule lowers"
            )
        });
    }

    fn applied(&mut self, rule: &CompiledRule, truth: Truth, ctx: &Ctx<'_>) {
        let source = &self.policy.source.rules[rule.source];
        let key = format!("{}.{}", ctx.call.tool, ctx.call.action);
        let label = match &source.note {
            Some(note) => format!("rule {}: {note}", rule.id),
            None => format!("rule {}", rule.id),
        };
        let effect = effect_phrase(rule.effect);
        let reason = if truth == Truth::Unknown {
            format!(
                "{key}: {label} could not be fully checked (an argument it reads is missing or \
                 malformed, or the command line cannot be parsed), so it applies and {effect}; \
                 rules fail closed"
            )
        } else {
            let facts: Vec<String> = source
                .when
                .iter()
                .zip(&rule.when)
                .filter_map(|(s, c)| witness(s, c, ctx))
                .collect();
            if facts.is_empty() {
                format!("{key} {effect} ({label})")
            } else {
                format!("{key} {} {effect} ({label})", facts.join(" and "))
            }
        };
        self.reasons.push(reason);
        self.rules.push(rule.id.clone());
    }

    fn lower_ignored(&mut self, rule: &CompiledRule) {
        self.reasons.push(format!(
            "rule {} would lower the tier, but the call crosses the workspace boundary, so \
             lowering is not honoured",
            rule.id
        ));
    }

    fn no_permit(&mut self, action: &CompiledAction) {
        self.reasons.push(format!(
            "no permit rule allows this call to {}, and permit rules exist for it, so it is denied",
            action.key
        ));
    }

    fn finish(&mut self, action: &CompiledAction, result: &Assessment, floored: bool) {
        if floored {
            self.reasons.push(format!(
                "{} crosses the workspace boundary, so it is never below medium",
                action.key
            ));
        }
        let outcome = match result.tier {
            None => "deny".to_owned(),
            Some(Tier::Low) => "tier low: runs without confirmation".to_owned(),
            Some(Tier::Medium) => "tier medium: an Operator must confirm".to_owned(),
            Some(Tier::High) => "tier high: one Approver must sign off".to_owned(),
            Some(Tier::Critical) => {
                "tier critical: two distinct Approvers must sign off".to_owned()
            }
        };
        self.reasons.push(format!(
            "the strictest effect wins (deny > critical > high > medium > low): {outcome}"
        ));
    }
}

fn effect_phrase(effect: Effect) -> String {
    match effect {
        Effect::Raise(t) => format!("raises the tier to {t}"),
        Effect::Lower(t) => format!("lowers the tier to {t}"),
        Effect::Deny => "denies the call".to_owned(),
        Effect::Permit => "is permitted".to_owned(),
    }
}

/// The concrete fact behind one condition, e.g. `to outside domain example.org`.
fn witness(source: &Condition, cond: &Cond, ctx: &Ctx<'_>) -> Option<String> {
    let a = ctx.call.args;
    let p = ctx.call.principal;
    let field = |name: &str| match a.get(name) {
        Some(Value::String(s)) => format!("`{s}`"),
        Some(v) => v.to_string(),
        None => "(missing)".to_owned(),
    };
    Some(match cond {
        Cond::DomainOutsideOwn => format!("to outside domain {}", domains(ctx, cond)),
        Cond::DomainIn(_) | Cond::DomainNotIn(_) | Cond::DomainLike(_) => {
            format!("to domain {}", domains(ctx, cond))
        }
        Cond::RecipientCount(_) => format!(
            "to {} recipients",
            args::recipient_count(a).unwrap_or_default()
        ),
        Cond::Path(..) => format!("on path {} ({})", field("path"), source.describe()),
        Cond::Method(..) => format!("with method {}", field("method")),
        Cond::Host(_) => format!("to host {}", args::host_of(a).unwrap_or("?")),
        Cond::TextIn(f, _) | Cond::TextLike(f, _) | Cond::Number(f, _) | Cond::Flag(f, _) => {
            format!("with {} = {}", f.name, field(&f.name))
        }
        Cond::Crosses(true) => "crossing the workspace boundary".to_owned(),
        Cond::Crosses(false) => "inside the workspace".to_owned(),
        Cond::RoleAtLeast(_) | Cond::RoleIs(_) => format!("by {} ({})", p.id, p.role_name),
        Cond::Group(g) => format!("by {}, a member of {g}", p.id),
        Cond::Attribute(name, v) => format!("by {} with {name} = {v}", p.id),
        Cond::Kind(_) => format!("by {}", p.id),
        Cond::Command { .. } | Cond::Redirect { .. } => {
            let ShellState::Parsed(line) = &ctx.shell else {
                return None;
            };
            let cmd = line
                .commands
                .iter()
                .find(|c| command_truth(cond, c) == Truth::True)?;
            if let Cond::Redirect { .. } = cond {
                let targets: Vec<&str> = cmd
                    .redirects
                    .iter()
                    .filter(|r| r.is_file())
                    .map(|r| r.target.text.as_str())
                    .collect();
                return Some(format!(
                    "redirecting `{}` to {}",
                    cmd.display(),
                    targets.join(", ")
                ));
            }
            format!("running `{}`{}", cmd.display(), origin_phrase(cmd.origin))
        }
        Cond::Not(_) | Cond::Any(_) | Cond::All(_) => {
            (eval(cond, ctx) == Truth::True).then(|| format!("where {}", source.describe()))?
        }
    })
}

/// How a command was reached, as the end of a phrase about it.
fn origin_phrase(origin: Origin) -> &'static str {
    match origin {
        Origin::Direct => "",
        Origin::Substitution => " inside a command substitution",
        Origin::ShellString => " inside a shell string",
        Origin::Wrapped => " started by a wrapper",
    }
}

fn domains(ctx: &Ctx<'_>, cond: &Cond) -> String {
    let mut out: Vec<String> = Vec::new();
    let _ = args::any_recipient(ctx.call.args, |addr| {
        if let Some(d) = args::domain_of(addr) {
            let hit = match cond {
                Cond::DomainOutsideOwn => !ctx
                    .own_domains
                    .iter()
                    .any(|own| args::domain_within(d, own)),
                Cond::DomainIn(list) => list.iter().any(|x| x.eq_ignore_ascii_case(d)),
                Cond::DomainNotIn(list) => !list.iter().any(|x| x.eq_ignore_ascii_case(d)),
                Cond::DomainLike(globs) => globs.iter().any(|g| g.matches(d)),
                _ => false,
            };
            if hit && !out.iter().any(|o| o.eq_ignore_ascii_case(d)) {
                out.push(d.to_owned());
            }
        }
        false
    });
    out.join(", ")
}
