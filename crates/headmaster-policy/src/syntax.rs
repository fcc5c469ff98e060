//! The compact rule syntax of `headmaster tool add-rule`, beside the JSON form.
//!
//! ```text
//! ID: on TARGET [when COND {and COND}] then EFFECT [# NOTE]
//! ```
//!
//! `TARGET` is `tool.action`, `tool`, `group:NAME` or `*`. `EFFECT` is `raise TIER`,
//! `lower TIER`, `deny` or `permit`. Lists are comma-separated without spaces. Conditions:
//!
//! ```text
//! recipient_domain outside_own | in LIST | not_in LIST | like LIST
//! recipients OP N                      (OP: < <= > >= == !=)
//! path under DIR | outside DIR | like LIST | outside_workspace
//! method in LIST          host in LIST
//! arg NAME in LIST | like LIST | OP N | is true|false
//! crosses_boundary        inside_boundary
//! role >= ROLE | is NAME  group NAME   attribute NAME = JSON   principal user|agent
//! command LIST [args LIST] [piped]
//! redirect outside_workspace|under DIR|outside DIR|like LIST [writes] [except LIST]
//! not COND
//! ```

use crate::condition::{
    CmpOp, CommandMatch, Compare, Condition, DomainTest, PathTest, RedirectMatch, RoleTest,
    TextTest,
};
use crate::model::{Effect, Rule};
use crate::tier::Role;
use crate::{PolicyError, PrincipalKind};

impl Rule {
    /// Parses a rule given as JSON (text starting with `{`) or in the compact syntax.
    pub fn parse(text: &str) -> Result<Rule, PolicyError> {
        let text = text.trim();
        if text.starts_with('{') {
            return Rule::from_json(text);
        }
        let (body, note) = match text.split_once(" # ") {
            Some((body, note)) => (body, Some(note.trim().to_owned())),
            None => (text, None),
        };
        let mut t = Tokens(body.split_whitespace().collect(), 0);
        let id = t.next("a rule id followed by `:`")?;
        let id = id
            .strip_suffix(':')
            .ok_or_else(|| syntax(format!("expected `ID:` at the start, found `{id}`")))?;
        t.expect("on")?;
        let target = t.next("a target")?.parse()?;
        let mut when = Vec::new();
        if t.peek() == Some("when") {
            t.1 += 1;
            loop {
                when.push(condition(&mut t)?);
                if t.peek() != Some("and") {
                    break;
                }
                t.1 += 1;
            }
        }
        t.expect("then")?;
        let effect = match t.next("an effect")? {
            "raise" => Effect::Raise(t.next("a tier")?.parse()?),
            "lower" => Effect::Lower(t.next("a tier")?.parse()?),
            "deny" => Effect::Deny,
            "permit" => Effect::Permit,
            other => {
                return Err(syntax(format!(
                    "unknown effect `{other}`: use raise TIER, lower TIER, deny or permit"
                )))
            }
        };
        if let Some(extra) = t.peek() {
            return Err(syntax(format!(
                "unexpected `{extra}` after the effect; a note goes after ` # `"
            )));
        }
        Ok(Rule {
            id: id.to_owned(),
            target,
            when,
            effect,
            note,
        })
    }
}

struct Tokens<'a>(Vec<&'a str>, usize);

