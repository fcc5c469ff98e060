//! Compact human-readable descriptions of rules and conditions, for the Policy screen, the
//! CLI (`headmaster tool history`) and the reasons of a verdict.

use crate::condition::{CommandMatch, Condition, DomainTest, PathTest, RoleTest, TextTest};
use crate::model::{Effect, Rule};
use crate::PrincipalKind;

impl Rule {
    /// One line: `r3: on email.send, when a recipient's domain is outside the workspace's own
    /// domains: raise to high (outside mail)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}: on {}", self.id, self.target);
        if !self.when.is_empty() {
            s.push_str(", when ");
            s.push_str(&join(&self.when, " and "));
        }
        s.push_str(": ");
        s.push_str(&self.effect.describe());
        if let Some(note) = &self.note {
            s.push_str(&format!(" ({note})"));
        }
        s
    }
}

impl Effect {
    /// `raise to high`, `lower to low`, `deny`, `permit`.
    pub fn describe(&self) -> String {
        match self {
            Effect::Raise(t) => format!("raise to {t}"),
            Effect::Lower(t) => format!("lower to {t}"),
            Effect::Deny => "deny".to_owned(),
            Effect::Permit => "permit".to_owned(),
        }
    }
}

impl Condition {
    /// A short phrase, e.g. `recipients > 10` or `path is outside drafts/`.
    pub fn describe(&self) -> String {
        match self {
            Condition::RecipientDomain(test) => match test {
                DomainTest::OutsideOwn => {
                    "a recipient's domain is outside the workspace's own domains".to_owned()
                }
                DomainTest::In(d) => format!("a recipient's domain is one of {}", d.join(", ")),
                DomainTest::NotIn(d) => {
                    format!("a recipient's domain is not one of {}", d.join(", "))
                }
                DomainTest::Like(p) => format!("a recipient's domain matches {}", p.join(", ")),
            },
            Condition::RecipientCount(c) => format!("recipients {} {}", c.op.symbol(), c.value),
            Condition::Path(test) => format!("path {}", describe_path(test)),
            Condition::HttpMethod(m) => format!("method is one of {}", m.join(", ")),
            Condition::Host(h) => format!("host is or matches {}", h.join(", ")),
            Condition::Text { field, test } => match test {
                TextTest::In(v) => format!("{field} is one of {}", v.join(", ")),
                TextTest::Like(p) => format!("{field} matches {}", p.join(", ")),
            },
            Condition::Number { field, compare } => {
                format!("{field} {} {}", compare.op.symbol(), compare.value)
            }
            Condition::Flag { field, value } => format!("{field} is {value}"),
            Condition::CrossesBoundary(true) => "the call crosses the workspace boundary".into(),
            Condition::CrossesBoundary(false) => "the call stays inside the workspace".into(),
            Condition::Role(RoleTest::AtLeast(r)) => format!("the principal is at least {r}"),
            Condition::Role(RoleTest::Is(name)) => format!("the principal's role is {name}"),
            Condition::Group(g) => format!("the principal is in group {g}"),
            Condition::Attribute { name, equals } => format!("the principal's {name} is {equals}"),
            Condition::PrincipalKind(PrincipalKind::User) => "the principal is a user".into(),
            Condition::PrincipalKind(PrincipalKind::Agent) => "the principal is an agent".into(),
            Condition::Command(m) => describe_command(m),
            Condition::Redirect(m) => {
                let verb = if m.writes_only { "writes" } else { "redirects" };
                let mut s = format!("a command {verb} to a path that {}", describe_path(&m.path));
                if !m.except.is_empty() {
                    s.push_str(&format!(" (except {})", m.except.join(", ")));
                }
                s
            }
            Condition::Not(inner) => format!("not ({})", inner.describe()),
            Condition::Any(cs) => format!("({})", join(cs, " or ")),
            Condition::All(cs) => format!("({})", join(cs, " and ")),
        }
    }
}

fn describe_path(test: &PathTest) -> String {
    match test {
        PathTest::Under(p) => format!("is inside {p}"),
        PathTest::Outside(p) => format!("is outside {p}"),
        PathTest::Like(p) => format!("matches {}", p.join(", ")),
        PathTest::OutsideWorkspace => "is outside the workspace".to_owned(),
    }
}

fn describe_command(m: &CommandMatch) -> String {
    let mut s = format!("a command runs {}", m.programs.join(", "));
    if !m.args_any.is_empty() {
        s.push_str(&format!(" with an argument like {}", m.args_any.join(", ")));
    }
    if m.piped_input {
        s.push_str(" reading from a pipe");
    }
    s
}

fn join(conds: &[Condition], sep: &str) -> String {
    conds
        .iter()
        .map(Condition::describe)
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::{CmpOp, Compare};
    use crate::tier::Tier;

    #[test]
    fn a_rule_reads_as_one_line() {
        let rule = Rule {
            id: "r4".into(),
            target: "email.send".parse().unwrap(),
            when: vec![
                Condition::RecipientCount(Compare {
                    op: CmpOp::Gt,
                    value: 10.0,
                }),
                Condition::Not(Box::new(Condition::Group("board".into()))),
            ],
            effect: Effect::Raise(Tier::Critical),
            note: Some("mass mail".into()),
        };
        assert_eq!(
            rule.describe(),
            "r4: on email.send, when recipients > 10 and not (the principal is in group board): \
             raise to critical (mass mail)"
        );
    }
}
