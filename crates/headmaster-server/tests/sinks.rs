//! Push sinks against real receivers: Debian's rsyslog with its TLS input, a loopback Splunk
//! HEC endpoint, a receiver that never answers, and two replicas sharing one sink.

use std::collections::HashSet;

use headmaster_server::sink::{self, SinkSpec};
use headmaster_server::store::sink::SinkRow;
use reqwest::StatusCode;

use crate::support::chain::Chain;
use crate::support::receivers::{expected_uids, wait_until, Hec, Rsyslog};
use crate::support::{Backend, TestDevice, TestServer};

async fn device_id(device: &TestDevice) -> String {
    let (_, body) = device.get("/api/v1/devices/self").await;
    body["device"]["id"].as_str().unwrap().to_owned()
}

async fn sink_row(server: &TestServer, id: &str) -> SinkRow {
    let rows = server.state.store.sinks().await.unwrap();
    rows.into_iter().find(|r| r.id == id).expect("the sink")
}

async fn add(server: &TestServer, spec: SinkSpec) -> String {
    sink::add(&*server.state.store, &server.state.data_key, spec)
        .await
        .unwrap()
}

/// Uploads seq `from..=to` of `chain` in segments of 100.
async fn upload(device: &TestDevice, chain: &Chain, from: u64, to: u64) {
    let mut first = from;
    while first <= to {
        let last = (first + 99).min(to);
        let (status, body) = device
            .upload(&chain.scope, chain.segment(first, last, &device.key))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        first = last + 1;
    }
}

fn assert_once(received: &[String], expected: &[String]) {
    let unique: HashSet<_> = received.iter().collect();
    assert_eq!(unique.len(), received.len(), "an event arrived twice");
    assert_eq!(unique, expected.iter().collect::<HashSet<_>>());
}

async fn syslog_gets_every_event_once_across_a_receiver_restart(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut rsyslog = Rsyslog::start();
    let id = add(
        &server,
        SinkSpec {
            target: rsyslog.target(),
            ca_pem: Some(rsyslog.ca_pem.clone()),
            ..Default::default()
        },
    )
    .await;
    let laptop = server.enroll("Ann's laptop").await;
    let laptop_id = device_id(&laptop).await;
    let mut chain = Chain::new("instance");
    chain.extend(400);

    upload(&laptop, &chain, 1, 200).await;
    wait_until(60, "rsyslog has the first 200 events", || async {
        rsyslog.uids().len() >= 200
    })
    .await;
    let (host, app, msgid, severity, event) = rsyslog.received().remove(0);
    assert_eq!((host.as_str(), app.as_str()), ("Ann'slaptop", "headmaster"));
    assert_eq!(msgid, event["class_uid"].to_string());
    assert!(severity.parse::<u8>().is_ok_and(|s| s <= 7), "{severity}");
    assert_eq!(event["device"]["name"], "Ann's laptop");

    // The receiver goes away: uploads go on, the sink records its failures.
    rsyslog.stop();
    upload(&laptop, &chain, 201, 400).await;
    wait_until(60, "the sink has failed while rsyslog is down", || async {
        sink_row(&server, &id).await.failures > 0
    })
    .await;
    let row = sink_row(&server, &id).await;
    assert!(row.last_error.unwrap().contains("connect"));
    let status = headmaster_server::admin::status(&*server.state.store, &server.state.data_key)
        .await
        .unwrap();
    assert_eq!(status.sinks[0].pending, Some(200));
    assert!(status.sinks[0].last_error.is_some());

    rsyslog.resume();
    wait_until(90, "the sink has caught up after the restart", || async {
        server
            .state
            .store
            .siem_backlog(sink_row(&server, &id).await.cursor.as_deref())
            .await
            .unwrap()
            == Some(0)
    })
    .await;
    // rsyslog writes each batch as it parses it; the cursor moved only once it had closed.
    wait_until(30, "rsyslog has written all 400", || async {
        rsyslog.uids().len() >= 400
    })
    .await;
    assert_once(
        &rsyslog.uids(),
        &expected_uids(&laptop_id, "instance", 1..=400),
    );
    let row = sink_row(&server, &id).await;
    assert_eq!((row.delivered, row.dead_letters, row.failures), (400, 0, 0));
    server.stop().await;
}

