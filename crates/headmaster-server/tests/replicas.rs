//! Several `serve` processes on one PostgreSQL behave as one server.

use reqwest::StatusCode;

use crate::support::chain::Chain;
use crate::support::{Backend, TestServer};

/// Rounds of the race; each sends one segment to both replicas at the same moment.
const ROUNDS: u64 = 200;
const ROWS: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_on_the_same_segments_store_one_copy_and_both_succeed() {
    let a = TestServer::start(Backend::Postgres).await;
    let b = a.replica().await;
    let device = a.enroll("laptop").await;
    let via_b = crate::support::TestDevice::with_key(&device, b.client(), b.url(""));
    let mut chain = Chain::new("instance");
    chain.extend(ROUNDS * ROWS);
    let mut stored = [0u64; 2];
    for round in 0..ROUNDS {
        let segment = chain.segment(round * ROWS + 1, (round + 1) * ROWS, &device.key);
        let (ra, rb) = tokio::join!(
            device.upload("instance", segment.clone()),
            via_b.upload("instance", segment)
        );
        for (i, (status, body)) in [ra, rb].into_iter().enumerate() {
            assert_eq!(status, StatusCode::OK, "round {round}, replica {i}: {body}");
            stored[i] += body["stored"].as_u64().unwrap();
            assert_eq!(
                body["receipt"]["seq"],
                (round + 1) * ROWS,
                "round {round}: {body}"
            );
        }
    }
    assert_eq!(
        stored[0] + stored[1],
        ROUNDS * ROWS,
        "rows were stored twice or lost: {stored:?}"
    );
    let (_, body) = device.get("/api/v1/devices/self").await;
    let id = body["device"]["id"].as_str().unwrap().to_owned();
    let held = a
        .state
        .store
        .events(&id, "instance", 1, (ROUNDS * ROWS + 10) as i64)
        .await
        .unwrap();
    assert_eq!(held.len() as u64, ROUNDS * ROWS);
    assert!(a.state.store.refusals(10).await.unwrap().is_empty());

    // A fork is caught whichever replica receives it.
    let mut other = Chain::salted("instance", 4);
    other.extend(ROUNDS * ROWS + 3);
    let (status, body) = via_b
        .upload(
            "instance",
            other.segment(ROUNDS * ROWS - 1, ROUNDS * ROWS + 3, &device.key),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("chain.fork")),
        "{body}"
    );
    assert_eq!(a.state.store.quarantined().await.unwrap().len(), 1);
    b.stop().await;
    a.stop().await;
}
