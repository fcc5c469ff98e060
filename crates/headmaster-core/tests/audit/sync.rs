//! Archived audit rows go to the shared server like hot ones: a chain partly moved into archive
//! segments is uploaded whole, and the server's copy equals the desktop's seq by seq. Runs the
//! real `headmaster-server` binary (built beside this test, as `make build` does).

use headmaster_core::access::Scope;

use crate::common::Fixture;
use crate::server::ServerProcess;
use crate::support::{fill, raw};

/// (seq, hash) of every row the server holds of `scope`.
async fn held(server: &ServerProcess, scope: &str) -> Vec<(i64, Vec<u8>)> {
    let url = format!("sqlite://{}", server.database().display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows = sqlx::query_as("SELECT seq, hash FROM events WHERE scope = ? ORDER BY seq")
        .bind(scope)
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_rows_are_uploaded_and_the_server_copy_spans_archive_and_hot_rows() {
    let fx = Fixture::new().await;
    let session = fx.admin().await;
    fill(&fx, &session, 10, 60_000).await;
    fx.clock.advance_ms(91 * 86_400_000);
    let session = fx.admin().await;
    let archived = fx
        .instance
        .archive_audit(&session, Scope::Org)
        .await
        .unwrap();
    assert!(archived.events >= 10, "{archived:?}");

    // Back on the wall clock: the server takes signed requests only within minutes of its time.
    fx.clock.set_ms(chrono::Utc::now().timestamp_millis());
    let session = fx.admin().await;
    let server = ServerProcess::start();
    fx.instance
        .join_server(
            &session,
            &server.url,
            std::slice::from_ref(&server.pin),
            &server.admin(&["enroll", "create"]),
            "core",
        )
        .await
        .unwrap();
    let report = fx
        .instance
        .sync_server(&session, 4, &|_, _| {})
        .await
        .unwrap();
    let instance = report
        .chains
        .iter()
        .find(|c| c.scope == "instance")
        .unwrap();
    assert_eq!(instance.error, None, "{report:?}");
    assert_eq!(instance.receipted_seq, instance.local_seq, "{report:?}");
    assert!(instance.uploaded >= archived.events, "{report:?}");

    // Row for row: the archived ones (now only in archive files here) and the hot ones.
    let pool = raw(&fx).await;
    let hot: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    let first_hot = hot.first().map(|r| r.0).unwrap();
    assert!(
        first_hot > 10,
        "rows were archived: the hot table starts at {first_hot}"
    );
    let held = held(&server, "instance").await;
    let seqs: Vec<i64> = held.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=instance.local_seq as i64).collect::<Vec<_>>());
    let held_hot: Vec<_> = held.into_iter().filter(|r| r.0 >= first_hot).collect();
    assert_eq!(held_hot[..], hot[..held_hot.len()]);
}
