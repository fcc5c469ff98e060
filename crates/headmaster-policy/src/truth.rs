//! Three-valued evaluation of compiled conditions against one call.
//!
//! *Unknown* arises when an argument a condition needs is missing or malformed, or a shell
//! word it inspects is computed at run time. `Not` keeps it unknown, `All` is false if any
//! part is false, `Any` is true if any part is true.

use crate::args::{self, PathForm};
use crate::cond::{Cond, Field, PathCond, FIELD_SLOTS};
use crate::glob::Glob;
use crate::shell::{CommandLine, SimpleCommand, Unparseable};
use crate::ProposedCall;
use serde_json::Value;
use std::cell::Cell;

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Truth {
    False,
    True,
    Unknown,
}

impl From<bool> for Truth {
    fn from(b: bool) -> Self {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// What the shell command argument of a call turned out to be.
#[derive(Debug)]
pub(crate) enum ShellState {
    /// The action takes no command line.
    NotShell,
    Parsed(CommandLine),
    Unparseable(Unparseable),
    /// The command argument is missing or not a string.
    Missing,
}

/// Everything conditions may look at.
pub(crate) struct Ctx<'c> {
    pub(crate) call: &'c ProposedCall<'c>,
    pub(crate) crosses: bool,
    pub(crate) own_domains: &'c [String],
    pub(crate) shell: ShellState,
    /// Arguments already looked up in this decision, by the field's slot.
    pub(crate) fields: [Cell<Option<Option<&'c Value>>>; FIELD_SLOTS],
}

impl<'c> Ctx<'c> {
    /// The argument `field`, looked up at most once per decision.
    pub(crate) fn arg(&self, field: &Field) -> Option<&'c Value> {
        let args: &'c Value = self.call.args;
        let Some(slot) = field.slot else {
            return args.get(&field.name);
        };
        if let Some(cached) = self.fields[slot].get() {
            return cached;
        }
        let value = args.get(&field.name);
        self.fields[slot].set(Some(value));
        value
    }
}

pub(crate) fn all(conds: &[Cond], ctx: &Ctx<'_>) -> Truth {
    let mut unknown = false;
    for c in conds {
        match eval(c, ctx) {
            Truth::False => return Truth::False,
            Truth::Unknown => unknown = true,
            Truth::True => {}
        }
    }
    if unknown {
        Truth::Unknown
    } else {
        Truth::True
    }
}

fn any(conds: &[Cond], ctx: &Ctx<'_>) -> Truth {
    let mut unknown = false;
    for c in conds {
        match eval(c, ctx) {
            Truth::True => return Truth::True,
            Truth::Unknown => unknown = true,
            Truth::False => {}
        }
    }
    if unknown {
        Truth::Unknown
    } else {
        Truth::False
    }
}

pub(crate) fn eval(c: &Cond, ctx: &Ctx<'_>) -> Truth {
    let args = ctx.call.args;
    let principal = ctx.call.principal;
    match c {
        Cond::DomainOutsideOwn => any_domain(args, |d| {
            !ctx.own_domains
                .iter()
                .any(|own| args::domain_within(d, own))
        }),
        Cond::DomainIn(list) => {
            any_domain(args, |d| list.iter().any(|x| x.eq_ignore_ascii_case(d)))
        }
        Cond::DomainNotIn(list) => {
            any_domain(args, |d| !list.iter().any(|x| x.eq_ignore_ascii_case(d)))
        }
        Cond::DomainLike(globs) => any_domain(args, |d| globs.iter().any(|g| g.matches(d))),
        Cond::RecipientCount(cmp) => match args::recipient_count(args) {
            Ok(n) => cmp.holds(n as f64).into(),
            Err(_) => Truth::Unknown,
        },
        Cond::Path(field, test) => match ctx.arg(field).and_then(Value::as_str) {
            Some(p) => path_truth(test, p),
            None => Truth::Unknown,
        },
        Cond::Method(field, methods) => match ctx.arg(field).and_then(Value::as_str) {
            Some(m) => methods.iter().any(|x| x.eq_ignore_ascii_case(m)).into(),
            None => Truth::Unknown,
        },
        Cond::Host(globs) => match args::host_of(args) {
            Some(h) => globs.iter().any(|g| g.matches(h)).into(),
            None => Truth::Unknown,
        },
        Cond::TextIn(field, values) => match ctx.arg(field).and_then(Value::as_str) {
            Some(s) => values.iter().any(|v| v == s).into(),
            None => Truth::Unknown,
        },
        Cond::TextLike(field, globs) => match ctx.arg(field).and_then(Value::as_str) {
            Some(s) => globs.iter().any(|g| g.matches(s)).into(),
            None => Truth::Unknown,
        },
        Cond::Number(field, cmp) => match ctx.arg(field).and_then(Value::as_f64) {
            Some(n) => cmp.holds(n).into(),
            None => Truth::Unknown,
        },
        Cond::Flag(field, value) => match ctx.arg(field).and_then(Value::as_bool) {
            Some(b) => (b == *value).into(),
            None => Truth::Unknown,
        },
        Cond::Crosses(b) => (ctx.crosses == *b).into(),
        Cond::RoleAtLeast(role) => (principal.role >= *role).into(),
        Cond::RoleIs(name) => (principal.role_name == *name).into(),
        Cond::Group(g) => principal.groups.iter().any(|x| x == g).into(),
        Cond::Attribute(name, value) => (principal.attributes.get(name) == Some(value)).into(),
        Cond::Kind(kind) => (principal.kind == *kind).into(),
        Cond::Command { .. } | Cond::Redirect { .. } => match &ctx.shell {
            // A line that cannot be parsed is already critical (see `evaluate`); shell
            // conditions do not look into it, so its one reason is the parse error.
            ShellState::NotShell | ShellState::Unparseable(_) | ShellState::Missing => Truth::False,
            ShellState::Parsed(line) => {
                let mut unknown = false;
                for cmd in &line.commands {
                    match command_truth(c, cmd) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => unknown = true,
                        Truth::False => {}
                    }
                }
                if unknown {
                    Truth::Unknown
                } else {
                    Truth::False
                }
            }
        },
        Cond::Not(inner) => match eval(inner, ctx) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        },
        Cond::Any(cs) => any(cs, ctx),
        Cond::All(cs) => all(cs, ctx),
    }
}

