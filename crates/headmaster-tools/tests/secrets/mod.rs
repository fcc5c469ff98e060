//! Credentials are substituted where the request needs them and nowhere else: the server gets
//! the value, while outputs, reviewer descriptions and errors only ever show the reference or
//! `[credential:NAME]` — even when a server echoes the value back.

use std::sync::Arc;

use headmaster_tools::email::{EmailConfig, EmailError, SmtpTls};
use headmaster_tools::http::{HttpConfig, HttpError, SystemResolver};
use headmaster_tools::{ToolCall, ToolError};
use serde_json::json;

use crate::http::context;
use crate::support::http_server::{Reply, TestServer};
use crate::support::smtp::SmtpSink;
use crate::support::{credentials, ScriptedResolver};

const TOKEN: &str = "tok-4f9a8b7c6d5e-live";
/// Characters that change under URL encoding, so both forms must be scrubbed.
const KEY: &str = "k3y with space&plus+slash/";

fn assert_clean(text: &str) {
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
    assert!(!text.contains(KEY), "the key leaked: {text}");
    let encoded: String = url::form_urlencoded::byte_serialize(KEY.as_bytes()).collect();
    assert!(!text.contains(&encoded), "the encoded key leaked: {text}");
}

#[tokio::test]
async fn a_header_credential_reaches_the_server_but_never_the_output() {
    let server = TestServer::start(Reply::Echo).await;
    let config = HttpConfig {
        allowed_internal: vec![format!("127.0.0.1:{}", server.port())],
        ..HttpConfig::default()
    };
    let ctx = context(config, Arc::new(SystemResolver));
    let args = json!({
        "url": format!("{}?key={{{{credential:API_KEY}}}}", server.url("/echo")),
        "headers": {"Authorization": "Bearer {{credential:API_TOKEN}}"}
    });
    let call = ToolCall::parse("http.get", &args).unwrap();
    assert_eq!(call.credential_references(), ["API_KEY", "API_TOKEN"]);

    let affected = serde_json::to_string(&ctx.affected(&call).await.unwrap()).unwrap();
    assert_clean(&affected);
    assert!(
        affected.contains("Bearer {{credential:API_TOKEN}}"),
        "{affected}"
    );

    let secrets = credentials(&[("API_TOKEN", TOKEN), ("API_KEY", KEY)]);
    let output = ctx.execute(&call, &secrets).await.unwrap();

    // Substitution happened: the server saw the real values.
    let request = &server.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let encoded: String = url::form_urlencoded::byte_serialize(KEY.as_bytes()).collect();
    assert_eq!(request.target, format!("/echo?key={encoded}"));

    // The echo (body, header, final URL) comes back scrubbed.
    let printed = serde_json::to_string(&output).unwrap();
    assert_clean(&printed);
    assert_clean(&format!("{output:?}"));
    assert!(
        printed.contains("authorization=Bearer [credential:API_TOKEN]"),
        "{printed}"
    );
    assert!(
        printed.contains("target=/echo?key=[credential:API_KEY]"),
        "{printed}"
    );
    assert!(
        printed.contains("\"value\":\"Bearer [credential:API_TOKEN]\""),
        "{printed}"
    );
}

#[tokio::test]
async fn a_server_quoting_the_credential_in_a_refused_redirect_does_not_leak_it() {
    let server =
        TestServer::start(Reply::Redirect(format!("http://10.0.0.1/steal?t={TOKEN}"))).await;
    let config = HttpConfig {
        allowed_hosts: vec!["10.0.0.1".to_owned()],
        allowed_internal: vec![format!("127.0.0.1:{}", server.port())],
        ..HttpConfig::default()
    };
    let ctx = context(config, Arc::new(ScriptedResolver::default()));
    let args =
        json!({"url": server.url("/"), "headers": {"X-Api-Token": "{{credential:API_TOKEN}}"}});
    let call = ToolCall::parse("http.get", &args).unwrap();
    let error = ctx
        .execute(&call, &credentials(&[("API_TOKEN", TOKEN)]))
        .await
        .unwrap_err();
    let ToolError::Http(HttpError::RedirectRefused { location, .. }) = &error else {
        panic!("expected a refused redirect, got {error:?}");
    };
    assert_eq!(location, "http://10.0.0.1/steal?t=[credential:API_TOKEN]");
    assert_clean(&error.to_string());
    assert_clean(&format!("{error:?}"));
}

