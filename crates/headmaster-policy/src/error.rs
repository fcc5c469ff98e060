//! Errors raised while building, compiling or editing a policy, and while creating grants.

/// A policy or rule that cannot be accepted. Each message names the offending item and says
/// how to fix it, because these errors reach the Admin through the CLI and the Policy screen.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// A tier name other than low, medium, high or critical.
    #[error("unknown tier `{0}`: use low, medium, high or critical")]
    UnknownTier(String),
    /// An action key that is not of the form `tool.action`.
    #[error("action `{0}` must be written as `tool.action`, for example `email.send`")]
    BadActionKey(String),
    /// Two rules share an id.
    #[error("rule id `{0}` is used twice; give every rule its own id")]
    DuplicateRule(String),
    /// A rule without an id.
    #[error(
        "a rule has an empty id; every rule needs an id so that reasons and audits can name it"
    )]
    EmptyRuleId,
    /// A rule id that contains characters the CLI and reasons cannot show unambiguously.
    #[error("rule id `{0}` may only contain letters, digits, `-`, `_` and `.`")]
    BadRuleId(String),
    /// A rule whose target names no known tool, action or group.
    #[error("rule `{rule}` targets `{target}`, which is not a tool, action or group of this workspace; check `headmaster tool list`")]
    UnknownTarget {
        /// The rule's id.
        rule: String,
        /// The target as written.
        target: String,
    },
    /// A group member that names no known tool or action.
    #[error("group `{group}` lists `{member}`, which is not a tool or action of this workspace")]
    UnknownGroupMember {
        /// The group's name.
        group: String,
        /// The member as written.
        member: String,
    },
    /// A command or redirect condition on an action that takes no shell command line.
    #[error("rule `{rule}` matches shell commands, but `{action}` has no command argument; target `shell.exec` or set `command_arg` on the action")]
    CommandWithoutShell {
        /// The rule's id.
        rule: String,
        /// The action it targets.
        action: String,
    },
    /// A rule that lowers the tier of an action that always crosses the workspace boundary.
    #[error("rule `{rule}` lowers the tier of `{action}`, which crosses the workspace boundary; lowering is only honoured for actions inside it")]
    LowerOnCrossing {
        /// The rule's id.
        rule: String,
        /// The crossing action.
        action: String,
    },
    /// A rule id that `remove_rule` could not find.
    #[error(
        "no rule with id `{0}`; list the rules with `headmaster tool history` or the Policy screen"
    )]
    NoSuchRule(String),
    /// Text that is not a valid rule or policy.
    #[error("not a valid rule: {0}")]
    Syntax(String),
}
