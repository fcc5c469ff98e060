//! The SIEM pull API: tokens, filters, stable uids, and 100,000 events paged without loss or
//! duplicates while uploads keep committing.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::chain::Chain;
use crate::support::{Backend, TestDevice, TestServer};

struct Feed {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Feed {
    async fn new(server: &TestServer) -> Self {
        let token = headmaster_server::admin::create_api_token(
            &*server.state.store,
            "siem.read",
            "test-siem",
        )
        .await
        .unwrap();
        Self {
            http: server.client(),
            base: server.url(""),
            token: token.token,
        }
    }

    /// One page: (status, events or error body, next cursor).
    async fn page(&self, query: &str) -> (StatusCode, Vec<Value>, Option<String>) {
        let response = self
            .http
            .get(format!("{}/api/v1/events?{query}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let next = response
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let events = if status == StatusCode::OK {
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        } else {
            vec![serde_json::from_str(&text).unwrap()]
        };
        (status, events, next)
    }

    /// Every event matching `filter`, page by page.
    async fn all(&self, filter: &str, limit: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = format!("limit={limit}{filter}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let (status, events, next) = self.page(&query).await;
            assert_eq!(status, StatusCode::OK, "{events:?}");
            let done = events.is_empty();
            out.extend(events);
            cursor = next;
            if done {
                return out;
            }
        }
    }
}

fn uids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["metadata"]["uid"].as_str().unwrap().to_owned())
        .collect()
}

async fn device_id(device: &TestDevice) -> String {
    let (_, body) = device.get("/api/v1/devices/self").await;
    body["device"]["id"].as_str().unwrap().to_owned()
}

async fn the_feed_pages_filters_and_names_every_event_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let laptop = server.enroll("laptop").await;
    let desktop = server.enroll("desktop").await;
    let mut a = Chain::new("instance");
    a.extend(30);
    let mut b = Chain::new("ws-a");
    b.extend(20);
    let mut c = Chain::salted("instance", 5);
    c.extend(25);
    for (device, chain, n) in [(&laptop, &a, 30), (&laptop, &b, 20), (&desktop, &c, 25)] {
        let (status, body) = device
            .upload(&chain.scope, chain.segment(1, n, &device.key))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let feed = Feed::new(&server).await;
    let laptop_id = device_id(&laptop).await;

    let all = feed.all("", 7).await;
    assert_eq!(all.len(), 75);
    let unique: HashSet<_> = uids(&all).into_iter().collect();
    assert_eq!(unique.len(), 75, "a uid repeats");
    assert!(unique.contains(&format!("{laptop_id}:ws-a:20")));
    let first = all
        .iter()
        .find(|e| e["device"]["uid"] == laptop_id.as_str())
        .unwrap();
    assert_eq!(first["device"]["name"], "laptop");
    assert!(first["class_uid"].is_u64() && first["unmapped"]["action"].is_string());

    // The same uids on a second pass: a SIEM can deduplicate.
    assert_eq!(uids(&feed.all("", 1000).await), uids(&all));

    assert_eq!(feed.all("&workspace=ws-a", 1000).await.len(), 20);
    let fp = laptop.fingerprint.replace('+', "%2B").replace('/', "%2F");
    assert_eq!(feed.all(&format!("&device={fp}"), 1000).await.len(), 50);
    assert_eq!(
        feed.all(&format!("&device={laptop_id}&workspace=instance"), 1000)
            .await
            .len(),
        30
    );
    let actor = feed.all("&actor=actor-1", 1000).await;
    assert!(!actor.is_empty() && actor.iter().all(|e| e["unmapped"]["actor_id"] == "actor-1"));
    let class = all[0]["class_uid"].as_u64().unwrap();
    let same_class = feed.all(&format!("&class_uid={class}"), 1000).await;
    assert!(!same_class.is_empty() && same_class.len() < 75);
    assert!(same_class.iter().all(|e| e["class_uid"] == class));
    // Events of the fixture run from 05:00:01 to 05:00:30 (seq 1..30).
    let window = feed
        .all(
            "&since=2026-12-04T05:00:10Z&until=2026-12-04T05:00:20Z",
            1000,
        )
        .await;
    assert_eq!(window.len(), 30, "10 seconds of three chains");

    // At the end of the feed the cursor stays put until something new commits.
    let (_, _, end) = feed.page("limit=1000").await;
    let (_, events, _) = feed
        .page(&format!("cursor={}", feed.all_cursor().await))
        .await;
    assert!(events.is_empty());
    assert!(end.is_some());

    for (query, code) in [
        ("cursor=nonsense", "siem.bad_cursor"),
        ("limit=0", "siem.bad_query"),
        ("limit=10001", "siem.bad_query"),
        ("colour=blue", "siem.bad_query"),
        ("since=yesterday", "siem.bad_query"),
    ] {
        let (status, body, _) = feed.page(query).await;
        assert_eq!(
            (status, body[0]["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{query}"
        );
    }
    server.stop().await;
}

impl Feed {
    /// The cursor after the whole feed.
    async fn all_cursor(&self) -> String {
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("limit=1000&cursor={c}"),
                None => "limit=1000".to_owned(),
            };
            let (_, events, next) = self.page(&query).await;
            cursor = next;
            if events.is_empty() {
                return cursor.unwrap();
            }
        }
    }
}

async fn tokens_are_checked_and_devices_cannot_read_the_feed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let device = server.enroll("laptop").await;
    let feed = Feed::new(&server).await;
    let (status, _, _) = feed.page("").await;
    assert_eq!(status, StatusCode::OK);
    let response = server
        .client()
        .get(server.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = server
        .client()
        .get(server.url("/api/v1/events"))
        .bearer_auth("hm-siem-guessed")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = device.get("/api/v1/events").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("auth.bad_token"))
    );

    let tokens = server.state.store.api_tokens().await.unwrap();
    assert!(tokens[0].last_used_ms.is_some());
    assert!(server
        .state
        .store
        .revoke_api_token(&tokens[0].id, 1)
        .await
        .unwrap());
    let (status, body, _) = feed.page("").await;
    assert_eq!(
        (status, body[0]["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("auth.token_revoked"))
    );
    assert!(
        headmaster_server::admin::create_api_token(&*server.state.store, "admin", "x")
            .await
            .is_err()
    );
    server.stop().await;
}

/// 100,000 events from four devices, uploaded while a reader pages through the feed: the reader
/// ends with every event exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_events_page_without_loss_or_duplicates_during_ingest() {
    const DEVICES: u64 = 4;
    const SEGMENTS: u64 = 25;
    const ROWS: u64 = 1000;
    let server = TestServer::start(Backend::Postgres).await;
    let mut devices = Vec::new();
    for i in 0..DEVICES {
        devices.push(server.enroll(&format!("desktop-{i}")).await);
    }
    let feed = Feed::new(&server).await;
    let uploads = devices.into_iter().map(|device| {
        tokio::spawn(async move {
            let mut chain = Chain::new("instance");
            chain.extend(SEGMENTS * ROWS);
            for s in 0..SEGMENTS {
                let (status, body) = device
                    .upload(
                        "instance",
                        chain.segment(s * ROWS + 1, (s + 1) * ROWS, &device.key),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        })
    });
    let uploads: Vec<_> = uploads.collect();
    let total = (DEVICES * SEGMENTS * ROWS) as usize;
    let mut seen = HashSet::with_capacity(total);
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    // A page reaches only up to the oldest transaction of this database still open, so the tail
    // can trail the last upload by a moment.
    let mut deadline: Option<std::time::Instant> = None;
    while seen.len() < total {
        let query = match &cursor {
            Some(c) => format!("limit=5000&cursor={c}"),
            None => "limit=5000".to_owned(),
        };
        let (status, events, next) = feed.page(&query).await;
        assert_eq!(status, StatusCode::OK);
        for uid in uids(&events) {
            assert!(seen.insert(uid.clone()), "{uid} came twice");
        }
        cursor = next;
        pages += 1;
        if events.is_empty() {
            if uploads.iter().all(|u| u.is_finished()) {
                let deadline = *deadline.get_or_insert_with(|| {
                    std::time::Instant::now() + std::time::Duration::from_secs(30)
                });
                if std::time::Instant::now() > deadline {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    for upload in uploads {
        upload.await.unwrap();
    }
    assert_eq!(seen.len(), total, "the feed ended early");
    let (_, rest, _) = feed
        .page(&format!("limit=5000&cursor={}", cursor.unwrap()))
        .await;
    assert!(
        rest.is_empty(),
        "{} events after the whole feed",
        rest.len()
    );
    assert!(pages >= 20);
    server.stop().await;
}

/// The feed's horizon on PostgreSQL: a transaction left open in another database of the cluster
/// does not hold the feed back; one open in the server's own database does (it might still add
/// events below the cursor), and the feed moves on once it ends, with nothing skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_feed_waits_only_for_its_own_database() {
    use sqlx::Connection;
    let server = TestServer::start(Backend::Postgres).await;
    let laptop = server.enroll("laptop").await;
    let feed = Feed::new(&server).await;
    let mut chain = Chain::new("instance");
    chain.extend(20);

    let elsewhere = crate::support::pg::database().await;
    let mut other = sqlx::PgConnection::connect(&elsewhere).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut other)
        .await
        .unwrap();
    let (status, body) = laptop
        .upload("instance", chain.segment(1, 10, &laptop.key))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        feed.all("", 100).await.len(),
        10,
        "held back by another database"
    );

    let mut own = sqlx::PgConnection::connect(&server.database).await.unwrap();
    sqlx::query("BEGIN").execute(&mut own).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut own)
        .await
        .unwrap();
    let cursor = feed.all_cursor().await;
    let (status, body) = laptop
        .upload("instance", chain.segment(11, 20, &laptop.key))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, held, same) = feed.page(&format!("cursor={cursor}")).await;
    assert!(held.is_empty(), "read past a transaction still open");
    assert_eq!(same.as_deref(), Some(cursor.as_str()));
    sqlx::query("COMMIT").execute(&mut own).await.unwrap();
    let (_, rest, _) = feed.page(&format!("cursor={cursor}")).await;
    assert_eq!(uids(&rest).len(), 10);
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    server.stop().await;
}

both_backends!(
    the_feed_pages_filters_and_names_every_event_once,
    tokens_are_checked_and_devices_cannot_read_the_feed,
);
