//! The one error type every action returns, and the argument error every `validate()` returns.
//!
//! Errors carry stable codes ([`ToolError::code`]) for the UI and the audit log; nobody should
//! match on message text. Messages say what happened and what to do. Before an error leaves an
//! executor that used credentials, every text field is passed through the call's
//! [`Scrubber`](crate::Scrubber), so a server that quotes a secret back cannot leak it here.

use std::fmt;

use serde::Serialize;

use crate::email::EmailError;
use crate::files::FileError;
use crate::http::HttpError;
use crate::secret::{CredentialError, Scrubber};

/// Why a tool call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The action name is not in the catalog.
    #[error("unknown action `{name}`; the known actions are {known}")]
    UnknownAction {
        /// The name that was asked for.
        name: String,
        /// The catalog's action names, comma-separated.
        known: String,
    },
    /// The arguments do not fit the action's schema or its rules.
    #[error("invalid arguments: {0}")]
    InvalidArguments(ArgError),
    /// The workspace's configuration for this tool is not usable.
    #[error("invalid {tool} configuration: {error}; an Admin can fix it with `headmaster tool config {tool} …`")]
    InvalidConfig {
        /// The tool whose configuration is wrong (`file`, `http`, `email`).
        tool: &'static str,
        /// Which setting is wrong and what is allowed.
        error: ArgError,
    },
    /// A `file.*` action was refused or failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// An `http.*` action was refused or failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// `email.send` was refused or failed.
    #[error(transparent)]
    Email(#[from] EmailError),
    /// A credential reference could not be substituted.
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

impl ToolError {
    /// A stable, machine-readable code for this error (`file_symlink`, `http_address_refused`, …).
    pub fn code(&self) -> &'static str {
        match self {
            ToolError::UnknownAction { .. } => "unknown_action",
            ToolError::InvalidArguments(_) => "invalid_arguments",
            ToolError::InvalidConfig { .. } => "invalid_config",
            ToolError::File(error) => error.code(),
            ToolError::Http(error) => error.code(),
            ToolError::Email(error) => error.code(),
            ToolError::Credential(error) => error.code(),
        }
    }

    /// Replaces every secret value the scrubber knows in every text field of this error.
    pub fn scrub(mut self, scrubber: &Scrubber) -> Self {
        if !scrubber.is_empty() {
            self.visit_text(&mut |text| *text = scrubber.scrub_str(text));
        }
        self
    }

    /// Calls `visit` on every free-text field, the ones that may quote outside input.
    fn visit_text(&mut self, visit: &mut dyn FnMut(&mut String)) {
        match self {
            ToolError::UnknownAction { name, .. } => visit(name),
            ToolError::InvalidArguments(error) | ToolError::InvalidConfig { error, .. } => {
                error.visit_text(visit)
            }
            ToolError::File(error) => error.visit_text(visit),
            ToolError::Http(error) => error.visit_text(visit),
            ToolError::Email(error) => error.visit_text(visit),
            ToolError::Credential(error) => error.visit_text(visit),
        }
    }
}

/// A precise argument (or configuration) problem: which field, what is wrong, what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgError {
    /// The field, as a path into the arguments (`path`, `headers.Host`, `to[2]`).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
    /// What would be accepted instead.
    pub allowed: String,
}

impl ArgError {
    /// Builds an argument error.
    pub fn new(
        field: impl Into<String>,
        problem: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        ArgError {
            field: field.into(),
            problem: problem.into(),
            allowed: allowed.into(),
        }
    }

    fn visit_text(&mut self, visit: &mut dyn FnMut(&mut String)) {
        visit(&mut self.field);
        visit(&mut self.problem);
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` {}; allowed: {}",
            self.field, self.problem, self.allowed
        )
    }
}

impl From<ArgError> for ToolError {
    fn from(error: ArgError) -> Self {
        ToolError::InvalidArguments(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    #[test]
    fn scrub_replaces_secrets_in_nested_error_text() {
        let mut scrubber = Scrubber::new();
        scrubber.register("SMTP", &SecretValue::new("hunter2-secret".to_owned()));
        let error = ToolError::Email(EmailError::Rejected {
            code: "535".to_owned(),
            message: "bad password hunter2-secret".to_owned(),
        });
        let scrubbed = error.scrub(&scrubber);
        let text = scrubbed.to_string();
        assert!(!text.contains("hunter2-secret"), "{text}");
        assert!(text.contains("[credential:SMTP]"), "{text}");
        assert_eq!(scrubbed.code(), "email_rejected");
    }

    #[test]
    fn arg_error_display_names_field_problem_and_allowed() {
        let error = ArgError::new("path", "is empty", "a relative path");
        assert_eq!(
            error.to_string(),
            "`path` is empty; allowed: a relative path"
        );
    }
}