/// Two replicas on one PostgreSQL database, both running the sink loop: each event reaches
/// rsyslog once; when the replica pushing stops, the other takes over from the cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_push_a_sink_once_and_take_over() {
    let first = TestServer::start(Backend::Postgres).await;
    let second = first.replica().await;
    let rsyslog = Rsyslog::start();
    let id = add(
        &first,
        SinkSpec {
            target: rsyslog.target(),
            ca_pem: Some(rsyslog.ca_pem.clone()),
            ..Default::default()
        },
    )
    .await;
    let a = first.enroll("a").await;
    let b = TestDevice::with_key(&first.enroll("b").await, second.client(), second.url(""));
    let (a_id, b_id) = (device_id(&a).await, device_id(&b).await);
    let mut chain = Chain::new("instance");
    chain.extend(1000);
    tokio::join!(upload(&a, &chain, 1, 500), upload(&b, &chain, 1, 500));
    wait_until(60, "rsyslog has 1000 events", || async {
        rsyslog.uids().len() >= 1000
    })
    .await;
    let holder = sink_row(&first, &id).await.lease_owner.unwrap();
    let (stopping, staying) = if holder == first.state.replica {
        (first, second)
    } else {
        (second, first)
    };
    // The first server owns the shared data directory: keep it for the other.
    let _data = stopping.stop().await;
    let a = TestDevice::with_key(&a, staying.client(), staying.url(""));
    upload(&a, &chain, 501, 1000).await;
    wait_until(60, "the other replica pushed the rest", || async {
        rsyslog.uids().len() >= 1500
    })
    .await;
    let mut expected = expected_uids(&a_id, "instance", 1..=1000);
    expected.extend(expected_uids(&b_id, "instance", 1..=500));
    assert_once(&rsyslog.uids(), &expected);
    let row = sink_row(&staying, &id).await;
    assert_eq!(
        row.lease_owner.as_deref(),
        Some(staying.state.replica.as_str())
    );
    assert_eq!(row.delivered, 1500);
    staying.stop().await;
}

async fn hec_gets_the_splunk_shape_with_retries_and_dead_letters(backend: Backend) {
    let server = TestServer::start(backend).await;
    let laptop = server.enroll("laptop").await;
    let laptop_id = device_id(&laptop).await;
    let refused = format!("{laptop_id}:instance:7");
    let hec = Hec::start(2, vec![refused.clone()]).await;
    let id = add(
        &server,
        SinkSpec {
            target: hec.target(),
            ca_pem: Some(hec.ca_pem.clone()),
            token: Some("11111111-2222-3333-4444-555555555555\n".into()),
            ..Default::default()
        },
    )
    .await;
    let mut chain = Chain::new("instance");
    chain.extend(50);
    upload(&laptop, &chain, 1, 50).await;
    wait_until(60, "the sink delivered everything", || async {
        let row = sink_row(&server, &id).await;
        row.delivered + row.dead_letters == 50
    })
    .await;

    let row = sink_row(&server, &id).await;
    assert_eq!((row.delivered, row.dead_letters), (49, 1));
    let dead = server.state.store.dead_letters(&id).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event_uid, refused);
    assert!(
        dead[0].reason.contains("Invalid data format"),
        "{}",
        dead[0].reason
    );

    let requests = std::mem::take(&mut hec.log.lock().unwrap().requests);
    // Two 503s, then the batch refused, then event by event.
    assert!(requests.len() >= 3 + 50);
    let mut taken = Vec::new();
    for (i, (path, auth, objects)) in requests.iter().enumerate() {
        assert_eq!(path, "/services/collector/event");
        assert_eq!(auth, "Splunk 11111111-2222-3333-4444-555555555555");
        for o in objects {
            assert!(o["time"].is_f64(), "{o}");
            assert_eq!(o["host"], "laptop");
            assert_eq!(o["source"], "headmaster");
            assert_eq!(o["sourcetype"], "ocsf");
            assert!(o["event"]["class_uid"].is_u64());
        }
        // What the endpoint answered 200 to (the first two were 503, batches holding the
        // refused event 400).
        let uids: Vec<String> = objects
            .iter()
            .map(|o| o["event"]["metadata"]["uid"].as_str().unwrap().to_owned())
            .collect();
        if i >= 2 && !uids.contains(&refused) {
            taken.extend(uids);
        }
    }
    let mut expected = expected_uids(&laptop_id, "instance", 1..=50);
    expected.retain(|u| u != &refused);
    assert_once(&taken, &expected);
    server.stop().await;
}

