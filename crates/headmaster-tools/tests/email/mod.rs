//! `email.send` against a real SMTP server on loopback (aiosmtpd, started by the test).

use std::time::Duration;

use headmaster_tools::email::{EmailConfig, EmailError, SmtpTls};
use headmaster_tools::files::{FileConfig, FileScope};
use headmaster_tools::http::{HttpConfig, HttpContext};
use headmaster_tools::{
    AffectedResources, CredentialSet, ToolCall, ToolContext, ToolError, ToolOutput,
};
use serde_json::{json, Value};

use crate::support::closed_port;
use crate::support::smtp::SmtpSink;

/// A context sending through `127.0.0.1:port` in plain text, without login.
pub fn context(port: u16) -> ToolContext {
    ToolContext {
        files: FileScope::new("/nonexistent", FileConfig::default()),
        http: HttpContext::new(HttpConfig::default()).unwrap(),
        email: Some(EmailConfig {
            host: "127.0.0.1".to_owned(),
            port,
            tls: SmtpTls::None,
            from: "agents@headmaster.test".to_owned(),
            username: None,
            password: None,
            timeout_ms: 10_000,
        }),
    }
}

fn message_args() -> Value {
    json!({
        "to": ["alice@example.com", "bob@partner.org"],
        "cc": ["carol@example.com"],
        "bcc": ["hidden@audit.example.net"],
        "subject": "Quarterly report",
        "body": "Hello,\nthe report is attached in spirit.\n",
        "reply_to": "team@headmaster.test"
    })
}

#[tokio::test]
async fn the_message_reaches_exactly_its_envelope_recipients_and_hides_bcc() {
    let sink = SmtpSink::start();
    let ctx = context(sink.port);
    let call = ToolCall::parse("email.send", &message_args()).unwrap();
    let ToolOutput::EmailSent(receipt) = ctx.execute(&call, &CredentialSet::new()).await.unwrap()
    else {
        panic!("expected a receipt");
    };
    assert_eq!(receipt.recipients, 4);
    assert!(receipt.response.starts_with("250"), "{}", receipt.response);

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message["mail_from"], "agents@headmaster.test");
    let mut recipients: Vec<&str> = message["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            "alice@example.com",
            "bob@partner.org",
            "carol@example.com",
            "hidden@audit.example.net"
        ]
    );
    assert_eq!(message["subject"], "Quarterly report");
    assert_eq!(
        message["body"],
        "Hello,\nthe report is attached in spirit.\n"
    );
    let headers = message["headers"].as_array().unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_owned())
    };
    assert_eq!(
        header("To").as_deref(),
        Some("alice@example.com, bob@partner.org")
    );
    assert_eq!(header("Cc").as_deref(), Some("carol@example.com"));
    assert_eq!(header("Reply-To").as_deref(), Some("team@headmaster.test"));
    assert_eq!(header("Message-ID"), receipt.message_id);
    assert_eq!(header("Bcc"), None, "Bcc must not be in the headers");
    assert!(
        !message["headers"].to_string().contains("hidden@"),
        "the blind copy leaked into a header"
    );
}

#[tokio::test]
async fn the_reviewer_sees_every_recipient_with_its_domain() {
    let ctx = context(closed_port());
    let call = ToolCall::parse("email.send", &message_args()).unwrap();
    let AffectedResources::Email(affected) = ctx.affected(&call).await.unwrap() else {
        panic!("expected an email description");
    };
    assert_eq!(
        serde_json::to_value(&affected).unwrap(),
        json!({
            "from": "agents@headmaster.test",
            "server": format!("127.0.0.1:{}", ctx.email.as_ref().unwrap().port),
            "recipients": [
                {"kind": "to", "address": "alice@example.com", "domain": "example.com"},
                {"kind": "to", "address": "bob@partner.org", "domain": "partner.org"},
                {"kind": "cc", "address": "carol@example.com", "domain": "example.com"},
                {"kind": "bcc", "address": "hidden@audit.example.net", "domain": "audit.example.net"}
            ],
            "domains": ["audit.example.net", "example.com", "partner.org"],
            "subject": "Quarterly report",
            "body_preview": "Hello,\nthe report is attached in spirit.\n",
            "body_chars": 41,
            "reply_to": "team@headmaster.test"
        })
    );
    let mut long = message_args();
    long["body"] = json!("é".repeat(600));
    let AffectedResources::Email(affected) = ctx
        .affected(&ToolCall::parse("email.send", &long).unwrap())
        .await
        .unwrap()
    else {
        panic!("expected an email description");
    };
    assert_eq!(affected.body_preview, "é".repeat(500));
    assert_eq!(affected.body_chars, 600);
}

#[tokio::test]
async fn an_unreachable_server_gives_a_clear_error() {
    let port = closed_port();
    let ctx = context(port);
    let call = ToolCall::parse("email.send", &message_args()).unwrap();
    let error = ctx.execute(&call, &CredentialSet::new()).await.unwrap_err();
    let ToolError::Email(EmailError::Connect { server, message }) = &error else {
        panic!("expected a connection error, got {error:?}");
    };
    assert_eq!(server, &format!("127.0.0.1:{port}"));
    assert!(message.contains("Connection refused"), "{message}");
    assert!(
        error
            .to_string()
            .contains("check the host, port and tls settings"),
        "{error}"
    );
}

#[tokio::test]
async fn invalid_addresses_are_refused_before_any_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ctx = context(listener.local_addr().unwrap().port());
    let mut args = message_args();
    args["bcc"] = json!(["not an address"]);
    let error = match ToolCall::parse("email.send", &args) {
        Err(error) => error,
        Ok(call) => ctx.execute(&call, &CredentialSet::new()).await.unwrap_err(),
    };
    let ToolError::InvalidArguments(arg) = &error else {
        panic!("expected an argument error, got {error:?}")
    };
    assert_eq!(arg.field, "bcc[0]");
    assert!(
        arg.problem
            .starts_with("`not an address` is not a valid address"),
        "{}",
        arg.problem
    );
    // Any connection attempt would already sit in the listen backlog; polling accept once
    // (a zero timeout still polls the future first) shows there is none.
    let accepted = tokio::time::timeout(Duration::ZERO, listener.accept()).await;
    assert!(accepted.is_err(), "the SMTP server was contacted");

    let unconfigured = ToolContext { email: None, ..ctx };
    let call = ToolCall::parse("email.send", &message_args()).unwrap();
    assert_eq!(
        unconfigured
            .execute(&call, &CredentialSet::new())
            .await
            .unwrap_err(),
        ToolError::Email(EmailError::NotConfigured)
    );
}
