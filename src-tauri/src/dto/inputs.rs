//! Inputs of the audit, tools, approval and runtime commands: the forms the UI sends, parsed
//! into the core's types. Parsing only; every decision about them is the core's.

use std::collections::BTreeMap;

use headmaster_core::access::Scope;
use headmaster_core::approvals::{ApprovalDecision, GrantRequest};
use headmaster_core::audit::AuditFilter;
use headmaster_core::runtime::{Playbook, EXAMPLE_PLAYBOOKS};
use headmaster_core::vault::INSTANCE_SCOPE;
use serde::{Deserialize, Serialize};

use super::{workspace_id, CommandError, CommandResult};

/// Parses the audit chain the UI names: `instance` for the organisation's chain, else a
/// workspace id.
pub fn chain_scope(text: &str) -> CommandResult<Scope> {
    if text == INSTANCE_SCOPE {
        return Ok(Scope::Org);
    }
    Ok(Scope::Workspace(workspace_id(text)?))
}

/// The Audit screen's filters. Empty text fields mean "no filter", so the form can send every
/// field as it stands.
#[derive(Debug, Default, Deserialize, ts_rs::TS)]
#[serde(default)]
#[ts(rename = "AuditFilter", optional_fields = nullable)]
pub struct AuditFilterInput {
    since: Option<String>,
    until: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    run: Option<String>,
    limit: Option<u32>,
    before_seq: Option<u64>,
}

impl From<AuditFilterInput> for AuditFilter {
    fn from(input: AuditFilterInput) -> Self {
        let text = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        AuditFilter {
            since: text(input.since),
            until: text(input.until),
            actor: text(input.actor),
            action: text(input.action),
            outcome: text(input.outcome),
            run: text(input.run),
            limit: input.limit,
            before_seq: input.before_seq,
        }
    }
}

/// Parses `approve` or `reject`.
pub fn decision(text: &str) -> CommandResult<ApprovalDecision> {
    match text {
        "approve" => Ok(ApprovalDecision::Approve),
        "reject" => Ok(ApprovalDecision::Reject),
        other => Err(CommandError::new(
            "invalid_input",
            format!("{other:?} is not a decision; choose approve or reject"),
        )),
    }
}

/// The grant form: the action, who it is for (a username or `agent:<id>`), argument patterns
/// (exact JSON or text, or `like:GLOB`) and a lifetime of at most 24 hours.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct GrantInput {
    action: String,
    principal: String,
    #[serde(default)]
    args: BTreeMap<String, String>,
    #[ts(type = "number")]
    minutes: i64,
}

impl From<GrantInput> for GrantRequest {
    fn from(input: GrantInput) -> Self {
        GrantRequest {
            action: input.action.trim().to_string(),
            principal: input.principal.trim().to_string(),
            args: input.args,
            minutes: input.minutes,
        }
    }
}

/// One `key=value` setting of a tool's configuration form, in the order the form lists them.
#[derive(Debug, Deserialize)]
pub struct SettingInput {
    key: String,
    value: String,
}

/// The settings as the core's `configure_tool` takes them.
pub fn setting_pairs(settings: Vec<SettingInput>) -> Vec<(String, String)> {
    settings.into_iter().map(|s| (s.key, s.value)).collect()
}

/// An example playbook the UI offers to install.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ExamplePlaybook {
    /// File name, used to install it.
    pub file: &'static str,
    /// Agent name it installs as.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Tools it proposes.
    pub tools: Vec<String>,
}

/// The example playbooks shipped with the core.
pub fn example_playbooks() -> Vec<ExamplePlaybook> {
    EXAMPLE_PLAYBOOKS
        .iter()
        // The core's own tests parse every example, so a failure here cannot ship; skipping
        // keeps the screen usable regardless.
        .filter_map(|(file, text)| {
            Playbook::parse(text).ok().map(|playbook| ExamplePlaybook {
                file,
                name: playbook.name,
                description: playbook.description,
                tools: playbook.tools,
            })
        })
        .collect()
}

/// The TOML text of the example playbook named `file`.
pub fn example_playbook(file: &str) -> CommandResult<&'static str> {
    EXAMPLE_PLAYBOOKS
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            CommandError::new(
                "not_found",
                format!("no example playbook named {file:?}; pick one the screen lists"),
            )
        })
}

#[cfg(test)]
mod tests {
    use headmaster_core::ids::WorkspaceId;

    use super::*;

    #[test]
    fn chain_scope_names_the_organisation_or_a_workspace() {
        assert_eq!(chain_scope("instance").unwrap(), Scope::Org);
        let id = WorkspaceId::new();
        assert_eq!(chain_scope(&id.to_string()).unwrap(), Scope::Workspace(id));
        assert_eq!(chain_scope("Acme").unwrap_err().code, "invalid_input");
    }

    #[test]
    fn empty_filter_fields_are_no_filter() {
        let input: AuditFilterInput = serde_json::from_value(serde_json::json!({
            "since": "", "actor": "  ", "action": "auth.", "outcome": null, "before_seq": 40,
        }))
        .unwrap();
        let filter = AuditFilter::from(input);
        assert_eq!(filter.since, None);
        assert_eq!(filter.actor, None);
        assert_eq!(filter.action.as_deref(), Some("auth."));
        assert_eq!(filter.outcome, None);
        assert_eq!(filter.before_seq, Some(40));
    }

    #[test]
    fn decisions_are_approve_or_reject() {
        assert_eq!(decision("approve").unwrap(), ApprovalDecision::Approve);
        assert_eq!(decision("reject").unwrap(), ApprovalDecision::Reject);
        assert_eq!(decision("maybe").unwrap_err().code, "invalid_input");
    }

    #[test]
    fn every_example_playbook_is_offered_and_installable_by_file_name() {
        let examples = example_playbooks();
        assert_eq!(examples.len(), EXAMPLE_PLAYBOOKS.len());
        let weekly = examples
            .iter()
            .find(|e| e.name == "weekly-client-update")
            .expect("the weekly update example");
        assert!(weekly.tools.contains(&"email.send".to_string()));
        assert!(example_playbook(weekly.file)
            .unwrap()
            .contains("weekly-client-update"));
        assert_eq!(example_playbook("nope.toml").unwrap_err().code, "not_found");
    }
}
