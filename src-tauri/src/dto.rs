//! Data that crosses the IPC boundary. Domain types stay in the core; these are the shapes the
//! UI sees, and the parsing of what it sends (`inputs` for the audit, tools, approval and
//! runtime forms).

mod inputs;

use headmaster_core::access::Role;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::vault::{KeyScope, RotationReport, INSTANCE_SCOPE};
use headmaster_core::Error;
use serde::Serialize;

pub use inputs::{
    chain_scope, decision, example_playbook, example_playbooks, setting_pairs, AuditFilterInput,
    ExamplePlaybook, GrantInput, SettingInput,
};

/// Every command's error: a stable code and a message for people.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CommandError {
    /// Stable machine code (`forbidden`, `auth_failed`, …).
    pub code: String,
    /// What happened and what to do.
    pub message: String,
}

impl From<Error> for CommandError {
    fn from(error: Error) -> Self {
        Self {
            code: error.code().to_string(),
            message: error.to_string(),
        }
    }
}

impl CommandError {
    /// An error raised by the shell itself.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Result type of every command.
pub type CommandResult<T> = Result<T, CommandError>;

/// The app's state as the UI routes on it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AppStatus {
    /// `setup`, `locked`, `signed_out` or `signed_in`.
    pub state: &'static str,
    /// `keychain` or `passphrase`, once set up.
    pub protection: Option<&'static str>,
    /// The organisation, once unlocked.
    pub org_name: Option<String>,
    /// The data directory.
    pub home: String,
}

/// What the background maintenance worker's latest finished pass did.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct MaintenanceOutcome {
    /// Which pass of this run of the app (1 is the one at unlock).
    pub pass: u64,
    /// Rotations it finished or started by age, one per scope.
    pub reports: Vec<RotationReport>,
}

/// Parses a workspace id sent by the UI.
pub fn workspace_id(text: &str) -> CommandResult<WorkspaceId> {
    text.trim().parse().map_err(|_| {
        CommandError::new(
            "invalid_input",
            format!("{text:?} is not a workspace id; pick the workspace from the switcher"),
        )
    })
}

/// Parses a key scope sent by the UI: `instance` for the organisation, else a workspace id.
pub fn key_scope(text: &str) -> CommandResult<KeyScope> {
    if text == INSTANCE_SCOPE {
        return Ok(KeyScope::Instance);
    }
    Ok(KeyScope::Workspace(workspace_id(text)?))
}

/// Parses an organisation role name (`viewer`, `operator`, `approver`, `admin`).
pub fn org_role(text: &str) -> CommandResult<Role> {
    Role::parse(text).ok_or_else(|| {
        CommandError::new(
            "invalid_input",
            format!(
                "{text:?} is not an organisation role; choose viewer, operator, approver or admin"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_scope_names_the_organisation_or_a_workspace() {
        assert_eq!(key_scope("instance").unwrap(), KeyScope::Instance);
        let id = WorkspaceId::new();
        assert_eq!(key_scope(&id.to_string()).unwrap(), KeyScope::Workspace(id));
        let error = key_scope("Acme Corp").unwrap_err();
        assert_eq!(error.code, "invalid_input");
        assert!(error.message.contains("\"Acme Corp\""), "{}", error.message);
    }

    #[test]
    fn org_roles_parse_case_insensitively_and_reject_custom_names() {
        assert_eq!(org_role("Operator").unwrap(), Role::Operator);
        assert_eq!(org_role("admin").unwrap(), Role::Admin);
        assert_eq!(org_role("auditor").unwrap_err().code, "invalid_input");
    }

    #[test]
    fn core_errors_keep_their_stable_code() {
        let error = CommandError::from(Error::Forbidden {
            action: "user.list".into(),
            capability: "org.users".into(),
            role: "Operator".into(),
        });
        assert_eq!(error.code, "forbidden");
        assert!(error.message.contains("org.users"), "{}", error.message);
    }
}
