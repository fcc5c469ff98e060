//! Building the message and delivering it over SMTP.
//!
//! lettre derives the envelope from To, Cc and Bcc and drops the Bcc header before sending, so
//! blind copies reach their recipients without appearing in the message. The login, if any, is
//! substituted here from its credential reference; lettre keeps its own copy of it for the
//! session (its `Credentials` type is not zeroizing), which is dropped with the transport at
//! the end of this call.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;

use super::error::EmailError;
use super::{EmailConfig, EmailSendArgs, SmtpTls};
use crate::error::ToolError;
use crate::secret::{substitute, CredentialResolver, Scrubber};

/// Result of `email.send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailReceipt {
    /// The Message-ID the message was sent with.
    pub message_id: Option<String>,
    /// How many envelope recipients (To, Cc and Bcc) the server accepted.
    pub recipients: usize,
    /// The server's final reply, for example `250 OK`.
    pub response: String,
}

/// Sends the message. The SMTP login is resolved from `credentials` here; the receipt and any
/// error are scrubbed of it.
pub async fn execute(
    config: &EmailConfig,
    args: &EmailSendArgs,
    credentials: &dyn CredentialResolver,
) -> Result<EmailReceipt, ToolError> {
    config.validate()?;
    args.validate()?;
    let mut scrubber = Scrubber::new();
    match deliver(config, args, credentials, &mut scrubber).await {
        Ok(mut receipt) => {
            receipt.response = scrubber.scrub_str(&receipt.response);
            Ok(receipt)
        }
        Err(error) => Err(error.scrub(&scrubber)),
    }
}

async fn deliver(
    config: &EmailConfig,
    args: &EmailSendArgs,
    credentials: &dyn CredentialResolver,
    scrubber: &mut Scrubber,
) -> Result<EmailReceipt, ToolError> {
    let message = build(config, args)?;
    let message_id = message.headers().get_raw("Message-ID").map(str::to_owned);
    let transport = transport(config, credentials, scrubber)?;
    let limit = Duration::from_millis(config.timeout_ms);
    let response = tokio::time::timeout(limit, transport.send(message))
        .await
        .map_err(|_| EmailError::Timeout {
            limit_ms: config.timeout_ms,
        })?
        .map_err(|error| describe(error, config))?;
    let reply = response.message().collect::<Vec<_>>().join(" ");
    Ok(EmailReceipt {
        message_id,
        recipients: args.to.len() + args.cc.len() + args.bcc.len(),
        response: format!("{} {reply}", response.code()),
    })
}

fn build(config: &EmailConfig, args: &EmailSendArgs) -> Result<Message, EmailError> {
    let invalid = |message: String| EmailError::InvalidMessage { message };
    let mailbox = |text: &str| {
        text.parse::<Address>()
            .map(|address| Mailbox::new(None, address))
            .map_err(|error| invalid(format!("`{text}` is not an address ({error})")))
    };
    let mut builder = Message::builder()
        .from(mailbox(&config.from)?)
        .subject(args.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .message_id(None);
    for address in &args.to {
        builder = builder.to(mailbox(address)?);
    }
    for address in &args.cc {
        builder = builder.cc(mailbox(address)?);
    }
    for address in &args.bcc {
        builder = builder.bcc(mailbox(address)?);
    }
    if let Some(reply_to) = &args.reply_to {
        builder = builder.reply_to(mailbox(reply_to)?);
    }
    builder
        .body(args.body.clone())
        .map_err(|error| invalid(error.to_string()))
}

fn transport(
    config: &EmailConfig,
    credentials: &dyn CredentialResolver,
    scrubber: &mut Scrubber,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, ToolError> {
    let server = format!("{}:{}", config.host, config.port);
    let parameters = || {
        TlsParameters::new(config.host.clone()).map_err(|error| EmailError::Connect {
            server: server.clone(),
            message: format!("TLS could not be set up ({error})"),
        })
    };
    let tls = match config.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(parameters()?),
        SmtpTls::Tls => Tls::Wrapper(parameters()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
        .port(config.port)
        .tls(tls)
        .timeout(Some(Duration::from_millis(config.timeout_ms)));
    if let (Some(username), Some(password)) = (&config.username, &config.password) {
        let username = substitute(username, credentials, scrubber)?;
        let password = substitute(password, credentials, scrubber)?;
        builder = builder.credentials(Credentials::new(
            username.as_str().to_owned(),
            password.as_str().to_owned(),
        ));
    }
    Ok(builder.build())
}

fn describe(error: lettre::transport::smtp::Error, config: &EmailConfig) -> EmailError {
    let message = error.to_string();
    if let Some(code) = error.status() {
        return EmailError::Rejected {
            code: code.to_string(),
            message,
        };
    }
    if error.is_timeout() {
        return EmailError::Timeout {
            limit_ms: config.timeout_ms,
        };
    }
    EmailError::Connect {
        server: format!("{}:{}", config.host, config.port),
        message,
    }
}
