//! Audit ingest, the same suite on SQLite and PostgreSQL: appends and replays with receipts the
//! server key signed, every refusal (gap, fork, rollback, bad signature, broken chain, unknown
//! fields) answered with its code and recorded, forks quarantined and nothing overwritten, and
//! stored rows sealed to their place.

use ed25519_dalek::SigningKey;
use headmaster_protocol::receipt::{ReceiptJson, SignedReceipt};
use headmaster_server::ingest::row_place;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::chain::Chain;
use crate::support::{cli, Backend, TestDevice, TestServer};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn receipt(server: &TestServer, body: &Value) -> SignedReceipt {
    let json: ReceiptJson = serde_json::from_value(body["receipt"].clone()).unwrap();
    let signed = SignedReceipt::try_from(json).unwrap();
    signed
        .verify(&server.state.server_key.signing().verifying_key())
        .expect("the receipt verifies with the server key");
    signed
}

async fn device_id(device: &TestDevice) -> String {
    let (_, body) = device.get("/api/v1/devices/self").await;
    body["device"]["id"].as_str().unwrap().to_owned()
}

async fn appends_and_replays_get_receipts_and_rows_are_sealed_in_place(backend: Backend) {
    let server = TestServer::start(backend).await;
    let device = server.enroll("laptop").await;
    let key: &SigningKey = &device.key;
    let mut chain = Chain::new("instance");
    chain.extend(120);

    let (status, body) = device.upload("instance", chain.segment(1, 50, key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stored"], 50);
    let (status, body) = device.upload("instance", chain.segment(51, 100, key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let signed = receipt(&server, &body);
    assert_eq!(
        (
            signed.receipt.seq,
            signed.receipt.hash,
            signed.receipt.device.as_str(),
            signed.receipt.scope.as_str()
        ),
        (
            100,
            chain.rows[99].hash,
            device.fingerprint.as_str(),
            "instance"
        )
    );

    // A replay stores nothing and answers with the latest receipt; an overlap stores the tail.
    let (status, body) = device.upload("instance", chain.segment(51, 100, key)).await;
    assert_eq!(
        (status, body["stored"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{body}"
    );
    assert_eq!(receipt(&server, &body).receipt.seq, 100);
    let (status, body) = device.upload("instance", chain.segment(90, 120, key)).await;
    assert_eq!(
        (status, body["stored"].as_u64()),
        (StatusCode::OK, Some(20)),
        "{body}"
    );

    let (status, body) = device.get("/api/v1/chains/instance").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["last_seq"], 120);
    assert_eq!(body["last_hash"], hex::encode(chain.rows[119].hash));
    assert_eq!(receipt(&server, &body).receipt.seq, 120);
    let (_, body) = device.get("/api/v1/chains/some-workspace").await;
    assert_eq!(
        (body["last_seq"].as_u64(), body["receipt"].is_null()),
        (Some(0), true)
    );
    let (_, body) = device.get("/api/v1/devices/self").await;
    assert_eq!(body["chains"].as_array().unwrap().len(), 1);
    assert_eq!(body["chains"][0]["last_seq"], 120);

    // Stored once each, sealed, and a ciphertext moved to another row does not open there.
    let id = device_id(&device).await;
    let rows = server
        .state
        .store
        .events(&id, "instance", 1, 1000)
        .await
        .unwrap();
    assert_eq!(rows.len(), 120);
    let key = &server.state.data_key;
    for (i, row) in rows.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(row.seq as u64, seq);
        let line = key
            .open(
                row_place("row", &id, "instance", seq).as_bytes(),
                &row.row_sealed,
            )
            .unwrap();
        let parsed: headmaster_protocol::json::ChainRowJson =
            serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed.hash, hex::encode(chain.rows[i].hash));
        let event = key
            .open(
                row_place("event", &id, "instance", seq).as_bytes(),
                &row.event_sealed,
            )
            .unwrap();
        let event: Value = serde_json::from_slice(&event).unwrap();
        assert_eq!(event["metadata"]["uid"], format!("instance:{seq}"));
    }
    assert!(key
        .open(
            row_place("row", &id, "instance", 2).as_bytes(),
            &rows[0].row_sealed
        )
        .is_err());
    assert!(key
        .open(
            row_place("event", &id, "instance", 1).as_bytes(),
            &rows[0].row_sealed
        )
        .is_err());

    // Another device's chain of the same scope is its own.
    let other = server.enroll("desktop-2").await;
    let mut its = Chain::salted("instance", 7);
    its.extend(5);
    let (status, body) = other
        .upload("instance", its.segment(1, 5, &other.key))
        .await;
    assert_eq!(
        (status, body["stored"].as_u64()),
        (StatusCode::OK, Some(5)),
        "{body}"
    );
    server.stop().await;
}

async fn gaps_forks_rollbacks_and_bad_segments_are_refused_and_recorded(backend: Backend) {
    let server = TestServer::start(backend).await;
    let device = server.enroll("laptop").await;
    let key = &device.key;
    let mut chain = Chain::new("ws-1");
    chain.extend(20);
    let (status, _) = device.upload("ws-1", chain.segment(1, 10, key)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = device.upload("ws-1", chain.segment(15, 20, key)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "chain.gap"),
        "{body}"
    );
    assert_eq!(body["error"]["expected_seq"], 11);

    // Another history: from seq 1 and longer than what is held (a fork), shorter (a rollback),
    // and a continuation whose first row follows another seq 10 than the one held (a fork).
    let mut other = Chain::salted("ws-1", 9);
    other.extend(20);
    let (status, body) = device.upload("ws-1", other.segment(1, 12, key)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "chain.fork"),
        "{body}"
    );
    assert_eq!(body["error"]["seq"], 1);
    assert!(body["error"]["quarantine_id"].is_string());
    let (_, body) = device.upload("ws-1", other.segment(1, 5, key)).await;
    assert_eq!(code(&body), "chain.rollback", "{body}");
    let (_, body) = device.upload("ws-1", other.segment(11, 12, key)).await;
    assert_eq!(
        (code(&body), body["error"]["seq"].as_u64()),
        ("chain.fork", Some(11)),
        "{body}"
    );

    // Not signed by this device, a broken chain, unknown fields, the wrong chain's URL.
    let stranger = SigningKey::from_bytes(&[3; 32]);
    let (status, body) = device
        .upload("ws-1", chain.segment(11, 12, &stranger))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "segment.bad_signature"),
        "{body}"
    );
    let mut tampered: Value = serde_json::from_slice(&chain.segment(11, 13, key)).unwrap();
    tampered["rows"][1]["target"] = "edited".into();
    let (status, body) = device
        .upload("ws-1", serde_json::to_vec(&tampered).unwrap())
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "segment.broken_chain"),
        "{body}"
    );
    let mut smuggled: Value = serde_json::from_slice(&chain.segment(11, 12, key)).unwrap();
    smuggled["note"] = "extra".into();
    let (status, body) = device
        .upload("ws-1", serde_json::to_vec(&smuggled).unwrap())
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "segment.malformed"),
        "{body}"
    );
    let (_, body) = device.upload("ws-2", chain.segment(11, 12, key)).await;
    assert_eq!(code(&body), "segment.scope_mismatch", "{body}");

    // Nothing refused changed what is held, and the chain goes on where it was.
    let (_, body) = device.get("/api/v1/chains/ws-1").await;
    assert_eq!(
        (body["last_seq"].as_u64(), body["last_hash"].as_str()),
        (Some(10), Some(hex::encode(chain.rows[9].hash).as_str()))
    );
    let id = device_id(&device).await;
    let held = server
        .state
        .store
        .events(&id, "ws-1", 1, 100)
        .await
        .unwrap();
    assert_eq!(held.len(), 10);
    assert!(held.iter().zip(&chain.rows).all(|(h, r)| h.hash == r.hash));
    let (status, body) = device.upload("ws-1", chain.segment(11, 20, key)).await;
    assert_eq!(
        (status, body["stored"].as_u64()),
        (StatusCode::OK, Some(10)),
        "{body}"
    );

    let quarantined = server.state.store.quarantined().await.unwrap();
    let mut kinds: Vec<_> = quarantined
        .iter()
        .map(|q| (q.kind.as_str(), q.seq))
        .collect();
    kinds.sort();
    assert_eq!(kinds, [("fork", 1), ("fork", 11), ("rollback", 1)]);
    let refusals = server.state.store.refusals(100).await.unwrap();
    let mut codes: Vec<_> = refusals.iter().map(|r| r.code.as_str()).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "chain.fork",
            "chain.fork",
            "chain.gap",
            "chain.rollback",
            "segment.bad_signature",
            "segment.broken_chain",
            "segment.malformed",
            "segment.scope_mismatch"
        ]
    );

    let data = server.data.root().to_str().unwrap().to_owned();
    let (ok, out, err) = cli(&[
        "--data",
        &data,
        "--database",
        &server.database,
        "status",
        "--json",
    ]);
    assert!(ok, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["quarantined"].as_array().unwrap().len(), 3);
    assert_eq!(status["devices"][0]["chains"][0]["last_seq"], 20);
    let (ok, out, _) = cli(&["--data", &data, "--database", &server.database, "status"]);
    assert!(ok && out.contains("3 quarantined upload(s)"), "{out}");
    server.stop().await;
}

both_backends!(
    appends_and_replays_get_receipts_and_rows_are_sealed_in_place,
    gaps_forks_rollbacks_and_bad_segments_are_refused_and_recorded,
);
