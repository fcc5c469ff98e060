//! Ingest over TLS on loopback, side by side with what the database alone writes.
//!
//! For SQLite and PostgreSQL: the real `headmaster-server` binary on 127.0.0.1, 1 and 16
//! devices uploading 1000-event segments at once (events/s); the same rows written by the
//! database alone (SQLite: batched INSERTs in one transaction; PostgreSQL: `COPY`); the p50 and
//! p95 of one 100-event upload; the server's resident memory idle and at its peak.
//!
//! `cargo bench -p headmaster-server --bench ingest` (`-- --quick` for a small smoke run). The
//! PostgreSQL cluster is a throwaway one with fsync on, like a real one.

#[allow(dead_code)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use headmaster_protocol::segment::{Segment, SegmentJson};
use headmaster_server::keys::DataKey;
use reqwest::StatusCode;
use support::chain::Chain;
use support::{client_for, ServerProcess, TestDevice};

const SEGMENT: u64 = 1000;

#[derive(Clone, Copy, PartialEq)]
enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres => "PostgreSQL",
        }
    }
}

/// Resident memory of `pid` (VmRSS, VmHWM) in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
            .unwrap()
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Server {
    process: ServerProcess,
    data: tempfile::TempDir,
    database: String,
}

impl Server {
    async fn start(db: Db) -> Self {
        let data = tempfile::tempdir().unwrap();
        let database = match db {
            Db::Sqlite => format!("sqlite://{}/server.db", data.path().display()),
            Db::Postgres => support::pg::database().await,
        };
        let process = ServerProcess::start(data.path(), Some(&database), &[]);
        Self {
            process,
            data,
            database,
        }
    }

    async fn enroll(&self, name: &str) -> TestDevice {
        let (ok, out, err) = support::cli(&[
            "--data",
            self.data.path().to_str().unwrap(),
            "--database",
            &self.database,
            "--json",
            "enroll",
            "create",
        ]);
        assert!(ok, "{err}");
        let token: serde_json::Value = serde_json::from_str(&out).unwrap();
        let http = client_for(&self.data.path().join("tls/cert.pem"));
        let device = TestDevice::new(http, self.process.base());
        let (status, body) = device.enroll(token["token"].as_str().unwrap(), name).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        device
    }
}

