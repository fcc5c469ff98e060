//! The machine-readable description of every action and of each tool's settings.
//!
//! The schemas are JSON Schema (a subset: `type`, `properties`, `required`,
//! `additionalProperties`, `items`, `enum`, `default`, limits, `description`) so that the UI can
//! render forms and an agent's prompt can carry them. They are written by hand next to the
//! argument structs they describe; a unit test checks that each schema names exactly the fields
//! its struct accepts and requires, so the two cannot drift apart silently.

use serde::Serialize;
use serde_json::{json, Value};

use crate::email::{SmtpTls, MAX_RECIPIENTS};
use crate::http::HttpMethod;

/// Every action this crate can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    /// `file.read`
    FileRead,
    /// `file.write`
    FileWrite,
    /// `file.list`
    FileList,
    /// `http.get`
    HttpGet,
    /// `http.head`
    HttpHead,
    /// `http.post`
    HttpPost,
    /// `http.put`
    HttpPut,
    /// `http.patch`
    HttpPatch,
    /// `http.delete`
    HttpDelete,
    /// `email.send`
    EmailSend,
}

/// The description of one action, as the catalog, the UI and the agent see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionSpec {
    /// `tool.action`, for example `file.write`.
    pub name: &'static str,
    /// The tool it belongs to (`file`, `http`, `email`).
    pub tool: &'static str,
    /// One sentence for people.
    pub summary: &'static str,
    /// Whether it acts outside the workspace (never auto-executed by policy).
    pub crosses_boundary: bool,
    /// Whether it changes state (in the workspace or outside it).
    pub mutating: bool,
    /// The argument fields where `{{credential:NAME}}` references are substituted.
    pub credential_fields: &'static [&'static str],
    /// JSON Schema of the arguments.
    pub args_schema: Value,
}

impl Action {
    /// All actions, in catalog order.
    pub const ALL: [Action; 10] = [
        Action::FileRead,
        Action::FileWrite,
        Action::FileList,
        Action::HttpGet,
        Action::HttpHead,
        Action::HttpPost,
        Action::HttpPut,
        Action::HttpPatch,
        Action::HttpDelete,
        Action::EmailSend,
    ];

    /// `tool.action`.
    pub fn name(self) -> &'static str {
        match self {
            Action::FileRead => "file.read",
            Action::FileWrite => "file.write",
            Action::FileList => "file.list",
            Action::HttpGet => "http.get",
            Action::HttpHead => "http.head",
            Action::HttpPost => "http.post",
            Action::HttpPut => "http.put",
            Action::HttpPatch => "http.patch",
            Action::HttpDelete => "http.delete",
            Action::EmailSend => "email.send",
        }
    }

    /// The action called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }

    /// The tool part of the name.
    pub fn tool(self) -> &'static str {
        match self.name().split_once('.') {
            Some((tool, _)) => tool,
            None => self.name(),
        }
    }

    /// The HTTP method, for `http.*` actions.
    pub fn http_method(self) -> Option<HttpMethod> {
        match self {
            Action::HttpGet => Some(HttpMethod::Get),
            Action::HttpHead => Some(HttpMethod::Head),
            Action::HttpPost => Some(HttpMethod::Post),
            Action::HttpPut => Some(HttpMethod::Put),
            Action::HttpPatch => Some(HttpMethod::Patch),
            Action::HttpDelete => Some(HttpMethod::Delete),
            Action::FileRead | Action::FileWrite | Action::FileList | Action::EmailSend => None,
        }
    }

    /// Whether the action reaches outside the workspace. Every HTTP request does, reads
    /// included: a GET can carry workspace data out in its URL.
    pub fn crosses_boundary(self) -> bool {
        !matches!(
            self,
            Action::FileRead | Action::FileWrite | Action::FileList
        )
    }

    /// Whether the action changes state.
    pub fn is_mutating(self) -> bool {
        match self.http_method() {
            Some(method) => method.is_mutating(),
            None => matches!(self, Action::FileWrite | Action::EmailSend),
        }
    }

    /// The full description.
    pub fn spec(self) -> ActionSpec {
        ActionSpec {
            name: self.name(),
            tool: self.tool(),
            summary: self.summary(),
            crosses_boundary: self.crosses_boundary(),
            mutating: self.is_mutating(),
            credential_fields: match self.http_method() {
                Some(method) if method.is_mutating() => {
                    &["url (query)", "headers (values)", "body"]
                }
                Some(_) => &["url (query)", "headers (values)"],
                None => &[],
            },
            args_schema: self.args_schema(),
        }
    }

    fn summary(self) -> &'static str {
        match self {
            Action::FileRead => "Read a file in the workspace files folder.",
            Action::FileWrite => "Create or replace a file in the workspace files folder (atomic; parent folders are created).",
            Action::FileList => "List a folder in the workspace files folder.",
            Action::HttpGet => "Fetch a URL on an allowlisted host.",
            Action::HttpHead => "Fetch only the headers of a URL on an allowlisted host.",
            Action::HttpPost => "Send a POST request to an allowlisted host.",
            Action::HttpPut => "Send a PUT request to an allowlisted host.",
            Action::HttpPatch => "Send a PATCH request to an allowlisted host.",
            Action::HttpDelete => "Send a DELETE request to an allowlisted host.",
            Action::EmailSend => "Send a plain-text email from the workspace's sender address.",
        }
    }

    fn args_schema(self) -> Value {
        let path = json!({"type": "string", "minLength": 1, "maxLength": 4096,
            "description": "Relative path inside the workspace files folder, components separated by `/`, no `.` or `..`."});
        match self {
            Action::FileRead => object(json!({"path": path}), &["path"]),
            Action::FileWrite => object(
                json!({
                    "path": path,
                    "content": {"type": "string", "description": "The complete new content."},
                    "encoding": {"type": "string", "enum": ["utf8", "base64"], "default": "utf8",
                        "description": "How `content` is encoded."}
                }),
                &["path", "content"],
            ),
            Action::FileList => object(json!({"path": path}), &[]),
            Action::EmailSend => {
                let list = |what: &str| {
                    json!({"type": "array", "maxItems": MAX_RECIPIENTS,
                    "items": {"type": "string", "format": "email", "maxLength": 254}, "description": what})
                };
                object(
                    json!({
                        "to": list("Primary recipients (at least one; at most 50 recipients in to, cc and bcc together)."),
                        "cc": list("Copy recipients."),
                        "bcc": list("Blind-copy recipients (envelope only, never in the headers)."),
                        "subject": {"type": "string", "maxLength": 998, "description": "One line."},
                        "body": {"type": "string", "maxLength": 1_048_576, "description": "Plain text; credential references are not allowed."},
                        "reply_to": {"type": "string", "format": "email", "maxLength": 254}
                    }),
                    &["to", "subject", "body"],
                )
            }
            http => {
                let mut properties = json!({
                    "url": {"type": "string", "format": "uri", "maxLength": 8192,
                        "description": "Absolute http(s) URL on an allowlisted host; `{{credential:NAME}}` allowed in the query."},
                    "headers": {"type": "object", "maxProperties": 32,
                        "additionalProperties": {"type": "string", "maxLength": 8192},
                        "description": "Request headers; `{{credential:NAME}}` allowed in values. Host, Content-Length, Transfer-Encoding, Connection and other hop-by-hop headers are refused."}
                });
                if http.is_mutating() {
                    properties["body"] = json!({"type": "string",
                        "description": "Request body (text); `{{credential:NAME}}` allowed. Set Content-Type in headers."});
                }
                object(properties, &["url"])
            }
        }
    }
}

