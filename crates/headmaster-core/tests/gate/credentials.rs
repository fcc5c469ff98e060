//! Credentials are injected at execution and appear nowhere else. A credential holding a marker
//! value is sent in an HTTP header and query to a loopback server that echoes them back, and an
//! SMTP password is quoted back by a server that refuses the login; then every place a value
//! could surface is scanned for the marker: the call's result and error, the approval detail,
//! every decrypted audit payload, every listing, and every byte of the data directory.

use headmaster_core::access::Role;
use headmaster_core::approvals::PageRequest;
use serde_json::{json, Value};

use crate::common::files_under;
use crate::support::http::{HttpServer, Reply};
use crate::support::smtp::SmtpSink;
use crate::support::{executed, having, pending_id, Gate};

const TOKEN: &str = "tok-marker-5d1c93e7a2";
const SMTP_PASSWORD: &str = "smtp-marker-0b7f44c1e9";

fn assert_clean(what: &str, text: &str) {
    for marker in [TOKEN, SMTP_PASSWORD] {
        assert!(
            !text.contains(marker),
            "{what} leaks a credential value: {text}"
        );
    }
}

#[tokio::test]
async fn credential_values_reach_the_tool_and_nothing_else() {
    let gate = Gate::new().await;
    let i = gate.instance();
    let operator = gate.member("oscar", Role::Operator).await;
    let echo = HttpServer::start(Reply::Echo);
    let smtp = SmtpSink::start();
    gate.enable("http").await;
    gate.enable("email").await;
    gate.enable("file").await;
    gate.enable("memory").await;
    gate.configure("http", &[("allowed_internal", &echo.host_port())])
        .await;
    let mut email: Vec<(String, String)> = smtp.settings();
    email.push(("username".into(), "agents".into()));
    email.push(("password".into(), "{{credential:SMTP_PASSWORD}}".into()));
    i.configure_tool(&gate.admin, gate.ws, "email", &email)
        .await
        .unwrap();
    i.set_own_domains(&gate.admin, gate.ws, &["acme.test".to_string()])
        .await
        .unwrap();
    i.set_credential(&gate.admin, gate.ws, "API_TOKEN", TOKEN)
        .await
        .unwrap();
    i.set_credential(&gate.admin, gate.ws, "SMTP_PASSWORD", SMTP_PASSWORD)
        .await
        .unwrap();

    // Listing shows names and use, never values; so does the tool configuration.
    let listed = i.list_credentials(&gate.admin, gate.ws).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["API_TOKEN", "SMTP_PASSWORD"]);
    assert!(listed.iter().all(|c| c.last_used_at.is_none()));
    let mut seen = vec![serde_json::to_string(&listed).unwrap()];
    seen.push(serde_json::to_string(&i.list_tools(&gate.admin, gate.ws).await.unwrap()).unwrap());

    // HTTP: the value goes out in a header and the query; the server echoes both back.
    let mark = gate.mark().await;
    let pending = gate
        .propose(
            &gate.admin,
            "http.get",
            json!({
                "url": echo.url("/echo?key={{credential:API_TOKEN}}"),
                "headers": { "Authorization": "Bearer {{credential:API_TOKEN}}" }
            }),
        )
        .await
        .unwrap();
    seen.push(serde_json::to_string(&pending).unwrap());
    let id = pending_id(&pending);
    let before = i.show_approval(&operator, gate.ws, &id).await.unwrap();
    let shown = serde_json::to_string(&before).unwrap();
    assert!(
        shown.contains("{{credential:API_TOKEN}}"),
        "reviewers see the reference: {shown}"
    );
    seen.push(shown);
    let decision = gate.approve(&operator, &id).await.unwrap();
    let echoed = echo.requests();
    assert_eq!(echoed.len(), 1);
    assert!(
        echoed[0].head.contains(&format!("Bearer {TOKEN}")),
        "the tool did not inject the value: {}",
        echoed[0].head
    );
    assert!(
        echoed[0].head.contains(&format!("key={TOKEN}")),
        "{}",
        echoed[0].head
    );
    let result = serde_json::to_string(&decision).unwrap();
    assert!(
        result.contains("you sent authorization=Bearer [credential:API_TOKEN]"),
        "the echo comes back with a placeholder: {result}"
    );
    seen.push(result);
    let events = gate.events_after(mark).await;
    let used = having(&events, "credential.used", "allowed");
    assert_eq!(used.len(), 1, "{events:?}");
    // The clear target column names the credential's row, never its name (names are sealed).
    assert!(
        uuid::Uuid::parse_str(&used[0].target).is_ok(),
        "{:?}",
        used[0]
    );
    assert_ne!(used[0].target, "API_TOKEN");
    assert_eq!(used[0].approval_id, id);
    seen.push(
        serde_json::to_string(&i.show_approval(&gate.admin, gate.ws, &id).await.unwrap()).unwrap(),
    );

    // SMTP: the server refuses the login and quotes the password in its reply.
    let mail = gate
        .propose(
            &gate.admin,
            "email.send",
            json!({ "to": ["bob@acme.test"], "subject": "s", "body": "b" }),
        )
        .await
        .unwrap();
    let mail_id = pending_id(&mail);
    let error = gate.approve(&operator, &mail_id).await.unwrap_err();
    assert_eq!(error.code(), "tool_failed", "{error}");
    // The server quoted the password back; the error carries a placeholder instead.
    assert!(
        error
            .to_string()
            .contains("refused the password [credential:SMTP_PASSWORD]"),
        "{error}"
    );
    seen.push(error.to_string());
    seen.push(format!("{error:?}"));
    seen.push(
        serde_json::to_string(
            &i.show_approval(&gate.admin, gate.ws, &mail_id)
                .await
                .unwrap(),
        )
        .unwrap(),
    );
    assert!(smtp.messages().is_empty());

    // A reference where no tool substitutes one is refused (file contents stay in clear) or
    // kept as text (memory): no action turns it into the value.
    let error = gate
        .propose(
            &gate.admin,
            "file.write",
            json!({ "path": "drafts/t.txt", "content": "{{credential:API_TOKEN}}" }),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_input", "{error}");
    assert!(!gate.files().join("drafts/t.txt").exists());
    gate.propose(
        &gate.admin,
        "memory.write",
        json!({ "key": "k", "value": "{{credential:API_TOKEN}}" }),
    )
    .await
    .unwrap();
    let read = gate
        .propose(&gate.admin, "memory.read", json!({ "key": "k" }))
        .await
        .unwrap();
    assert_eq!(executed(&read)["value"], "{{credential:API_TOKEN}}");
    seen.push(serde_json::to_string(&read).unwrap());

    // Last use is recorded; the value still is not listed.
    let listed = i.list_credentials(&gate.admin, gate.ws).await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "{listed:?}");
    seen.push(serde_json::to_string(&listed).unwrap());
    seen.push(
        serde_json::to_string(
            &i.list_approvals(&gate.admin, gate.ws, Some("all"), &PageRequest::default())
                .await
                .unwrap()
                .items,
        )
        .unwrap(),
    );
    seen.push(
        serde_json::to_string(&i.policy_history(&gate.admin, gate.ws).await.unwrap()).unwrap(),
    );

    for (n, text) in seen.iter().enumerate() {
        assert_clean(&format!("result #{n}"), text);
    }
    let entries = gate.entries().await;
    assert!(entries.iter().any(|e| e.action == "tool.failed"));
    for entry in &entries {
        assert_clean(
            &format!("audit event {} ({})", entry.seq, entry.action),
            &serde_json::to_string(entry).unwrap(),
        );
        assert_clean("audit payload", &payload_text(&entry.payload));
    }
    for file in files_under(gate.fx.home()) {
        let bytes = std::fs::read(&file).unwrap();
        for marker in [TOKEN, SMTP_PASSWORD] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{} holds a credential value in clear",
                file.display()
            );
        }
    }
}

/// Every string in a JSON value, one per line (catches values nested in strings of JSON).
fn payload_text(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s}\n"),
        Value::Array(items) => items.iter().map(payload_text).collect(),
        Value::Object(map) => map.values().map(payload_text).collect(),
        other => other.to_string(),
    }
}
