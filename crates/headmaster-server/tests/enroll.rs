//! Enrollment tokens and device authentication: single use, expiry, hashed at rest, revocation
//! refused at once, and every way of forging or replaying a signed request.

use headmaster_server::api::devices::token_hash;
use reqwest::StatusCode;

use crate::support::{cli, Backend, TestDevice, TestServer};

async fn a_token_enrolls_one_device_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.token().await;
    let device = TestDevice::new(server.client(), server.url(""));
    let (status, body) = device.enroll(&token, "finance-laptop").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["device"]["fingerprint"], device.fingerprint.as_str());
    assert_eq!(body["device"]["name"], "finance-laptop");
    assert_eq!(
        body["server"]["fingerprint"],
        server.state.server_key.fingerprint()
    );
    assert_eq!(body["server"]["pin"], server.state.cert.pin());

    let again = TestDevice::new(server.client(), server.url(""));
    let (status, body) = again.enroll(&token, "second").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("enroll.used_token")),
        "{body}"
    );
    let (status, body) = again.enroll("hm-enroll-made-up", "second").await;
    assert_eq!(
        body["error"]["code"], "enroll.unknown_token",
        "{status} {body}"
    );

    // An expired token, and a key that is enrolled already: neither spends the token.
    let now = headmaster_server::clock::now_ms();
    server
        .state
        .store
        .add_enroll_token(&token_hash("hm-enroll-old"), now - 2_000, now - 1_000)
        .await
        .unwrap();
    let (_, body) = again.enroll("hm-enroll-old", "second").await;
    assert_eq!(body["error"]["code"], "enroll.expired_token", "{body}");
    let fresh = server.token().await;
    let (status, body) = device.enroll(&fresh, "finance-laptop").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("enroll.key_taken")),
        "{body}"
    );
    let (status, body) = again.enroll(&fresh, "second").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the token was spent by the refused enrollment: {body}"
    );

    let (status, body) = TestDevice::new(server.client(), server.url(""))
        .enroll(&server.token().await, "\u{7}bell")
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("enroll.bad_name"))
    );
    let response = server
        .client()
        .post(server.url("/api/v1/devices"))
        .json(&serde_json::json!({"token": server.token().await, "public_key": "ssh-rsa AAAA", "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "enroll.bad_key"
    );
    server.stop().await;
}

async fn a_revoked_device_is_refused_from_its_next_request(backend: Backend) {
    let server = TestServer::start(backend).await;
    let device = server.enroll("laptop").await;
    let (status, body) = device.get("/api/v1/devices/self").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["device"]["fingerprint"], device.fingerprint.as_str());

    let data = server.data.root().to_str().unwrap().to_owned();
    let list = device_list(&data, &server.database);
    assert_eq!(list[0]["name"], "laptop");
    assert_eq!(list[0]["fingerprint"], device.fingerprint.as_str());
    assert!(list[0]["last_seen"].is_string(), "{list}");

    let (ok, out, err) = cli(&[
        "--data",
        &data,
        "--database",
        &server.database,
        "device",
        "revoke",
        &device.fingerprint,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("revoked laptop"), "{out}");
    let (status, body) = device.get("/api/v1/devices/self").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("auth.revoked")),
        "{body}"
    );
    let (ok, _, err) = cli(&[
        "--data",
        &data,
        "--database",
        &server.database,
        "device",
        "revoke",
        "no-such-device",
    ]);
    assert!(!ok && err.contains("device list"), "{err}");

    // Only a fresh token brings the key back, under its old id, with what it uploaded.
    let id = body_id(&list);
    let (status, body) = device.enroll("not-a-token", "laptop again").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = device.enroll(&server.token().await, "laptop again").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["device"]["id"], id.as_str(), "{body}");
    let (status, body) = device.get("/api/v1/devices/self").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // An enrolled key is still refused a second enrollment.
    let (status, body) = device.enroll(&server.token().await, "twice").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("enroll.key_taken")),
        "{body}"
    );
    let list = device_list(&data, &server.database);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "laptop again");
    assert!(list[0]["revoked"].is_null(), "{list}");
    server.stop().await;
}

