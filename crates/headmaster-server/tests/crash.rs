//! The server killed with SIGKILL in the middle of uploads: nothing it accepted is lost, and
//! uploading everything again is idempotent.

use reqwest::StatusCode;

use crate::support::chain::Chain;
use crate::support::{cli, client_for, ServerProcess, TestDevice};

const SEGMENTS: u64 = 60;
const ROWS: u64 = 20;

fn crash_and_recover(database: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = ServerProcess::start(&data, database.as_deref(), &[]);
    let mut db_args = vec!["--data".to_owned(), data.display().to_string()];
    if let Some(db) = &database {
        db_args.extend(["--database".to_owned(), db.clone()]);
    }
    let args = |extra: &[&str]| {
        let mut all: Vec<&str> = db_args.iter().map(String::as_str).collect();
        all.extend_from_slice(extra);
        cli(&all)
    };
    let (ok, token, err) = args(&["enroll", "create"]);
    assert!(ok, "{err}");
    let cert = data.join("tls/cert.pem");
    let device = TestDevice::new(client_for(&cert), server.base());
    let (status, body) = runtime.block_on(device.enroll(token.trim(), "laptop"));
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let mut chain = Chain::new("instance");
    chain.extend(SEGMENTS * ROWS);
    let segments: Vec<Vec<u8>> = (0..SEGMENTS)
        .map(|i| chain.segment(i * ROWS + 1, (i + 1) * ROWS, &device.key))
        .collect();

    // Upload from a background task; kill the server once a third has been accepted.
    let (accepted_tx, accepted_rx) = std::sync::mpsc::channel::<u64>();
    let uploader = {
        let device = TestDevice::with_key(&device, client_for(&cert), server.base());
        let segments = segments.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            for (i, segment) in segments.into_iter().enumerate() {
                let response = rt.block_on(async {
                    tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        device.try_upload("instance", segment),
                    )
                    .await
                });
                match response {
                    Ok(Ok((StatusCode::OK, _))) => {
                        let _ = accepted_tx.send((i as u64 + 1) * ROWS);
                    }
                    _ => return,
                }
            }
        })
    };
    let mut last_accepted = 0;
    while last_accepted < SEGMENTS / 3 * ROWS {
        last_accepted = accepted_rx
            .recv()
            .expect("uploads are accepted before the kill");
    }
    server.signal("-KILL");
    uploader.join().unwrap();
    while let Ok(seq) = accepted_rx.try_recv() {
        last_accepted = last_accepted.max(seq);
    }
    assert!(
        last_accepted < SEGMENTS * ROWS,
        "every upload finished before the kill"
    );

    let mut server = ServerProcess::start(&data, database.as_deref(), &[]);
    let device = TestDevice::with_key(&device, client_for(&cert), server.base());
    runtime.block_on(async {
        let (_, body) = device.get("/api/v1/chains/instance").await;
        let held = body["last_seq"].as_u64().unwrap();
        assert!(
            held >= last_accepted,
            "the server acknowledged seq {last_accepted} but holds only {held}"
        );
        let mut stored = 0;
        for segment in segments {
            let (status, body) = device.upload("instance", segment).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            stored += body["stored"].as_u64().unwrap();
        }
        assert_eq!(
            held + stored,
            SEGMENTS * ROWS,
            "rows were stored twice or lost"
        );
        let (_, body) = device.get("/api/v1/chains/instance").await;
        assert_eq!(body["last_seq"], SEGMENTS * ROWS);
        assert_eq!(
            body["last_hash"],
            hex::encode(chain.rows.last().unwrap().hash)
        );
    });

    // The server's own chain survived the kill too: its export verifies against its key.
    server.signal("-TERM");
    let out = dir.path().join("access");
    let (ok, _, err) = args(&["access", "export", "--out", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    let key = headmaster_server::keys::ServerKey::load(&data.join("keys/signing.key")).unwrap();
    let report = headmaster_protocol::bundle::verify_bundle(
        &out,
        headmaster_protocol::bundle::Trust::Pinned(&[key.signing().verifying_key()]),
    )
    .unwrap();
    assert!(report.is_valid(), "{report:?}");
    assert!(
        report.manifest.unwrap().event_count > SEGMENTS,
        "the access log misses the uploads"
    );
}

#[test]
fn sqlite_survives_sigkill_during_uploads() {
    crash_and_recover(None);
}

#[test]
fn postgres_survives_sigkill_during_uploads() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(crate::support::pg::database());
    drop(runtime);
    crash_and_recover(Some(url));
}