impl<'a> Tokens<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.0.get(self.1).copied()
    }

    fn next(&mut self, what: &str) -> Result<&'a str, PolicyError> {
        let token = self
            .peek()
            .ok_or_else(|| syntax(format!("expected {what} at the end of the rule")))?;
        self.1 += 1;
        Ok(token)
    }

    fn expect(&mut self, word: &str) -> Result<(), PolicyError> {
        match self.next(&format!("`{word}`"))? {
            w if w == word => Ok(()),
            other => Err(syntax(format!("expected `{word}`, found `{other}`"))),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, PolicyError> {
        Ok(self
            .next("a comma-separated list")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }

    fn number(&mut self) -> Result<f64, PolicyError> {
        let n = self.next("a number")?;
        n.parse()
            .map_err(|_| syntax(format!("`{n}` is not a number")))
    }

    fn op(&mut self) -> Result<CmpOp, PolicyError> {
        Ok(match self.next("a comparison")? {
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            other => {
                return Err(syntax(format!(
                    "unknown comparison `{other}`: use < <= > >= == !="
                )))
            }
        })
    }
}

fn syntax(message: String) -> PolicyError {
    PolicyError::Syntax(message)
}

fn condition(t: &mut Tokens<'_>) -> Result<Condition, PolicyError> {
    let word = t.next("a condition")?;
    Ok(match word {
        "not" => Condition::Not(Box::new(condition(t)?)),
        "recipient_domain" => {
            Condition::RecipientDomain(match t.next("outside_own, in, not_in or like")? {
                "outside_own" => DomainTest::OutsideOwn,
                "in" => DomainTest::In(t.list()?),
                "not_in" => DomainTest::NotIn(t.list()?),
                "like" => DomainTest::Like(t.list()?),
                other => return Err(syntax(format!("unknown domain test `{other}`"))),
            })
        }
        "recipients" => Condition::RecipientCount(Compare {
            op: t.op()?,
            value: t.number()?,
        }),
        "path" => Condition::Path(path_test(t)?),
        "method" => {
            t.expect("in")?;
            Condition::HttpMethod(t.list()?)
        }
        "host" => {
            t.expect("in")?;
            Condition::Host(t.list()?)
        }
        "arg" => {
            let field = t.next("an argument name")?.to_owned();
            match t.peek() {
                Some("in") => {
                    t.1 += 1;
                    Condition::Text {
                        field,
                        test: TextTest::In(t.list()?),
                    }
                }
                Some("like") => {
                    t.1 += 1;
                    Condition::Text {
                        field,
                        test: TextTest::Like(t.list()?),
                    }
                }
                Some("is") => {
                    t.1 += 1;
                    let value = match t.next("true or false")? {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(syntax(format!("expected true or false, found `{other}`")))
                        }
                    };
                    Condition::Flag { field, value }
                }
                _ => Condition::Number {
                    field,
                    compare: Compare {
                        op: t.op()?,
                        value: t.number()?,
                    },
                },
            }
        }
        "crosses_boundary" => Condition::CrossesBoundary(true),
        "inside_boundary" => Condition::CrossesBoundary(false),
        "role" => match t.next(">= or is")? {
            ">=" => Condition::Role(RoleTest::AtLeast(role(t.next("a role")?)?)),
            "is" => Condition::Role(RoleTest::Is(t.next("a role name")?.to_owned())),
            other => {
                return Err(syntax(format!(
                    "expected `>=` or `is` after role, found `{other}`"
                )))
            }
        },
        "group" => Condition::Group(t.next("a group name")?.to_owned()),
        "attribute" => {
            let name = t.next("an attribute name")?.to_owned();
            t.expect("=")?;
            let raw = t.next("a JSON value")?;
            let equals = serde_json::from_str(raw).map_err(|_| {
                syntax(format!(
                    "`{raw}` is not a JSON value (quote strings: \"x\")"
                ))
            })?;
            Condition::Attribute { name, equals }
        }
        "principal" => Condition::PrincipalKind(match t.next("user or agent")? {
            "user" => PrincipalKind::User,
            "agent" => PrincipalKind::Agent,
            other => return Err(syntax(format!("expected user or agent, found `{other}`"))),
        }),
        "command" => {
            let mut m = CommandMatch {
                programs: t.list()?,
                args_any: Vec::new(),
                piped_input: false,
            };
            loop {
                match t.peek() {
                    Some("args") => {
                        t.1 += 1;
                        m.args_any = t.list()?;
                    }
                    Some("piped") => {
                        t.1 += 1;
                        m.piped_input = true;
                    }
                    _ => break,
                }
            }
            Condition::Command(m)
        }
        "redirect" => {
            let mut m = RedirectMatch {
                path: path_test(t)?,
                writes_only: false,
                except: Vec::new(),
            };
            loop {
                match t.peek() {
                    Some("writes") => {
                        t.1 += 1;
                        m.writes_only = true;
                    }
                    Some("except") => {
                        t.1 += 1;
                        m.except = t.list()?;
                    }
                    _ => break,
                }
            }
            Condition::Redirect(m)
        }
        other => {
            return Err(syntax(format!(
                "unknown condition `{other}`; see `headmaster tool add-rule --help`"
            )))
        }
    })
}

fn path_test(t: &mut Tokens<'_>) -> Result<PathTest, PolicyError> {
    Ok(match t.next("under, outside, like or outside_workspace")? {
        "under" => PathTest::Under(t.next("a folder")?.to_owned()),
        "outside" => PathTest::Outside(t.next("a folder")?.to_owned()),
        "like" => PathTest::Like(t.list()?),
        "outside_workspace" => PathTest::OutsideWorkspace,
        other => return Err(syntax(format!("unknown path test `{other}`"))),
    })
}

fn role(name: &str) -> Result<Role, PolicyError> {
    Role::parse(name).ok_or_else(|| {
        syntax(format!(
            "unknown role `{name}`: use viewer, operator, approver or admin"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tier::Tier;

    #[test]
    fn compact_rules_parse_into_the_same_rules_as_json() {
        let compact = Rule::parse(
            "r3: on email.send when recipient_domain outside_own and recipients > 10 then raise critical # bulk outside mail",
        )
        .unwrap();
        let json = Rule::parse(
            r#"{"id":"r3","target":"email.send","when":[{"recipient_domain":"outside_own"},
                {"recipient_count":{"op":"gt","value":10}}],"effect":{"raise":"critical"},"note":"bulk outside mail"}"#,
        )
        .unwrap();
        assert_eq!(compact, json);
    }

    #[test]
    fn every_condition_form_parses() {
        let rule = Rule::parse(
            "x: on * when path outside drafts/ and path like .env,*.pem and method in POST,PUT \
             and host in *.example.org and arg amount <= 500 and arg kind in a,b and arg urgent is true \
             and crosses_boundary and role >= approver and role is Auditor and group contractors \
             and attribute oncall = true and principal agent and not recipient_domain like *.ru \
             and command rm args -rf,-fr piped and redirect outside_workspace writes except /dev/null \
             then deny",
        )
        .unwrap();
        assert_eq!(rule.when.len(), 16);
        assert_eq!(rule.effect, Effect::Deny);
        assert_eq!(
            rule.when[14],
            Condition::Command(CommandMatch {
                programs: vec!["rm".into()],
                args_any: vec!["-rf".into(), "-fr".into()],
                piped_input: true,
            })
        );
        let lower = Rule::parse("l: on file.write when path under drafts/ then lower low").unwrap();
        assert_eq!(lower.effect, Effect::Lower(Tier::Low));
    }

    #[test]
    fn mistakes_are_reported_with_what_was_expected() {
        let err = |text: &str| match Rule::parse(text) {
            Err(PolicyError::Syntax(m)) => m,
            other => panic!("{text}: {other:?}"),
        };
        assert!(err("r1 on x then deny").contains("`ID:`"));
        assert!(
            err("r1: on email.send when recipients ~ 3 then deny").contains("unknown comparison")
        );
        assert!(err("r1: on email.send when colour red then deny")
            .contains("unknown condition `colour`"));
        assert!(err("r1: on email.send then explode").contains("unknown effect"));
        assert!(err("r1: on email.send when role >= boss then deny").contains("unknown role"));
        assert!(err("r1: on email.send then deny now").contains("after the effect"));
        assert!(err("r1: on email.send when").contains("expected a condition"));
        assert!(matches!(
            Rule::parse("r1: on email.send then raise severe"),
            Err(PolicyError::UnknownTier(_))
        ));
    }
}
