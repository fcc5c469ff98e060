//! One throwaway PostgreSQL cluster per test binary, from Debian's `postgresql` package.
//!
//! The cluster lives in a temporary directory, listens on 127.0.0.1 on a free port, and trusts
//! local connections. `postgres` runs under a small shell that holds a pipe from this process:
//! when the test binary exits (however it exits), the pipe closes, the shell stops the server
//! with a fast shutdown and removes the directory. As root, the cluster runs as the `postgres`
//! user, since PostgreSQL refuses to run as root. Each test gets its own database.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Cluster {
    port: u16,
    /// Held so the watchdog shell's stdin stays open as long as the process lives.
    _watchdog: Mutex<Child>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (Debian's postgresql package; `make test` installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// Runs `program args` as the cluster's owner.
fn as_owner(program: PathBuf) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Cluster {
    let bin = bin_dir();
    let dir = tempfile::Builder::new()
        .prefix("headmaster-pg-")
        .tempdir()
        .unwrap()
        .keep();
    if is_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "chown of the cluster directory");
    }
    let data = dir.join("data");
    let out = as_owner(bin.join("initdb"))
        .args([
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    // Tests need no durability; the benchmark asks for it (HEADMASTER_PG_FSYNC=on).
    let fsync = std::env::var("HEADMASTER_PG_FSYNC").unwrap_or_else(|_| "off".into());
    let script = format!(
        "{postgres} -D {data} -p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dir} \
         -c fsync={fsync} -c max_connections=200 -c shared_buffers=128MB >{dir}/log 2>&1 & pid=$!; \
         read _; kill -INT $pid; wait $pid; rm -rf {dir}",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let mut shell = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let child = shell.stdin(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Cluster {
        port,
        _watchdog: Mutex::new(child),
    }
}

/// A fresh database in the shared cluster; returns its URL.
pub async fn database() -> String {
    let cluster = CLUSTER.get_or_init(start);
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    );
    // The port accepts connections a moment before the server accepts logins.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match sqlx::postgres::PgPool::connect(&admin).await {
            Ok(pool) => {
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                break;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot reach the test cluster: {e}"),
        }
    }
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}
