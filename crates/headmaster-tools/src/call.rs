//! One tool call from parsing to execution: [`ToolCall`] (validated arguments),
//! [`ToolContext`] (a workspace's settings), [`AffectedResources`] (what a reviewer sees) and
//! [`ToolOutput`] (what comes back).
//!
//! The core's order is: `ToolCall::parse` → its own catalog and permission checks →
//! `ToolContext::affected` for the approval request → the gate → `ToolContext::execute` with a
//! credential resolver. `execute` re-validates, so a call cannot be built around the checks.

use serde::Serialize;
use serde_json::Value;

use crate::catalog::Action;
use crate::email::{self, EmailAffected, EmailConfig, EmailError, EmailReceipt, EmailSendArgs};
use crate::error::{ArgError, ToolError};
use crate::files::{
    self, FileListArgs, FileListOutput, FileReadArgs, FileReadOutput, FileScope, FileWriteAffected,
    FileWriteArgs, FileWriteOutput,
};
use crate::http::{self, HttpAffected, HttpContext, HttpMethod, HttpRequestArgs, HttpResponse};
use crate::secret::CredentialResolver;

/// A parsed and validated call of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolCall {
    /// `file.read`
    FileRead(FileReadArgs),
    /// `file.write`
    FileWrite(FileWriteArgs),
    /// `file.list`
    FileList(FileListArgs),
    /// `http.get`, `http.head`, `http.post`, `http.put`, `http.patch`, `http.delete`
    Http(HttpMethod, HttpRequestArgs),
    /// `email.send`
    EmailSend(EmailSendArgs),
}

/// What a reviewer must see before approving a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AffectedResources {
    /// A file to be read.
    FileRead {
        /// Its path in the workspace files folder.
        path: String,
    },
    /// A folder to be listed.
    FileList {
        /// Its path (empty for the folder itself).
        path: String,
    },
    /// A file to be written, with the diff.
    FileWrite(FileWriteAffected),
    /// An HTTP request.
    Http(HttpAffected),
    /// An email.
    Email(EmailAffected),
}

/// What a call returned. Secret values used by the call never appear in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToolOutput {
    /// `file.read`
    FileRead(FileReadOutput),
    /// `file.write`
    FileWrite(FileWriteOutput),
    /// `file.list`
    FileList(FileListOutput),
    /// `http.*`
    Http(HttpResponse),
    /// `email.send`
    EmailSent(EmailReceipt),
}

/// A workspace's settings for every tool in this crate.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// The workspace files folder and its limits.
    pub files: FileScope,
    /// The HTTP allowlist, limits and resolver.
    pub http: HttpContext,
    /// The SMTP settings, if an Admin configured them.
    pub email: Option<EmailConfig>,
}

impl ToolCall {
    /// Parses `args` for the action called `action` (`file.write`, …) and validates them.
    pub fn parse(action: &str, args: &Value) -> Result<ToolCall, ToolError> {
        let known = Action::from_name(action).ok_or_else(|| ToolError::UnknownAction {
            name: action.to_owned(),
            known: Action::ALL.map(Action::name).join(", "),
        })?;
        let call = match known {
            Action::FileRead => ToolCall::FileRead(decode(known, args)?),
            Action::FileWrite => ToolCall::FileWrite(decode(known, args)?),
            Action::FileList => ToolCall::FileList(decode(known, args)?),
            Action::EmailSend => ToolCall::EmailSend(decode(known, args)?),
            Action::HttpGet => ToolCall::Http(HttpMethod::Get, decode(known, args)?),
            Action::HttpHead => ToolCall::Http(HttpMethod::Head, decode(known, args)?),
            Action::HttpPost => ToolCall::Http(HttpMethod::Post, decode(known, args)?),
            Action::HttpPut => ToolCall::Http(HttpMethod::Put, decode(known, args)?),
            Action::HttpPatch => ToolCall::Http(HttpMethod::Patch, decode(known, args)?),
            Action::HttpDelete => ToolCall::Http(HttpMethod::Delete, decode(known, args)?),
        };
        call.validate()?;
        Ok(call)
    }