fn body_id(list: &serde_json::Value) -> String {
    list[0]["id"].as_str().unwrap().to_owned()
}

/// `headmaster-server device list --json`.
fn device_list(data: &str, database: &str) -> serde_json::Value {
    let (ok, out, err) = cli(&[
        "--data",
        data,
        "--database",
        database,
        "device",
        "list",
        "--json",
    ]);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

async fn forged_replayed_and_stale_requests_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let device = server.enroll("laptop").await;
    let path = "/api/v1/devices/self";
    let code = |v: &serde_json::Value| v["error"]["code"].as_str().unwrap_or_default().to_owned();

    let (status, body) = device.send("GET", path, Vec::new(), Vec::new()).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "auth.unsigned")
    );

    // The same signed request twice: the second is a replay.
    let headers = device.sign("GET", path, b"");
    let (status, _) = device.send("GET", path, Vec::new(), headers.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = device.send("GET", path, Vec::new(), headers).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "auth.replay")
    );

    // Signed for another path, another body, another time: the signature no longer matches.
    let headers = device.sign("GET", "/api/v1/chains/instance", b"");
    let (_, body) = device.send("GET", path, Vec::new(), headers).await;
    assert_eq!(code(&body), "auth.bad_signature");
    let headers = device.sign("POST", "/api/v1/chains/instance/segments", b"{}");
    let (_, body) = device
        .send(
            "POST",
            "/api/v1/chains/instance/segments",
            b"{ }".to_vec(),
            headers,
        )
        .await;
    assert_eq!(code(&body), "auth.bad_signature");
    let stale = chrono::Utc::now().timestamp_millis() - 10 * 60 * 1000;
    let headers = device.sign_with("GET", path, b"", "0123456789abcdef0123456789abcdef", stale);
    let (_, body) = device.send("GET", path, Vec::new(), headers).await;
    assert_eq!(code(&body), "auth.stale");

    // Another key claiming this device's fingerprint.
    let impostor = TestDevice::new(server.client(), server.url(""));
    let mut headers = impostor.sign("GET", path, b"");
    let claimed = headers
        .iter_mut()
        .find(|(n, _)| *n == headmaster_protocol::request::DEVICE_HEADER)
        .unwrap();
    claimed.1 = device.fingerprint.clone();
    let (_, body) = impostor.send("GET", path, Vec::new(), headers).await;
    assert_eq!(code(&body), "auth.bad_signature");
    let (status, body) = impostor.get(path).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "auth.unknown_device")
    );

    // A body that is not JSON, and one over the limit.
    let mut headers = device.sign("POST", "/api/v1/chains/instance/segments", b"x");
    headers.push(("content-type", "text/plain".into()));
    let response = server
        .client()
        .post(server.url("/api/v1/chains/instance/segments"))
        .headers(
            headers
                .iter()
                .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
                .collect(),
        )
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = vec![b' '; headmaster_server::api::auth::MAX_BODY + 1];
    let (status, body) = device.post("/api/v1/chains/instance/segments", big).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "request.too_large")
    );
    server.stop().await;
}

#[tokio::test]
async fn tokens_are_stored_only_as_their_hash() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = server.token().await;
    let _ = server.enroll("laptop").await;
    let db = server.data.database_file();
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
    server.stop().await;
    for file in [&bytes, &wal] {
        assert!(
            !contains(file, token.as_bytes()),
            "the token is in the database in clear"
        );
        assert!(
            !contains(file, b"laptop"),
            "the device name is in the database in clear"
        );
    }
    assert!(contains(&bytes, &token_hash(&token)) || contains(&wal, &token_hash(&token)));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

both_backends!(
    a_token_enrolls_one_device_once,
    a_revoked_device_is_refused_from_its_next_request,
    forged_replayed_and_stale_requests_are_refused,
);