fn any_domain(args: &Value, mut test: impl FnMut(&str) -> bool) -> Truth {
    let mut unknown = false;
    let hit = args::any_recipient(args, |addr| match args::domain_of(addr) {
        Some(d) => test(d),
        None => {
            unknown = true;
            false
        }
    });
    match hit {
        Ok(true) => Truth::True,
        Ok(false) if unknown => Truth::Unknown,
        Ok(false) => Truth::False,
        Err(_) => Truth::Unknown,
    }
}

/// Judges one path. A path that climbs out with `..` is outside every folder; patterns are
/// matched against it as written.
pub(crate) fn path_truth(test: &PathCond, path: &str) -> Truth {
    let form = args::normalize(path);
    match (test, &form) {
        (PathCond::OutsideWorkspace, f) => (!matches!(f, PathForm::Relative(_))).into(),
        (PathCond::Under(prefix), PathForm::Relative(p)) => args::path_under(p, prefix).into(),
        (PathCond::Under(_), _) => Truth::False,
        (PathCond::Outside(prefix), PathForm::Relative(p)) => (!args::path_under(p, prefix)).into(),
        (PathCond::Outside(_), _) => Truth::True,
        (PathCond::Like(globs), form) => {
            let p = match form {
                PathForm::Relative(p) | PathForm::Absolute(p) => p,
                PathForm::Escapes => path,
            };
            like(globs, p)
        }
    }
}

fn like(globs: &[(Glob, bool)], p: &str) -> Truth {
    globs
        .iter()
        .any(|(g, name_only)| {
            if *name_only {
                g.matches(args::file_name(p))
            } else {
                g.matches(p)
            }
        })
        .into()
}

/// Judges one simple command against a command or redirect condition.
pub(crate) fn command_truth(c: &Cond, cmd: &SimpleCommand) -> Truth {
    match c {
        Cond::Command {
            programs,
            args,
            piped,
        } => {
            if cmd.program.is_empty()
                || (*piped && !cmd.piped_input)
                || !programs.iter().any(|g| g.matches(cmd.basename()))
            {
                return Truth::False;
            }
            if args.is_empty() {
                return Truth::True;
            }
            let mut unknown = false;
            for a in &cmd.args {
                if !a.literal {
                    unknown = true;
                } else if args.iter().any(|g| g.matches(&a.text)) {
                    return Truth::True;
                }
            }
            if unknown {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        Cond::Redirect {
            path,
            writes_only,
            except,
        } => {
            let mut unknown = false;
            for r in &cmd.redirects {
                if !r.is_file() || (*writes_only && !r.writes()) {
                    continue;
                }
                if !r.target.literal {
                    unknown = true;
                    continue;
                }
                if except.iter().any(|g| g.matches(&r.target.text)) {
                    continue;
                }
                match path_truth(path, &r.target.text) {
                    Truth::True => return Truth::True,
                    Truth::Unknown => unknown = true,
                    Truth::False => {}
                }
            }
            if unknown {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        _ => Truth::False,
    }
}