/// A receiver that accepts connections and never answers holds its sink back and nothing else:
/// every upload is accepted meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_receiver_never_slows_ingest() {
    let server = TestServer::start(Backend::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::unbounded_channel();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
            let _ = accepted_tx.send(());
        }
    });
    // Any CA will do: the handshake never gets that far.
    let ca = std::fs::read_to_string(server.data.cert_files().cert).unwrap();
    let id = add(
        &server,
        SinkSpec {
            target: format!("syslog+tls://127.0.0.1:{port}"),
            ca_pem: Some(ca),
            ..Default::default()
        },
    )
    .await;
    let laptop = server.enroll("laptop").await;
    let mut chain = Chain::new("instance");
    chain.extend(2000);
    upload(&laptop, &chain, 1, 100).await;
    accepted.recv().await.expect("the sink connected");
    upload(&laptop, &chain, 101, 2000).await;
    let row = sink_row(&server, &id).await;
    assert_eq!(row.delivered, 0, "the stuck receiver took nothing");
    assert_eq!(
        server
            .state
            .store
            .siem_backlog(row.cursor.as_deref())
            .await
            .unwrap(),
        Some(2000)
    );
    hold.abort();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sinks_are_refused_with_what_to_do() {
    let server = TestServer::start(Backend::Sqlite).await;
    let store = &*server.state.store;
    let key = &server.state.data_key;
    for (spec, says) in [
        (
            SinkSpec {
                target: "syslog://127.0.0.1:514".into(),
                ..Default::default()
            },
            "syslog+tls://HOST:PORT",
        ),
        (
            SinkSpec {
                target: "syslog+tls://127.0.0.1".into(),
                ..Default::default()
            },
            "6514",
        ),
        (
            SinkSpec {
                target: "hec+https://127.0.0.1:8088".into(),
                ..Default::default()
            },
            "--token-file",
        ),
        (
            SinkSpec {
                target: "syslog+tls://127.0.0.1:6514".into(),
                token: Some("t".into()),
                ..Default::default()
            },
            "takes no token",
        ),
        (
            SinkSpec {
                target: "syslog+tls://127.0.0.1:6514".into(),
                ca_pem: Some("not a certificate".into()),
                ..Default::default()
            },
            "CA file",
        ),
    ] {
        let error = sink::add(store, key, spec).await.unwrap_err();
        assert!(error.contains(says), "{error}");
    }
    assert!(store.sinks().await.unwrap().is_empty());
    server.stop().await;
}

both_backends!(
    syslog_gets_every_event_once_across_a_receiver_restart,
    hec_gets_the_splunk_shape_with_retries_and_dead_letters,
);

/// The `sink` commands of the binary, and the sinks in `status --json`.
#[test]
fn the_sink_commands_add_list_and_remove() {
    use crate::support::cli;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let d = data.to_str().unwrap();
    assert!(cli(&["--data", d, "init"]).0);
    let ca = data.join("tls/cert.pem");
    let token = dir.path().join("hec.token");
    std::fs::write(&token, "abc-123\n").unwrap();
    let (ok, out, err) = cli(&[
        "--data",
        d,
        "--json",
        "sink",
        "add",
        "hec+https://127.0.0.1:8088",
        "--ca",
        ca.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
        "--name",
        "splunk",
    ]);
    assert!(ok, "{err}");
    let id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ok, out, _) = cli(&["--data", d, "--json", "status"]);
    assert!(ok);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sink = &status["sinks"][0];
    assert_eq!(
        (sink["id"].as_str(), sink["name"].as_str()),
        (Some(id.as_str()), Some("splunk"))
    );
    assert_eq!(
        (sink["pending"].as_i64(), sink["delivered"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(!out.contains("abc-123"), "the token is never shown");
    for file in ["server.db", "server.db-wal"] {
        let bytes = std::fs::read(data.join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(7).any(|w| w == b"abc-123"),
            "the token is stored sealed ({file})"
        );
    }
    let (ok, out, _) = cli(&["--data", d, "sink", "list"]);
    assert!(ok && out.contains("hec+https://127.0.0.1:8088"), "{out}");

    let (ok, _, err) = cli(&[
        "--data",
        d,
        "sink",
        "add",
        "syslog+tls://127.0.0.1:6514",
        "--token-file",
        token.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("takes no token"), "{err}");
    assert!(cli(&["--data", d, "sink", "remove", &id]).0);
    let (ok, _, err) = cli(&["--data", d, "sink", "remove", &id]);
    assert!(!ok && err.contains("sink list"), "{err}");
    let (_, out, _) = cli(&["--data", d, "--json", "sink", "list"]);
    assert_eq!(out.trim(), "[]");
}
