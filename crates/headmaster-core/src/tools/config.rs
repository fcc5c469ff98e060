//! Per-workspace tool configuration: SMTP server, HTTP allowlist, file limits, shell sandbox
//! limits. Stored sealed; changed by Admins with `headmaster tool config TOOL key=value…`.
//! Secrets are never stored here: a password field holds a `{{credential:NAME}}` reference.

use std::time::Duration;

use headmaster_sandbox::{Limits, NetworkAccess, SandboxConfig};
use headmaster_tools::email::{EmailConfig, SmtpTls};
use headmaster_tools::files::FileConfig;
use headmaster_tools::http::HttpConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Setting key of the tool configuration.
pub(crate) const TOOL_CONFIG: &str = "tool_config";

/// Every tool's configuration in one workspace.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct ToolConfig {
    /// File limits.
    pub file: FileConfig,
    /// HTTP allowlist and limits.
    pub http: HttpConfig,
    /// SMTP server (none until configured).
    pub email: Option<EmailConfig>,
    /// Shell sandbox.
    pub shell: ShellSettings,
}

/// Shell sandbox settings an Admin may change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(default)]
pub struct ShellSettings {
    /// TCP ports commands may connect to (empty: no network at all).
    pub tcp_ports: Vec<u16>,
    /// Wall-clock limit, seconds.
    pub wall_seconds: u64,
    /// Memory (address space) limit, MiB.
    pub memory_mb: u64,
    /// Process limit.
    pub max_processes: u64,
    /// Output limit per stream, KiB.
    pub max_output_kb: usize,
}

impl Default for ShellSettings {
    fn default() -> Self {
        Self {
            tcp_ports: Vec::new(),
            wall_seconds: 10,
            memory_mb: 256,
            max_processes: 64,
            max_output_kb: 1024,
        }
    }
}

impl ShellSettings {
    /// The sandbox configuration for a workspace files folder.
    pub(crate) fn sandbox(&self, workspace_dir: &std::path::Path) -> SandboxConfig {
        let mut config = SandboxConfig::new(workspace_dir);
        config.network = if self.tcp_ports.is_empty() {
            NetworkAccess::Denied
        } else {
            NetworkAccess::TcpConnect(self.tcp_ports.clone())
        };
        config.limits = Limits {
            wall_time: Duration::from_secs(self.wall_seconds),
            cpu_time: Duration::from_secs(self.wall_seconds),
            address_space_bytes: self.memory_mb * 1024 * 1024,
            max_processes: self.max_processes,
            max_output_bytes: self.max_output_kb * 1024,
            ..Limits::default()
        };
        config
    }
}

impl ToolConfig {
    /// Applies `key=value` settings to one tool's configuration, validating the result.
    pub fn apply(&mut self, tool: &str, pairs: &[(String, String)]) -> Result<()> {
        let bad = |key: &str, value: &str, allowed: &str| {
            Error::InvalidInput(format!("{tool}.{key}: invalid value {value:?}; {allowed}"))
        };
        let number = |key: &str, value: &str| {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| bad(key, value, "use a whole number"))
        };
        let list = |value: &str| -> Vec<String> {
            value
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        match tool {
            "email" => {
                let mut email = self.email.clone().unwrap_or(EmailConfig {
                    host: String::new(),
                    port: 25,
                    tls: SmtpTls::Starttls,
                    from: String::new(),
                    username: None,
                    password: None,
                    timeout_ms: 30_000,
                });
                for (key, value) in pairs {
                    match key.as_str() {
                        "host" => email.host = value.clone(),
                        "port" => email.port = u16::try_from(number(key, value)?).map_err(|_| bad(key, value, "use 1–65535"))?,
                        "tls" => {
                            email.tls = match value.as_str() {
                                "none" => SmtpTls::None,
                                "starttls" => SmtpTls::Starttls,
                                "tls" => SmtpTls::Tls,
                                _ => return Err(bad(key, value, "use none, starttls or tls")),
                            }
                        }
                        "from" => email.from = value.clone(),
                        "username" => email.username = Some(value.clone()).filter(|v| !v.is_empty()),
                        "password" => email.password = Some(value.clone()).filter(|v| !v.is_empty()),
                        "timeout_ms" => email.timeout_ms = number(key, value)?,
                        _ => return Err(unknown(tool, key, "host, port, tls, from, username, password, timeout_ms")),
                    }
                }
                email
                    .validate()
                    .map_err(|e| Error::InvalidInput(format!("email configuration: {e}")))?;
                self.email = Some(email);
            }
            "http" => {
                let mut http = self.http.clone();
                for (key, value) in pairs {
                    match key.as_str() {
                        "allowed_hosts" => http.allowed_hosts = list(value),
                        "allowed_internal" => http.allowed_internal = list(value),
                        "connect_timeout_ms" => http.connect_timeout_ms = number(key, value)?,
                        "total_timeout_ms" => http.total_timeout_ms = number(key, value)?,
                        "max_response_bytes" => http.max_response_bytes = number(key, value)?,
                        "max_request_bytes" => http.max_request_bytes = number(key, value)?,
                        "max_redirects" => {
                            http.max_redirects = u32::try_from(number(key, value)?).map_err(|_| bad(key, value, "too large"))?
                        }
                        _ => {
                            return Err(unknown(
                                tool,
                                key,
                                "allowed_hosts, allowed_internal, connect_timeout_ms, total_timeout_ms, max_response_bytes, max_request_bytes, max_redirects",
                            ))
                        }
                    }
                }
                headmaster_tools::http::HttpContext::new(http.clone())
                    .map_err(|e| Error::InvalidInput(format!("http configuration: {e}")))?;
                self.http = http;
            }
            "file" => {
                let mut file = self.file.clone();
                for (key, value) in pairs {
                    match key.as_str() {
                        "max_read_bytes" => file.max_read_bytes = number(key, value)?,
                        "max_write_bytes" => file.max_write_bytes = number(key, value)?,
                        "max_list_entries" => file.max_list_entries = number(key, value)? as usize,
                        _ => return Err(unknown(tool, key, "max_read_bytes, max_write_bytes, max_list_entries")),
                    }
                }
                self.file = file;
            }
            "shell" => {
                let mut shell = self.shell.clone();
                for (key, value) in pairs {
                    match key.as_str() {
                        "tcp_ports" => {
                            shell.tcp_ports = list(value)
                                .iter()
                                .map(|p| p.parse::<u16>().map_err(|_| bad(key, value, "use a comma-separated list of ports")))
                                .collect::<Result<_>>()?
                        }
                        "wall_seconds" => shell.wall_seconds = number(key, value)?.clamp(1, 3600),
                        "memory_mb" => shell.memory_mb = number(key, value)?.clamp(16, 65_536),
                        "max_processes" => shell.max_processes = number(key, value)?.clamp(1, 4096),
                        "max_output_kb" => shell.max_output_kb = number(key, value)?.clamp(1, 65_536) as usize,
                        _ => return Err(unknown(tool, key, "tcp_ports, wall_seconds, memory_mb, max_processes, max_output_kb")),
                    }
                }
                self.shell = shell;
            }
            other => {
                return Err(Error::InvalidInput(format!(
                    "tool {other:?} has no configuration; configurable tools are email, http, file and shell"
                )))
            }
        }
        Ok(())
    }
}

fn unknown(tool: &str, key: &str, known: &str) -> Error {
    Error::InvalidInput(format!(
        "unknown {tool} setting {key:?}; known settings: {known}"
    ))
}
