//! Issue 15: sync lag and catch-up against the real `headmaster-server` (SQLite, TLS 1.3 on
//! loopback), run beside this bench (`cargo build --release -p headmaster-server` first).
//!
//! Lag: one event committed to a workspace chain, then what the desktop's sync worker does
//! when woken (`Instance::sync_in_background`), timed until the event is readable in the
//! server's SIEM API (`GET /api/v1/events`, polled every 2 ms). The desktop's worker adds its
//! 100 ms settle after a workspace commit on top of this.
//!
//! Catch-up: events appended while no sync runs ("a day offline"; the chain filled through the
//! core's own append path), then one background sync uploads them all.

use std::time::{Duration, Instant};

use headmaster_core::sync::DEFAULT_SEGMENT_ROWS;
use serde_json::Value;

use crate::audit_scan::fill;
use crate::fixture::{source, Bench};
use crate::server::ServerProcess;
use crate::stats::{per_second, verdict, Summary};
use crate::workload::Actors;
use crate::Scale;

/// Lag samples taken.
const LAG_SAMPLES: usize = 100;

/// The server and a reader of its SIEM feed.
struct Server {
    process: ServerProcess,
    http: reqwest::Client,
    token: String,
}

impl Server {
    fn start() -> Self {
        let process = ServerProcess::start();
        let pem = std::fs::read(process.cert_pem()).unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let token = process.admin(&["token", "create", "--scope", "siem.read", "--name", "bench"]);
        Self {
            process,
            http,
            token,
        }
    }

    /// One page of the feed after `cursor`: (events, next cursor).
    async fn page(&self, cursor: &Option<String>) -> (Vec<Value>, Option<String>) {
        let mut url = format!("{}/api/v1/events?limit=1000", self.process.url);
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the feed answers");
        let next = response
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let events = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (events, next.or_else(|| cursor.clone()))
    }
}

/// Runs the suite.
pub async fn run(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    let actors = Actors::create(&bench).await;
    let server = Server::start();
    let token = server.process.admin(&["enroll", "create"]);
    bench
        .instance
        .join_server(
            &bench.admin,
            &server.process.url,
            std::slice::from_ref(&server.process.pin),
            &token,
            "bench",
        )
        .await
        .expect("join");
    let synced = bench
        .instance
        .sync_in_background(&source())
        .await
        .expect("first sync");
    assert!(synced.online, "{synced:?}");

    // Lag, online: commit → sync → visible in the SIEM feed.
    let mut cursor = None;
    loop {
        let (events, next) = server.page(&cursor).await;
        cursor = next;
        if events.is_empty() {
            break;
        }
    }
    let ws = bench.ws.to_string();
    let mut lags = Vec::with_capacity(LAG_SAMPLES);
    for _ in 0..LAG_SAMPLES {
        fill(&bench, &actors, 1).await;
        let committed = Instant::now();
        let seq = bench.last_seq().await;
        let wanted = format!(":{ws}:{seq}");
        bench
            .instance
            .sync_in_background(&source())
            .await
            .expect("sync");
        'seen: loop {
            let (events, next) = server.page(&cursor).await;
            cursor = next;
            for e in &events {
                if e["metadata"]["uid"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(&wanted))
                {
                    break 'seen;
                }
            }
            if events.is_empty() {
                // The feed has no push: poll it, finely enough not to blur the lag measured.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        lags.push(committed.elapsed());
    }
    let lag = Summary::of(&mut lags);
    println!(
        "sync lag, commit → SIEM feed (core path; the desktop adds a 100 ms settle): {} {}",
        lag.ms(),
        verdict(
            lag.p95 + Duration::from_millis(100) <= Duration::from_secs(1),
            "p95 + settle ≤ 1 s"
        )
    );

    // Catch-up after a long offline stretch.
    let offline = scale.chain_events;
    fill(&bench, &actors, offline).await;
    let started = Instant::now();
    let report = bench
        .instance
        .sync_in_background(&source())
        .await
        .expect("catch-up sync");
    let elapsed = started.elapsed();
    let uploaded = report.uploaded;
    assert!(uploaded >= offline, "{report:?}");
    println!(
        "catch-up of {offline} events ({DEFAULT_SEGMENT_ROWS}-row segments): {:.1} s, {:.0} events/s",
        elapsed.as_secs_f64(),
        per_second(uploaded, elapsed)
    );
}
