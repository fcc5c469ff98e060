//! Archived audit rows go to the shared server like hot ones: a chain partly moved into archive
//! segments is uploaded whole, and the server's copy equals the desktop's seq by seq. Runs the
//! real `headmaster-server` binary (built beside this test, as `make build` does).

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

use headmaster_core::access::Scope;

use crate::common::Fixture;
use crate::support::{fill, raw};

struct Server {
    child: Child,
    url: String,
    pin: String,
    data: tempfile::TempDir,
}

fn server_bin() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("HEADMASTER_SERVER_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("headmaster-server");
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build -p headmaster-server`)",
        path.display()
    );
    path
}

impl Server {
    fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(server_bin())
            .arg("--data")
            .arg(data.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (mut url, mut pin) = (None, None);
        for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("listening on ") {
                url = Some(format!("https://{addr}"));
            } else if let Some(p) = line.strip_prefix("pin ") {
                pin = Some(p.to_owned());
            } else if line.starts_with("backend ") {
                break;
            }
        }
        Self {
            child,
            url: url.expect("the server printed its address"),
            pin: pin.expect("the server printed its pin"),
            data,
        }
    }

    fn token(&self) -> String {
        let out = Command::new(server_bin())
            .arg("--data")
            .arg(self.data.path())
            .args(["enroll", "create"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    async fn seqs(&self, scope: &str) -> Vec<(i64, Vec<u8>)> {
        let url = format!("sqlite://{}", self.data.path().join("server.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows = sqlx::query_as("SELECT seq, hash FROM events WHERE scope = ? ORDER BY seq")
            .bind(scope)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let server = Server::start();
    fx.instance
        .join_server(
            &session,
            &server.url,
            std::slice::from_ref(&server.pin),
            &server.token(),
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
    let held = server.seqs("instance").await;
    let seqs: Vec<i64> = held.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=instance.local_seq as i64).collect::<Vec<_>>());
    let held_hot: Vec<_> = held.into_iter().filter(|r| r.0 >= first_hot).collect();
    assert_eq!(held_hot[..], hot[..held_hot.len()]);
}