/// Every action's description, in catalog order.
pub fn catalog() -> Vec<ActionSpec> {
    Action::ALL.into_iter().map(Action::spec).collect()
}

/// JSON Schema of a tool's per-workspace settings (`file`, `http`, `email`).
pub fn config_schema(tool: &str) -> Option<Value> {
    let bytes = |what: &str| json!({"type": "integer", "minimum": 1, "maximum": 67_108_864, "description": what});
    let millis = |what: &str| json!({"type": "integer", "minimum": 1, "maximum": 600_000, "description": what});
    let schema = match tool {
        "file" => object(
            json!({
                "max_read_bytes": bytes("Largest file file.read returns (default 1 MiB)."),
                "max_write_bytes": bytes("Largest content file.write accepts (default 1 MiB)."),
                "max_list_entries": {"type": "integer", "minimum": 1, "maximum": 100_000, "description": "Most entries file.list returns (default 1000)."}
            }),
            &[],
        ),
        "http" => object(
            json!({
                "allowed_hosts": {"type": "array", "items": {"type": "string"},
                    "description": "Hosts that may be requested: `api.example.com`, `*.example.com` (subdomains only) or an IP address."},
                "allowed_internal": {"type": "array", "items": {"type": "string"},
                    "description": "Exact `host:port` pairs allowed despite resolving to internal addresses (`127.0.0.1:8080`, `[::1]:8080`)."},
                "connect_timeout_ms": millis("Time to establish a connection (default 5000)."),
                "total_timeout_ms": millis("Time for the whole exchange (default 30000)."),
                "max_response_bytes": bytes("Largest response body kept (default 1 MiB)."),
                "max_request_bytes": bytes("Largest request body accepted (default 1 MiB)."),
                "max_redirects": {"type": "integer", "minimum": 0, "maximum": 20, "description": "Most redirects followed (default 5)."}
            }),
            &[],
        ),
        "email" => {
            let modes = [SmtpTls::None, SmtpTls::Starttls, SmtpTls::Tls].map(|mode| json!(mode));
            object(
                json!({
                    "host": {"type": "string", "description": "SMTP server host name or address."},
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                    "tls": {"type": "string", "enum": modes, "description": "`starttls` (required, never opportunistic), `tls` (SMTPS) or `none` (loopback relays only when logging in)."},
                    "from": {"type": "string", "format": "email", "description": "Sender address of every message."},
                    "username": {"type": "string", "description": "Login name, literal or `{{credential:NAME}}`."},
                    "password": {"type": "string", "description": "Must be `{{credential:NAME}}`; never a literal password."},
                    "timeout_ms": millis("Time for the whole delivery (default 30000).")
                }),
                &["host", "port", "tls", "from"],
            )
        }
        _ => return None,
    };
    Some(schema)
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests;
