//! A full disk under the default SQLite store: the server's data directory sits on a small
//! tmpfs that the test fills. An upload is refused with `store.full` and stores nothing; once
//! space is freed the same upload is stored whole, once, and the access log (whose writer kept
//! retrying) holds the refused calls and verifies.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use headmaster_server::data::DataDir;
use reqwest::StatusCode;

use crate::support::chain::Chain;
use crate::support::{assert_stored_once, refused_uploads, verified_access_log, TestServer};

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        assert!(
            crate::support::pg::is_root(),
            "this test mounts a tmpfs to fill a disk for real: run the suite as root (make test does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs failed");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Writes a file until the file system says it is full; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xA5u8; 16 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    path
}

/// The distinct seqs the server's database holds, read directly.
async fn held(database: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(database).await.unwrap();
    let n = sqlx::query_scalar("SELECT count(DISTINCT seq) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_uploads_and_keeps_nothing_half_written() {
    let disk = Tmpfs::mount("24m");
    let data = DataDir::new(disk.path().join("server"));
    data.init(&["localhost".into(), "127.0.0.1".into()], None)
        .unwrap();
    let database = data.default_database_url();
    let server = TestServer::start_at(data, database).await;
    let device = server.enroll("laptop").await;
    let mut chain = Chain::new("instance");
    chain.extend(2010);
    let (status, body) = device
        .upload("instance", chain.segment(1, 10, &device.key))
        .await;
    assert_eq!(
        (status, body["stored"].as_u64()),
        (StatusCode::OK, Some(10)),
        "{body}"
    );

    // The disk fills up; a 2000-event upload needs more than the database files hold free.
    let filler = fill(disk.path());
    let big = chain.segment(11, 2010, &device.key);
    for _ in 0..2 {
        let (status, body) = device.upload("instance", big.clone()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "store.full", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("disk is full"), "{body}");
        assert!(message.contains("free space"), "{body}");
    }
    // Even a signed read is refused now: its nonce cannot be recorded, and without that a
    // replay could not be caught. The database holds what it held.
    let (status, body) = device.get("/api/v1/chains/instance").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(held(&server.database).await, 10);

    // Space freed: the same upload is stored whole, and a replay stores nothing more.
    std::fs::remove_file(filler).unwrap();
    assert_stored_once(&device, "instance", big, 2000).await;
    let (_, body) = device.get("/api/v1/chains/instance").await;
    assert_eq!(body["last_seq"], 2010, "{body}");

    // The events the SIEM reads are exactly the chain's, and the access log kept the refusals.
    let state = server.state.clone();
    state.access.flush().await;
    assert_eq!(held(&server.database).await, 2010);
    let _kept = server.stop().await;
    let events = verified_access_log(&state).await;
    let refused = refused_uploads(&events, "store.full");
    assert_eq!(refused, 2, "{events}");
}
