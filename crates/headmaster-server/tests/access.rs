//! The access log: every call of a session is in it with its caller, IP and user agent, its
//! export verifies as a bundle (with `headmaster audit verify-bundle` too), and an edited row
//! is caught.

use std::process::Command;

use headmaster_protocol::bundle::{verify_bundle, Trust};
use reqwest::StatusCode;

use crate::support::desktop::headmaster_cli;
use crate::support::{cli, Backend, TestServer};

async fn every_call_is_logged_and_the_export_verifies(backend: Backend) {
    let server = TestServer::start(backend).await;
    let device = server.enroll("laptop").await;
    let (status, _) = device.get("/api/v1/devices/self").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = device
        .send("GET", "/api/v1/devices/self", Vec::new(), Vec::new())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = server
        .client()
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = server
        .client()
        .get(server.url("/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let calls = 5; // enroll, signed GET, unsigned GET, health, 404
    let state = server.state.clone();
    let data = server.data.clone();
    let database = server.database.clone();
    let _files = server.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access");
    let summary = headmaster_server::access::export(
        &*state.store,
        &state.data_key,
        &state.server_key,
        &out,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.event_count, calls);
    let key = state.server_key.signing().verifying_key();
    let report = verify_bundle(&out, Trust::Pinned(&[key])).unwrap();
    assert!(report.is_valid(), "{report:?}");

    let events: Vec<serde_json::Value> = std::fs::read_to_string(out.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let paths: Vec<&str> = events
        .iter()
        .map(|e| e["unmapped"]["target"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        paths,
        [
            "/api/v1/devices",
            "/api/v1/devices/self",
            "/api/v1/devices/self",
            "/health",
            "/nowhere"
        ],
        "{events:#?}"
    );
    let outcomes: Vec<&str> = events
        .iter()
        .map(|e| e["unmapped"]["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["allowed", "allowed", "denied", "allowed", "failed"]
    );
    assert_eq!(
        events[1]["unmapped"]["actor_id"],
        device.fingerprint.as_str()
    );
    assert_eq!(events[1]["src_endpoint"]["ip"], "127.0.0.1");
    assert_eq!(events[1]["http_request"]["user_agent"], "headmaster-test/1");

    // The CLI an auditor has checks the same bundle against the pinned server key.
    let out_cli = Command::new(headmaster_cli())
        .args(["audit", "verify-bundle"])
        .arg(&out)
        .arg("--pin")
        .arg(data.root().join("keys/signing.pub"))
        .output()
        .unwrap();
    assert!(
        out_cli.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out_cli.stdout),
        String::from_utf8_lossy(&out_cli.stderr)
    );

    // The admin command exports the same chain.
    let cli_out = dir.path().join("cli-export");
    let (ok, text, err) = cli(&[
        "--data",
        data.root().to_str().unwrap(),
        "--database",
        &database,
        "access",
        "export",
        "--out",
        cli_out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        text.contains(&format!("exported {calls} access-log entries")),
        "{text}"
    );
}

#[tokio::test]
async fn an_edited_access_row_is_caught() {
    let server = TestServer::start(Backend::Sqlite).await;
    for _ in 0..4 {
        server
            .client()
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
    }
    let state = server.state.clone();
    let url = server.data.default_database_url();
    let _files = server.stop().await;
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE access_log SET target = '/forged' WHERE seq = 2")
        .execute(&db)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access");
    headmaster_server::access::export(
        &*state.store,
        &state.data_key,
        &state.server_key,
        &out,
        &mut |_| {},
    )
    .await
    .unwrap();
    let report = verify_bundle(
        &out,
        Trust::Pinned(&[state.server_key.signing().verifying_key()]),
    )
    .unwrap();
    assert!(!report.is_valid());
    let chain = report.chain.as_ref().expect("the chain was checked");
    assert_eq!(chain.first_break().map(|b| b.seq), Some(2), "{report:?}");
}

both_backends!(every_call_is_logged_and_the_export_verifies);