#[tokio::test]
async fn an_smtp_reply_quoting_the_password_does_not_leak_it() {
    let sink = SmtpSink::start();
    let mut ctx = crate::email::context(sink.port);
    ctx.email = Some(EmailConfig {
        username: Some("agents".to_owned()),
        password: Some("{{credential:SMTP_PASSWORD}}".to_owned()),
        ..ctx.email.clone().unwrap()
    });
    assert_eq!(ctx.email.as_ref().unwrap().tls, SmtpTls::None);
    assert_eq!(
        ctx.email.as_ref().unwrap().credential_references(),
        ["SMTP_PASSWORD"]
    );
    let args = json!({"to": ["alice@example.com"], "subject": "s", "body": "b"});
    let call = ToolCall::parse("email.send", &args).unwrap();
    let error = ctx
        .execute(&call, &credentials(&[("SMTP_PASSWORD", TOKEN)]))
        .await
        .unwrap_err();
    let ToolError::Email(EmailError::Rejected { code, message }) = &error else {
        panic!("expected the login to be refused, got {error:?}");
    };
    assert_eq!(code, "535");
    assert!(
        message.contains("login refused for password [credential:SMTP_PASSWORD]"),
        "{message}"
    );
    assert_clean(&error.to_string());
    assert_clean(&format!("{error:?}"));
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn email_bodies_may_not_reference_credentials_and_missing_ones_are_named() {
    let args = json!({"to": ["alice@example.com"], "subject": "s", "body": "the key is {{credential:API_KEY}}"});
    let ToolError::InvalidArguments(arg) = ToolCall::parse("email.send", &args).unwrap_err() else {
        panic!("expected an argument error");
    };
    assert_eq!(
        (arg.field.as_str(), arg.problem.as_str()),
        ("body", "contains a `{{credential:…}}` reference")
    );

    let ctx = context(
        HttpConfig {
            allowed_hosts: vec!["api.example.com".into()],
            ..HttpConfig::default()
        },
        Arc::new(ScriptedResolver::default()),
    );
    let call = ToolCall::parse("http.get", &json!({"url": "https://api.example.com/", "headers": {"Authorization": "{{credential:MISSING}}"}})).unwrap();
    let error = ctx.execute(&call, &credentials(&[])).await.unwrap_err();
    assert_eq!(error.code(), "credential_unavailable");
    assert!(
        error
            .to_string()
            .starts_with("credential `MISSING` is not available to this call"),
        "{error}"
    );
}

/// Two loopback servers an Admin allowed, the first redirecting to the second with `status`.
async fn two_origins(status: u16) -> (TestServer, TestServer, headmaster_tools::ToolContext) {
    let second = TestServer::start(Reply::Echo).await;
    let first = TestServer::start(Reply::Fixed {
        status,
        headers: vec![("Location".to_owned(), second.url("/next"))],
        body: Vec::new(),
    })
    .await;
    let config = HttpConfig {
        allowed_internal: vec![
            format!("127.0.0.1:{}", first.port()),
            format!("127.0.0.1:{}", second.port()),
        ],
        ..HttpConfig::default()
    };
    (first, second, context(config, Arc::new(SystemResolver)))
}

#[tokio::test]
async fn header_credentials_do_not_follow_a_redirect_to_another_origin() {
    let (first, second, ctx) = two_origins(302).await;
    let args = json!({"url": first.url("/"), "headers": {"Authorization": "Bearer {{credential:API_TOKEN}}", "X-Plain": "kept"}});
    let call = ToolCall::parse("http.get", &args).unwrap();
    ctx.execute(&call, &credentials(&[("API_TOKEN", TOKEN)]))
        .await
        .unwrap();
    assert_eq!(
        first.requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let followed = &second.requests()[0];
    assert_eq!(followed.header("authorization"), None);
    assert_eq!(followed.header("x-plain"), Some("kept"));
}

#[tokio::test]
async fn a_credential_body_is_not_resent_to_another_origin() {
    let (first, second, ctx) = two_origins(307).await;
    let args =
        json!({"url": first.url("/token"), "body": "client_secret={{credential:API_TOKEN}}"});
    let call = ToolCall::parse("http.post", &args).unwrap();
    let error = ctx
        .execute(&call, &credentials(&[("API_TOKEN", TOKEN)]))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ToolError::Http(HttpError::RedirectRefused {
            hop: 1,
            location: second.url("/next"),
            reason: Box::new(HttpError::CredentialsAcrossOrigins { status: 307 }),
        })
    );
    assert_eq!(
        first.requests()[0].body,
        format!("client_secret={TOKEN}").into_bytes()
    );
    assert_eq!(second.connections(), 0);
}
