//! Arguments of `email.send`, their validation, and what a reviewer sees.

use serde::{Deserialize, Serialize};

use super::EmailConfig;
use crate::error::ArgError;
use crate::secret::mentions_reference;

/// Most recipients of one message, To, Cc and Bcc together.
pub const MAX_RECIPIENTS: usize = 50;
/// Longest address, in bytes (RFC 5321's path limit).
pub const MAX_ADDRESS_BYTES: usize = 254;
/// Longest subject, in bytes (RFC 5322's line limit).
pub const MAX_SUBJECT_BYTES: usize = 998;
/// Largest body, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Characters of the body shown to a reviewer.
pub const BODY_PREVIEW_CHARS: usize = 500;

/// Arguments of `email.send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSendArgs {
    /// Primary recipients (at least one).
    pub to: Vec<String>,
    /// Copy recipients.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind-copy recipients: in the envelope, never in the headers.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// Where replies should go, if not to the sender.
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// Which header a recipient is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientKind {
    /// `To`
    To,
    /// `Cc`
    Cc,
    /// `Bcc` (envelope only)
    Bcc,
}

/// One recipient as a reviewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// To, Cc or Bcc.
    pub kind: RecipientKind,
    /// The address.
    pub address: String,
    /// Its domain, lower case (what "outside the organisation" rules look at).
    pub domain: String,
}

/// What a reviewer must see before a message is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailAffected {
    /// The sender (from the workspace configuration).
    pub from: String,
    /// The SMTP server, `host:port`.
    pub server: String,
    /// Every recipient, To, then Cc, then Bcc.
    pub recipients: Vec<Recipient>,
    /// The distinct recipient domains, sorted.
    pub domains: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The first 500 characters of the body.
    pub body_preview: String,
    /// The body's length in characters.
    pub body_chars: usize,
    /// The reply-to address, if any.
    pub reply_to: Option<String>,
}

impl EmailSendArgs {
    /// Checks addresses, counts, sizes, and that no field references a credential.
    pub fn validate(&self) -> Result<(), ArgError> {
        if self.to.is_empty() {
            return Err(ArgError::new(
                "to",
                "is empty",
                "at least one recipient address",
            ));
        }
        let count = self.to.len() + self.cc.len() + self.bcc.len();
        if count > MAX_RECIPIENTS {
            return Err(ArgError::new(
                "to",
                format!("with cc and bcc has {count} recipients"),
                format!("at most {MAX_RECIPIENTS} recipients in to, cc and bcc together"),
            ));
        }
        let mut seen: Vec<String> = Vec::with_capacity(count);
        for (field, index, address) in self.addresses() {
            let field = format!("{field}[{index}]");
            check_address(&field, address)?;
            let lower = address.to_ascii_lowercase();
            if seen.contains(&lower) {
                return Err(ArgError::new(
                    field,
                    format!("repeats `{address}`"),
                    "each recipient once across to, cc and bcc",
                ));
            }
            seen.push(lower);
        }
        if let Some(reply_to) = &self.reply_to {
            check_address("reply_to", reply_to)?;
        }
        if self.subject.len() > MAX_SUBJECT_BYTES {
            return Err(ArgError::new(
                "subject",
                format!("is {} bytes", self.subject.len()),
                format!("at most {MAX_SUBJECT_BYTES} bytes"),
            ));
        }
        if self.subject.chars().any(char::is_control) {
            return Err(ArgError::new(
                "subject",
                "contains a line break or control character",
                "a single line of text",
            ));
        }
        if self.body.len() > MAX_BODY_BYTES {
            return Err(ArgError::new(
                "body",
                format!("is {} bytes", self.body.len()),
                format!("at most {MAX_BODY_BYTES} bytes"),
            ));
        }
        if self.body.contains('\0') {
            return Err(ArgError::new(
                "body",
                "contains a NUL character",
                "plain text",
            ));
        }
        for (field, text) in [("subject", &self.subject), ("body", &self.body)] {
            if mentions_reference(text) {
                return Err(ArgError::new(
                    field,
                    "contains a `{{credential:…}}` reference",
                    "plain text: a message leaves the workspace for people outside it, so credentials are never substituted into email",
                ));
            }
        }
        Ok(())
    }