    /// The action this call runs.
    pub fn action(&self) -> Action {
        match self {
            ToolCall::FileRead(_) => Action::FileRead,
            ToolCall::FileWrite(_) => Action::FileWrite,
            ToolCall::FileList(_) => Action::FileList,
            ToolCall::EmailSend(_) => Action::EmailSend,
            ToolCall::Http(method, _) => match method {
                HttpMethod::Get => Action::HttpGet,
                HttpMethod::Head => Action::HttpHead,
                HttpMethod::Post => Action::HttpPost,
                HttpMethod::Put => Action::HttpPut,
                HttpMethod::Patch => Action::HttpPatch,
                HttpMethod::Delete => Action::HttpDelete,
            },
        }
    }

    /// Checks the arguments against the action's rules (no file system, network or settings).
    pub fn validate(&self) -> Result<(), ArgError> {
        match self {
            ToolCall::FileRead(args) => args.validate(),
            ToolCall::FileWrite(args) => args.validate(),
            ToolCall::FileList(args) => args.validate(),
            ToolCall::Http(method, args) => args.validate(*method),
            ToolCall::EmailSend(args) => args.validate(),
        }
    }

    /// The credentials the arguments will have substituted at execution (sorted, distinct).
    /// The core loads these (plus the tool configuration's, such as
    /// [`EmailConfig::credential_references`]) and audits their use.
    pub fn credential_references(&self) -> Vec<String> {
        match self {
            ToolCall::Http(_, args) => args.credential_references(),
            ToolCall::FileRead(_)
            | ToolCall::FileWrite(_)
            | ToolCall::FileList(_)
            | ToolCall::EmailSend(_) => Vec::new(),
        }
    }
}

impl ToolContext {
    /// What a reviewer must see before `call` runs. Refuses calls that would certainly be
    /// refused at execution (a host off the allowlist, a write over the size limit, a path
    /// through a link), so nobody is asked to approve them.
    pub async fn affected(&self, call: &ToolCall) -> Result<AffectedResources, ToolError> {
        // Every branch validates its arguments (the module functions do it themselves).
        Ok(match call {
            ToolCall::FileRead(args) => {
                args.validate()?;
                AffectedResources::FileRead {
                    path: args.path.clone(),
                }
            }
            ToolCall::FileList(args) => {
                args.validate()?;
                AffectedResources::FileList {
                    path: args.path.clone().unwrap_or_default(),
                }
            }
            ToolCall::FileWrite(args) => {
                AffectedResources::FileWrite(files::affected_write(&self.files, args).await?)
            }
            ToolCall::Http(method, args) => {
                AffectedResources::Http(http::affected(&self.http, *method, args)?)
            }
            ToolCall::EmailSend(args) => {
                args.validate()?;
                AffectedResources::Email(args.describe(self.email_config()?))
            }
        })
    }

    /// Runs `call`. Credentials are taken from `credentials` only here; the output and any
    /// error are scrubbed of every value used.
    pub async fn execute(
        &self,
        call: &ToolCall,
        credentials: &dyn CredentialResolver,
    ) -> Result<ToolOutput, ToolError> {
        // The module functions validate their arguments again before running anything.
        Ok(match call {
            ToolCall::FileRead(args) => ToolOutput::FileRead(files::read(&self.files, args).await?),
            ToolCall::FileWrite(args) => {
                ToolOutput::FileWrite(files::write(&self.files, args).await?)
            }
            ToolCall::FileList(args) => ToolOutput::FileList(files::list(&self.files, args).await?),
            ToolCall::Http(method, args) => {
                ToolOutput::Http(http::execute(&self.http, *method, args, credentials).await?)
            }
            ToolCall::EmailSend(args) => ToolOutput::EmailSent(
                email::execute(self.email_config()?, args, credentials).await?,
            ),
        })
    }

    fn email_config(&self) -> Result<&EmailConfig, ToolError> {
        self.email
            .as_ref()
            .ok_or(ToolError::Email(EmailError::NotConfigured))
    }
}

/// Deserialises the arguments of `action`, refusing unknown fields.
fn decode<T: serde::de::DeserializeOwned>(action: Action, args: &Value) -> Result<T, ToolError> {
    T::deserialize(args).map_err(|error| {
        ToolError::InvalidArguments(ArgError::new(
            "(arguments)",
            format!("do not match the schema of {} ({error})", action.name()),
            "the fields listed in the action's `args_schema`",
        ))
    })
}
