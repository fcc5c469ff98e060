//! `email.send`: a plain-text message over SMTP (lettre, rustls), to at most 50 recipients.
//!
//! The SMTP server, sender and login are per-workspace configuration set by an Admin; the
//! agent only chooses recipients, subject and body. The password is always a
//! `{{credential:NAME}}` reference, resolved at execution only, and is never sent in clear to a
//! remote server: with TLS mode `none` a login is allowed only to a relay on loopback.
//! Arguments may not reference credentials at all (see [`crate::secret`]).

mod args;
mod error;
mod send;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{ArgError, ToolError};
use crate::secret::{mentions_reference, references_in};

pub use args::{EmailAffected, EmailSendArgs, Recipient, RecipientKind, MAX_RECIPIENTS};
pub use error::EmailError;
pub use send::{execute, EmailReceipt};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text. Only for a relay on the same machine; no login is sent over it otherwise.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (never opportunistic).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

/// Per-workspace SMTP settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server's host name or address.
    pub host: String,
    /// Its port (25, 465, 587, …).
    pub port: u16,
    /// Connection protection.
    pub tls: SmtpTls,
    /// The sender address of every message (`agents@example.com`).
    pub from: String,
    /// Login name, literal or a `{{credential:NAME}}` reference.
    #[serde(default)]
    pub username: Option<String>,
    /// Login password: must be a single `{{credential:NAME}}` reference.
    #[serde(default)]
    pub password: Option<String>,
    /// Time limit for the whole delivery, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    30_000
}

impl EmailConfig {
    /// Checks the host, sender, login and time limit.
    pub fn validate(&self) -> Result<(), ToolError> {
        let refuse = |field: &str, problem: &str, allowed: &str| ToolError::InvalidConfig {
            tool: "email",
            error: ArgError::new(field, problem, allowed),
        };
        if url::Host::parse(&self.host).is_err() || self.host.contains([':', '/', '@']) {
            return Err(refuse(
                "host",
                "is not a host name or address",
                "a host such as `smtp.example.com` or `192.0.2.10`",
            ));
        }
        if self.port == 0 {
            return Err(refuse("port", "is 0", "a port from 1 to 65535"));
        }
        if self.from.parse::<lettre::Address>().is_err() {
            return Err(refuse(
                "from",
                "is not an email address",
                "an address such as `agents@example.com`",
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > 600_000 {
            return Err(refuse(
                "timeout_ms",
                "is out of range",
                "1 to 600000 milliseconds",
            ));
        }
        match (&self.username, &self.password) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(refuse(
                    "password",
                    "is set without a username, or the other way round",
                    "both `username` and `password`, or neither",
                ))
            }
            (Some(username), Some(password)) => {
                if mentions_reference(username) && references_in(username).is_err() {
                    return Err(refuse(
                        "username",
                        "has a malformed credential reference",
                        "a literal name or `{{credential:NAME}}`",
                    ));
                }
                if !is_single_reference(password) {
                    return Err(refuse("password", "is not a single credential reference", "`{{credential:NAME}}` naming a stored credential; passwords are never kept in configuration"));
                }
                if self.tls == SmtpTls::None && !self.is_loopback() {
                    return Err(refuse("tls", "is `none` while a login is configured for a remote server", "`starttls` or `tls`; a login over plain text is allowed only to a relay on loopback"));
                }
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// The credentials this configuration uses (the password, and the username if it is one).
    pub fn credential_references(&self) -> Vec<String> {
        let mut names: Vec<String> = [&self.username, &self.password]
            .into_iter()
            .flatten()
            .filter_map(|text| references_in(text).ok())
            .flatten()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// Whether `text` is exactly one `{{credential:NAME}}` and nothing else.
fn is_single_reference(text: &str) -> bool {
    matches!(references_in(text), Ok(names) if names.len() == 1
        && text.len() == names[0].len() + "{{credential:}}".len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EmailConfig {
        EmailConfig {
            host: "smtp.example.com".to_owned(),
            port: 587,
            tls: SmtpTls::Starttls,
            from: "agents@example.com".to_owned(),
            username: Some("agents".to_owned()),
            password: Some("{{credential:SMTP_PASSWORD}}".to_owned()),
            timeout_ms: 10_000,
        }
    }

    fn field(result: Result<(), ToolError>) -> String {
        match result {
            Err(ToolError::InvalidConfig { error, .. }) => error.field,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_reference_password_over_tls() {
        assert_eq!(config().validate(), Ok(()));
        assert_eq!(config().credential_references(), vec!["SMTP_PASSWORD"]);
    }

    #[test]
    fn refuses_a_literal_password_and_plain_text_logins_to_remote_servers() {
        let mut literal = config();
        literal.password = Some("hunter2".to_owned());
        assert_eq!(field(literal.validate()), "password");
        let mut mixed = config();
        mixed.password = Some("x{{credential:P}}".to_owned());
        assert_eq!(field(mixed.validate()), "password");
        let mut plain = config();
        plain.tls = SmtpTls::None;
        assert_eq!(field(plain.validate()), "tls");
        plain.host = "127.0.0.1".to_owned();
        assert_eq!(plain.validate(), Ok(()));
    }

    #[test]
    fn refuses_bad_host_sender_and_half_logins() {
        let mut bad_host = config();
        bad_host.host = "smtp.example.com:25".to_owned();
        assert_eq!(field(bad_host.validate()), "host");
        let mut bad_from = config();
        bad_from.from = "not an address".to_owned();
        assert_eq!(field(bad_from.validate()), "from");
        let mut half = config();
        half.username = None;
        assert_eq!(field(half.validate()), "password");
    }
}
