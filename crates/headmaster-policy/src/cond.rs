//! Conditions in their compiled form: folders normalised, patterns compiled, argument names
//! given cache slots, so that evaluating them does no parsing and little hashing.

use crate::condition::{Compare, Condition, DomainTest, PathTest, RoleTest, TextTest};
use crate::glob::Glob;
use crate::tier::Role;
use crate::PrincipalKind;

/// A condition in its fast form.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    DomainOutsideOwn,
    DomainIn(Vec<String>),
    DomainNotIn(Vec<String>),
    DomainLike(Vec<Glob>),
    RecipientCount(Compare),
    Path(Field, PathCond),
    Method(Field, Vec<String>),
    Host(Vec<Glob>),
    TextIn(Field, Vec<String>),
    TextLike(Field, Vec<Glob>),
    Number(Field, Compare),
    Flag(Field, bool),
    Crosses(bool),
    RoleAtLeast(Role),
    RoleIs(String),
    Group(String),
    Attribute(String, serde_json::Value),
    Kind(PrincipalKind),
    Command {
        programs: Vec<Glob>,
        args: Vec<Glob>,
        piped: bool,
    },
    Redirect {
        path: PathCond,
        writes_only: bool,
        except: Vec<Glob>,
    },
    Not(Box<Cond>),
    Any(Vec<Cond>),
    All(Vec<Cond>),
}

/// How many distinct argument names one decision caches; a policy naming more looks the rest
/// up every time. Caching matters because several rules usually read the same argument, and a
/// JSON map lookup hashes or compares the name each time.
pub(crate) const FIELD_SLOTS: usize = 16;

/// An argument name with its cache slot.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) slot: Option<usize>,
}

/// Argument names seen while compiling one policy, in slot order.
#[derive(Default)]
pub(crate) struct FieldTable(Vec<String>);

impl FieldTable {
    pub(crate) fn field(&mut self, name: &str) -> Field {
        let slot = match self.0.iter().position(|n| n == name) {
            Some(i) => Some(i),
            None if self.0.len() < FIELD_SLOTS => {
                self.0.push(name.to_owned());
                Some(self.0.len() - 1)
            }
            None => None,
        };
        Field {
            name: name.to_owned(),
            slot,
        }
    }
}

/// A path test with its folder normalised and its patterns compiled.
#[derive(Debug, Clone)]
pub(crate) enum PathCond {
    Under(String),
    Outside(String),
    Like(Vec<(Glob, bool)>),
    OutsideWorkspace,
}

fn globs(patterns: &[String], fold: bool) -> Vec<Glob> {
    patterns.iter().map(|p| Glob::new(p.trim(), fold)).collect()
}

fn folder(prefix: &str) -> String {
    prefix
        .trim()
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_owned()
}

fn compile_path(test: &PathTest) -> PathCond {
    match test {
        PathTest::Under(p) => PathCond::Under(folder(p)),
        PathTest::Outside(p) => PathCond::Outside(folder(p)),
        PathTest::Like(patterns) => PathCond::Like(
            patterns
                .iter()
                .map(|p| (Glob::new(p, false), !p.contains('/')))
                .collect(),
        ),
        PathTest::OutsideWorkspace => PathCond::OutsideWorkspace,
    }
}

/// Compiles one condition, giving its argument names slots in `fields`.
pub(crate) fn compile_condition(c: &Condition, fields: &mut FieldTable) -> Cond {
    match c {
        Condition::RecipientDomain(test) => match test {
            DomainTest::OutsideOwn => Cond::DomainOutsideOwn,
            DomainTest::In(d) => Cond::DomainIn(d.iter().map(|s| s.trim().to_owned()).collect()),
            DomainTest::NotIn(d) => {
                Cond::DomainNotIn(d.iter().map(|s| s.trim().to_owned()).collect())
            }
            DomainTest::Like(p) => Cond::DomainLike(globs(p, true)),
        },
        Condition::RecipientCount(cmp) => Cond::RecipientCount(*cmp),
        Condition::Path(test) => Cond::Path(fields.field("path"), compile_path(test)),
        Condition::HttpMethod(methods) => Cond::Method(fields.field("method"), methods.clone()),
        Condition::Host(hosts) => Cond::Host(globs(hosts, true)),
        Condition::Text { field, test } => match test {
            TextTest::In(values) => Cond::TextIn(fields.field(field), values.clone()),
            TextTest::Like(p) => Cond::TextLike(fields.field(field), globs(p, false)),
        },
        Condition::Number { field, compare } => Cond::Number(fields.field(field), *compare),
        Condition::Flag { field, value } => Cond::Flag(fields.field(field), *value),
        Condition::CrossesBoundary(b) => Cond::Crosses(*b),
        Condition::Role(RoleTest::AtLeast(r)) => Cond::RoleAtLeast(*r),
        Condition::Role(RoleTest::Is(name)) => Cond::RoleIs(name.clone()),
        Condition::Group(g) => Cond::Group(g.clone()),
        Condition::Attribute { name, equals } => Cond::Attribute(name.clone(), equals.clone()),
        Condition::PrincipalKind(k) => Cond::Kind(*k),
        Condition::Command(m) => Cond::Command {
            programs: globs(&m.programs, false),
            args: globs(&m.args_any, false),
            piped: m.piped_input,
        },
        Condition::Redirect(m) => Cond::Redirect {
            path: compile_path(&m.path),
            writes_only: m.writes_only,
            except: globs(&m.except, false),
        },
        Condition::Not(inner) => Cond::Not(Box::new(compile_condition(inner, fields))),
        Condition::Any(cs) => Cond::Any(cs.iter().map(|c| compile_condition(c, fields)).collect()),
        Condition::All(cs) => Cond::All(cs.iter().map(|c| compile_condition(c, fields)).collect()),
    }
}