/// Every device uploads its segments in order, all devices at once; returns events/s.
async fn upload_all(devices: Vec<(TestDevice, Vec<Vec<u8>>)>) -> (u64, Duration) {
    let total: u64 = devices.iter().map(|(_, s)| s.len() as u64 * SEGMENT).sum();
    let start = Instant::now();
    let tasks: Vec<_> = devices
        .into_iter()
        .map(|(device, segments)| {
            tokio::spawn(async move {
                for segment in segments {
                    let (status, body) = device.upload("instance", segment).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (total, start.elapsed())
}

/// The segments of one device's chain of `n` events.
fn segments(device: &TestDevice, n: u64) -> Vec<Vec<u8>> {
    let mut chain = Chain::new("instance");
    chain.extend(n);
    (0..n / SEGMENT)
        .map(|i| chain.segment(i * SEGMENT + 1, (i + 1) * SEGMENT, &device.key))
        .collect()
}

/// The rows the server would store for `segments`: (device, seq, hash, row, event), sealed.
type RawRow = (String, i64, Vec<u8>, Vec<u8>, Vec<u8>);

fn raw_rows(device: &TestDevice, segments: &[Vec<u8>], key: &DataKey) -> Vec<RawRow> {
    let mut out = Vec::new();
    for bytes in segments {
        let json: SegmentJson = serde_json::from_slice(bytes).unwrap();
        let segment = Segment::check(json, &device.key.verifying_key()).unwrap();
        for (row, event) in segment.rows.iter().zip(&segment.events) {
            let mut line = Vec::new();
            headmaster_protocol::json::write_chain_row(row, &mut line);
            out.push((
                device.fingerprint.clone(),
                row.event.seq as i64,
                row.hash.to_vec(),
                key.seal(b"row", &line),
                key.seal(b"event", event.get().as_bytes()),
            ));
        }
    }
    out
}

/// The same rows written by SQLite alone: batched INSERTs of 500 rows in one transaction, WAL
/// and synchronous=FULL as the server runs it. Returns rows/s.
async fn raw_sqlite(rows: &[RawRow]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/raw.db", dir.path().display());
    headmaster_server::store::open(&url).await.unwrap();
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let pool = sqlx::SqlitePool::connect_with(
        options
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full),
    )
    .await
    .unwrap();
    let start = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    for chunk in rows.chunks(500) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO events (device_id, scope, seq, hash, time_ms, class_uid, actor_id, \
             row_sealed, event_sealed, received_ms) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(&r.0)
                .push_bind("instance")
                .push_bind(r.1)
                .push_bind(&r.2)
                .push_bind(r.1)
                .push_bind(3002)
                .push_bind("actor-1")
                .push_bind(&r.3)
                .push_bind(&r.4)
                .push_bind(r.1);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    rows.len() as f64 / start.elapsed().as_secs_f64()
}

/// The same rows written by PostgreSQL alone with `COPY … FROM STDIN` into the server's table.
async fn raw_postgres(rows: &[RawRow]) -> f64 {
    use std::fmt::Write as _;
    let url = support::pg::database().await;
    headmaster_server::store::open(&url).await.unwrap();
    let mut text = String::new();
    for r in rows {
        writeln!(
            text,
            "{}\tinstance\t{}\t\\\\x{}\t{}\t3002\tactor-1\t\\\\x{}\t\\\\x{}\t{}",
            r.0,
            r.1,
            hex::encode(&r.2),
            r.1,
            hex::encode(&r.3),
            hex::encode(&r.4),
            r.1
        )
        .unwrap();
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let start = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY events (device_id, scope, seq, hash, time_ms, class_uid, actor_id, row_sealed, \
             event_sealed, received_ms) FROM STDIN",
        )
        .await
        .unwrap();
    for chunk in text.as_bytes().chunks(1 << 20) {
        copy.send(chunk).await.unwrap();
    }
    copy.finish().await.unwrap();
    rows.len() as f64 / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn bench(db: Db, quick: bool) {
    let per_device_1 = if quick { 5_000 } else { 100_000 };
    let per_device_16 = if quick { 1_000 } else { 10_000 };
    let samples = if quick { 30 } else { 300 };
    let key = DataKey::create(&tempfile::tempdir().unwrap().path().join("k")).unwrap();

    let mut raw = Vec::new();
    for devices in [1usize, 16] {
        let server = Server::start(db).await;
        let (idle, _) = memory(server.process.child.id());
        let per = if devices == 1 {
            per_device_1
        } else {
            per_device_16
        };
        let mut load = Vec::new();
        for i in 0..devices {
            let device = server.enroll(&format!("desktop-{i}")).await;
            let segs = segments(&device, per);
            load.push((device, segs));
        }
        if devices == 16 {
            for (device, segs) in &load {
                raw.extend(raw_rows(device, segs, &key));
            }
        }
        let (events, took) = upload_all(load).await;
        let (_, peak) = memory(server.process.child.id());
        println!(
            "| {} | {devices} | {events} | {:.2} s | {:.0} ev/s | idle {idle:.1} MiB, peak {peak:.1} MiB |",
            db.name(),
            took.as_secs_f64(),
            events as f64 / took.as_secs_f64()
        );
        if devices == 1 {
            // One 100-event segment at a time, on a chain of its own.
            let device = server.enroll("latency").await;
            let mut chain = Chain::new("instance");
            chain.extend(samples * 100);
            let mut times = Vec::new();
            for i in 0..samples {
                let segment = chain.segment(i * 100 + 1, (i + 1) * 100, &device.key);
                let start = Instant::now();
                let (status, body) = device.upload("instance", segment).await;
                times.push(start.elapsed());
                assert_eq!(status, StatusCode::OK, "{body}");
            }
            times.sort();
            println!(
                "| {} | latency of one 100-event upload, {samples} in a row | p50 {:.2} ms | p95 {:.2} ms |",
                db.name(),
                percentile(&times, 0.5),
                percentile(&times, 0.95)
            );
        }
    }
    let rate = match db {
        Db::Sqlite => raw_sqlite(&raw).await,
        Db::Postgres => raw_postgres(&raw).await,
    };
    let how = match db {
        Db::Sqlite => "batched INSERT, one transaction",
        Db::Postgres => "COPY",
    };
    println!(
        "| {} | raw: {} rows by {how} | {rate:.0} rows/s |",
        db.name(),
        raw.len()
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // The numbers are for a cluster that syncs its writes, as a real one does.
    std::env::set_var("HEADMASTER_PG_FSYNC", "on");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for db in [Db::Sqlite, Db::Postgres] {
            bench(db, quick).await;
        }
    });
}
