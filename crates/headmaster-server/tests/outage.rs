//! The database away: at start (the server waits for it, or gives up saying why) and in the
//! middle of an upload (the caller gets `store.unavailable`, nothing half-written stays, the
//! upload succeeds once the database is back, and the access log keeps the failed call).

use reqwest::StatusCode;

use crate::support::chain::Chain;
use crate::support::gate::Gate;
use crate::support::receivers::wait_until;
use crate::support::{
    assert_stored_once, cli, client_for, pg, refused_uploads, verified_access_log, ServerProcess,
    TestDevice, TestServer,
};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_waits_for_its_database_at_start() {
    let gate = Gate::before(&pg::database().await).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data_arg = data.display().to_string();

    // With the database away for longer than it waits, it gives up and says why.
    let (url, d) = (gate.url.clone(), data_arg.clone());
    let (ok, _, err) = blocking(move || {
        cli(&[
            "--data",
            &d,
            "--database",
            &url,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-wait",
            "1",
        ])
    })
    .await;
    assert!(!ok);
    assert!(err.contains("waiting for the database"), "{err}");
    assert!(err.contains("the server could not start"), "{err}");
    assert!(err.contains("the database is unavailable"), "{err}");

    // Started before its database, it waits, and serves once the database is there.
    let mut cmd = ServerProcess::command(&data, Some(&gate.url), &["--database-wait", "60"]);
    cmd.stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let waited = blocking(move || {
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        let waited = lines
            .by_ref()
            .any(|l| l.unwrap().starts_with("waiting for the database"));
        // The server keeps writing to stderr: keep reading, or its writes would fail.
        std::thread::spawn(move || lines.for_each(drop));
        waited
    })
    .await;
    assert!(waited);
    gate.open();
    let server = blocking(move || ServerProcess::ready(child)).await;

    let (url, d) = (gate.url.clone(), data_arg.clone());
    let (ok, token, err) =
        blocking(move || cli(&["--data", &d, "--database", &url, "enroll", "create"])).await;
    assert!(ok, "{err}");
    let device = TestDevice::new(client_for(&data.join("tls/cert.pem")), server.base());
    let (status, body) = device.enroll(token.trim(), "laptop").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut chain = Chain::new("instance");
    chain.extend(10);
    let (status, body) = device
        .upload("instance", chain.segment(1, 10, &device.key))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(server);
}

async fn held_rows(url: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_lost_mid_upload_keeps_nothing_half_written() {
    let direct = pg::database().await;
    let gate = Gate::before(&direct).await;
    gate.open();
    let server = TestServer::start_on(gate.url.clone()).await;
    let device = server.enroll("laptop").await;
    let mut chain = Chain::new("instance");
    chain.extend(1100);
    let (status, body) = device
        .upload("instance", chain.segment(1, 100, &device.key))
        .await;
    assert_eq!(
        (status, body["stored"].as_u64()),
        (StatusCode::OK, Some(100))
    );

    // The connection breaks after 64 KiB of the next upload's statements: in the middle of
    // storing its 1000 rows, long before the commit.
    let big = chain.segment(101, 1100, &device.key);
    gate.close_after(64 * 1024);
    let (status, body) = device.upload("instance", big.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "store.unavailable", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was stored, retry"),
        "{body}"
    );
    assert!(!gate.is_open());
    assert_eq!(
        held_rows(&direct).await,
        100,
        "nothing of the cut upload stays"
    );

    // While it is away, health says so and uploads are refused the same way.
    let health = server
        .client()
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = device.upload("instance", big.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    // Back: the same upload is stored whole, once.
    gate.open();
    let client = server.client();
    let health_url = server.url("/health");
    wait_until(30, "the server sees its database again", || {
        let request = client.get(&health_url).send();
        async move { request.await.is_ok_and(|r| r.status() == StatusCode::OK) }
    })
    .await;
    assert_stored_once(&device, "instance", big, 1000).await;
    assert_eq!(held_rows(&direct).await, 1100);
    let (_, body) = device.get("/api/v1/chains/instance").await;
    assert_eq!(body["last_seq"], 1100, "{body}");

    // The access log kept the refused uploads (its writer retried until the database was back)
    // and its chain verifies.
    let state = server.state.clone();
    let _files = server.stop().await;
    let events = verified_access_log(&state).await;
    let refused = refused_uploads(&events, "store.unavailable");
    assert_eq!(refused, 2, "{events}");
}
