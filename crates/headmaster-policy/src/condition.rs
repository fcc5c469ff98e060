//! Conditions a rule tests: over the call's arguments, its shell command line and the principal.
//!
//! Conditions are plain data (serde, externally tagged, snake_case) so the core can store them
//! and the CLI and UI can show them; `compile` turns them into a faster form once per policy.
//! A condition over an argument that is missing or has the wrong type is *unknown*, not
//! false: restrictive rules (raise, deny) then apply and permissive ones (lower, permit) do not,
//! so a malformed call can never slip under a rule. See `eval` for the three-valued logic.

use crate::tier::Role;
use crate::PrincipalKind;
use serde::{Deserialize, Serialize};

/// One test. A rule applies when all of its conditions hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Some recipient's domain passes the test. Recipients are read from the `to`, `cc` and
    /// `bcc` arguments (a string, comma-separated addresses, or a list of strings).
    RecipientDomain(DomainTest),
    /// The number of recipients over `to`, `cc` and `bcc` compares as given.
    RecipientCount(Compare),
    /// The workspace-relative `path` argument passes the test.
    Path(PathTest),
    /// The `method` argument is one of these HTTP methods (case-insensitive).
    HttpMethod(Vec<String>),
    /// The host (the `host` argument, else the host of the `url` argument) matches one of
    /// these names or `*`-patterns (case-insensitive).
    Host(Vec<String>),
    /// A string argument passes the test (case-sensitive).
    Text {
        /// Top-level argument name.
        field: String,
        /// The test.
        test: TextTest,
    },
    /// A numeric argument compares as given.
    Number {
        /// Top-level argument name.
        field: String,
        /// The comparison.
        #[serde(flatten)]
        compare: Compare,
    },
    /// A boolean argument has this value.
    Flag {
        /// Top-level argument name.
        field: String,
        /// The expected value.
        value: bool,
    },
    /// The call crosses (true) or stays inside (false) the workspace boundary.
    CrossesBoundary(bool),
    /// The principal's role passes the test.
    Role(RoleTest),
    /// The principal belongs to this group.
    Group(String),
    /// The principal has this attribute with this value (a missing attribute never matches).
    Attribute {
        /// Attribute name, e.g. `oncall`.
        name: String,
        /// Expected value.
        equals: serde_json::Value,
    },
    /// The principal is a user or an agent.
    PrincipalKind(PrincipalKind),
    /// Some simple command of the parsed shell command line matches.
    Command(CommandMatch),
    /// Some file redirection of the parsed shell command line matches.
    Redirect(RedirectMatch),
    /// The inner condition does not hold.
    Not(Box<Condition>),
    /// At least one inner condition holds.
    Any(Vec<Condition>),
    /// Every inner condition holds.
    All(Vec<Condition>),
}

/// A test on recipient domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainTest {
    /// The domain is not one of the workspace's own domains (nor a subdomain of one).
    OutsideOwn,
    /// The domain is one of these.
    In(Vec<String>),
    /// The domain is none of these.
    NotIn(Vec<String>),
    /// The domain matches one of these `*`-patterns, e.g. `*.ru`.
    Like(Vec<String>),
}

/// A test on a workspace-relative path. Paths are normalised lexically first (`a/./b`, `a//b`,
/// `a/x/../b`); a path that climbs out of the workspace with `..` is outside every folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathTest {
    /// The path is inside this folder, e.g. `drafts/`.
    Under(String),
    /// The path is not inside this folder (absolute paths are never inside).
    Outside(String),
    /// The path matches one of these `*`-patterns. A pattern without `/` is matched against
    /// the file name, so `.env` and `*.pem` match in every folder; one with `/` is matched
    /// against the whole path, so `secrets/*` matches from the workspace root.
    Like(Vec<String>),
    /// The path is absolute, starts with `~`, or climbs out with `..`.
    OutsideWorkspace,
}

/// A test on a string argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextTest {
    /// Equal to one of these.
    In(Vec<String>),
    /// Matches one of these `*`-patterns.
    Like(Vec<String>),
}

/// A numeric comparison `value <op> bound`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Compare {
    /// The operator.
    pub op: CmpOp,
    /// The right-hand side.
    pub value: f64,
}

impl Compare {
    /// True when `left <op> self.value`.
    pub fn holds(&self, left: f64) -> bool {
        self.op.holds(left, self.value)
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl CmpOp {
    /// The operator's symbol, for descriptions.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// Applies the operator.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CmpOp::Lt => left < right,
            CmpOp::Le => left <= right,
            CmpOp::Gt => left > right,
            CmpOp::Ge => left >= right,
            CmpOp::Eq => left == right,
            CmpOp::Ne => left != right,
        }
    }
}

/// A test on the principal's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleTest {
    /// The role is this built-in role or one nested above it (Admin is at least Viewer).
    AtLeast(Role),
    /// The role's configured name is exactly this (no nesting).
    Is(String),
}

/// Matches one simple command of a parsed shell command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMatch {
    /// Program basenames or `*`-patterns (`/usr/bin/curl` is `curl`; `mkfs.*`).
    pub programs: Vec<String>,
    /// When not empty, some argument must equal or match one of these (`-rf`, `--recursive`,
    /// `-*r*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args_any: Vec<String>,
    /// When true, only commands whose standard input comes from a pipe match (`… | sh`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub piped_input: bool,
}

/// Matches one file redirection (`> file`, `>> file`, `&> file`, `< file`) of a parsed shell
/// command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectMatch {
    /// The test on the redirection's target path.
    pub path: PathTest,
    /// Only redirections that write (`>`, `>>`, `&>`, `>|`, `<>`) when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub writes_only: bool,
    /// Targets that never match, e.g. `/dev/null`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
}