    /// The reviewer's description, with the sender and server from `config`.
    pub fn describe(&self, config: &EmailConfig) -> EmailAffected {
        let recipients: Vec<Recipient> = self
            .addresses()
            .map(|(field, _, address)| Recipient {
                kind: match field {
                    "to" => RecipientKind::To,
                    "cc" => RecipientKind::Cc,
                    _ => RecipientKind::Bcc,
                },
                address: address.clone(),
                domain: domain_of(address),
            })
            .collect();
        let mut domains: Vec<String> = recipients.iter().map(|r| r.domain.clone()).collect();
        domains.sort();
        domains.dedup();
        EmailAffected {
            from: config.from.clone(),
            server: format!("{}:{}", config.host, config.port),
            recipients,
            domains,
            subject: self.subject.clone(),
            body_preview: self.body.chars().take(BODY_PREVIEW_CHARS).collect(),
            body_chars: self.body.chars().count(),
            reply_to: self.reply_to.clone(),
        }
    }

    /// Every recipient with its list's name and its index in that list.
    pub(crate) fn addresses(&self) -> impl Iterator<Item = (&'static str, usize, &String)> {
        self.to
            .iter()
            .enumerate()
            .map(|(i, a)| ("to", i, a))
            .chain(self.cc.iter().enumerate().map(|(i, a)| ("cc", i, a)))
            .chain(self.bcc.iter().enumerate().map(|(i, a)| ("bcc", i, a)))
    }
}

fn check_address(field: &str, address: &str) -> Result<(), ArgError> {
    let allowed = "a plain address such as `name@example.com` (no display name), at most 254 bytes";
    if address.len() > MAX_ADDRESS_BYTES {
        return Err(ArgError::new(
            field,
            format!("is {} bytes", address.len()),
            allowed,
        ));
    }
    address
        .parse::<lettre::Address>()
        .map(drop)
        .map_err(|error| {
            ArgError::new(
                field,
                format!("`{address}` is not a valid address ({error})"),
                allowed,
            )
        })
}

fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> EmailSendArgs {
        EmailSendArgs {
            to: vec!["a@example.com".to_owned()],
            cc: vec!["b@Partner.org".to_owned()],
            bcc: vec!["c@example.com".to_owned()],
            subject: "Hello".to_owned(),
            body: "Body".to_owned(),
            reply_to: None,
        }
    }

    #[test]
    fn refuses_bad_addresses_with_the_field_index() {
        let mut bad = args();
        bad.cc.push("not-an-address".to_owned());
        let error = bad.validate().unwrap_err();
        assert_eq!(error.field, "cc[1]");
        assert!(
            error
                .problem
                .starts_with("`not-an-address` is not a valid address"),
            "{}",
            error.problem
        );
    }

    #[test]
    fn refuses_too_many_recipients_duplicates_and_header_injection() {
        let mut many = args();
        many.bcc = (0..49).map(|i| format!("r{i}@example.com")).collect();
        assert_eq!(
            many.validate().unwrap_err().problem,
            "with cc and bcc has 51 recipients"
        );
        let mut twice = args();
        twice.bcc.push("A@example.com".to_owned());
        assert_eq!(twice.validate().unwrap_err().field, "bcc[1]");
        let mut injected = args();
        injected.subject = "Hi\r\nBcc: evil@example.net".to_owned();
        assert_eq!(injected.validate().unwrap_err().field, "subject");
        let mut secret = args();
        secret.body = "token: {{credential:API}}".to_owned();
        assert_eq!(secret.validate().unwrap_err().field, "body");
    }
}
