//! A desktop installation driven through the real `headmaster` CLI: its own home directory, in
//! passphrase mode (no keychain needed), with Alice as its Admin signed in once, so later
//! commands add no sign-in events of their own; and a server process it syncs with.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{cli, pg, ServerProcess};

pub const PASSWORD: &str = "correct horse battery staple 42";
pub const PASSPHRASE: &str = "a long passphrase for the test vault";

/// The `headmaster` CLI, built beside this test binary (`make build` builds it).
pub fn headmaster_cli() -> PathBuf {
    if let Ok(path) = std::env::var("HEADMASTER_CLI_BIN") {
        return path.into();
    }
    let deps = std::env::current_exe().unwrap();
    let path = deps.parent().unwrap().parent().unwrap().join("headmaster");
    assert!(
        path.exists(),
        "{} is missing: build the CLI first (`cargo build -p headmaster-cli`)",
        path.display()
    );
    path
}

/// What one CLI run printed.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON on stdout of a successful `--json` run.
    pub fn json(&self) -> Value {
        assert!(self.ok, "the command failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// The `{"error":{code,message}}` on stderr of a failed `--json` run.
    pub fn error(&self) -> Value {
        assert!(!self.ok, "the command succeeded: {}", self.stdout);
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("{e}: {}", self.stderr));
        v["error"].clone()
    }
}

/// One desktop installation.
pub struct Desktop {
    pub home: PathBuf,
    _dir: tempfile::TempDir,
}

impl Desktop {
    /// A new installation (org Acme, Admin alice), signed in.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let desktop = Self {
            home: dir.path().join("home"),
            _dir: dir,
        };
        let init = desktop.run_with(
            &["init", "--org", "Acme", "--admin", "alice", "--passphrase"],
            &[("HEADMASTER_PASSWORD", PASSWORD)],
        );
        assert!(init.ok, "{}", init.stderr);
        let login = desktop.run_with(
            &["login", "--user", "alice"],
            &[("HEADMASTER_PASSWORD", PASSWORD)],
        );
        assert!(login.ok, "{}", login.stderr);
        desktop
    }

    /// Runs `headmaster --home H args…` with the passphrase (and `env`) set.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        let out = command.output().expect("the headmaster CLI runs");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The command line `headmaster --home H args…` with the passphrase set.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(headmaster_cli());
        command.arg("--home").arg(&self.home).args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("HEADMASTER_") {
                command.env_remove(key);
            }
        }
        command.env("HEADMASTER_PASSPHRASE", PASSPHRASE);
        command
    }

    /// Runs `headmaster --json args…` as the signed-in Admin.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run_with(&all, &[])
    }

    /// `server join` with one pin.
    pub fn join(&self, url: &str, pin: &str, token: &str) -> Run {
        self.run(&[
            "server", "join", url, "--pin", pin, "--token", token, "--name", "laptop",
        ])
    }

    /// `server status`, as JSON.
    pub fn status(&self) -> Value {
        self.run(&["server", "status"]).json()
    }

    /// The local last seq of every chain, by scope.
    pub fn heads(&self) -> Vec<(String, u64)> {
        self.status()["chains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["scope"].as_str().unwrap().to_owned(),
                    c["local_seq"].as_u64().unwrap(),
                )
            })
            .collect()
    }
}

/// A server process on a data directory of its own, with a fixed port so it can restart.
pub struct Server {
    data: tempfile::TempDir,
    pub database: Option<String>,
    pub port: u16,
    process: Option<ServerProcess>,
}

impl Server {
    pub async fn start(postgres: bool) -> Self {
        let database = if postgres {
            Some(pg::database().await)
        } else {
            None
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self {
            data: tempfile::tempdir().unwrap(),
            database,
            port,
            process: None,
        };
        server.up();
        server
    }

    pub fn dir(&self) -> &Path {
        self.data.path()
    }

    pub fn up(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        self.process = Some(ServerProcess::start(
            self.dir(),
            self.database.as_deref(),
            &["--listen", &listen],
        ));
    }

    /// SIGKILL, no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.signal("-KILL");
        }
    }

    pub fn down(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.signal("-TERM");
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn pin(&self) -> String {
        self.process.as_ref().unwrap().pin.clone()
    }

    /// `headmaster-server ARGS…` on this server's data directory and database.
    pub fn admin(&self, args: &[&str]) -> String {
        let dir = self.dir().display().to_string();
        let mut all = vec!["--data", dir.as_str()];
        if let Some(db) = &self.database {
            all.extend(["--database", db.as_str()]);
        }
        all.extend_from_slice(args);
        let (ok, out, err) = cli(&all);
        assert!(ok, "headmaster-server {args:?}: {err}");
        out
    }

    pub fn token(&self) -> String {
        self.admin(&["enroll", "create"]).trim().to_owned()
    }

    pub fn status(&self) -> Value {
        serde_json::from_str(&self.admin(&["status", "--json"])).unwrap()
    }

    /// How many events the server holds, all chains together (SQLite only).
    pub async fn held_events(&self) -> i64 {
        assert!(self.database.is_none(), "held_events reads the SQLite file");
        let url = format!("sqlite://{}", self.dir().join("server.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let n = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }

    /// (seq, hash hex) of every row the server holds of `scope`.
    pub async fn rows(&self, scope: &str) -> Vec<(i64, String)> {
        let sql = "SELECT seq, hash FROM events WHERE scope = $1 ORDER BY seq";
        let rows: Vec<(i64, Vec<u8>)> = match &self.database {
            Some(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows = sqlx::query_as(sql)
                    .bind(scope)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                rows
            }
            None => {
                let url = format!("sqlite://{}", self.dir().join("server.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let rows = sqlx::query_as(sql)
                    .bind(scope)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                rows
            }
        };
        rows.into_iter().map(|(s, h)| (s, hex::encode(h))).collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.down();
    }
}

/// (seq, hash hex) of every row of the desktop's chain `scope` (`instance` or a workspace id).
pub fn desktop_rows(desktop: &Desktop, workspace: Option<&str>) -> Vec<(i64, String)> {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("bundle");
    let dir_arg = dir.display().to_string();
    let mut args = vec![];
    if let Some(w) = workspace {
        args.extend(["--workspace", w]);
    }
    args.extend(["audit", "export", "--out", dir_arg.as_str()]);
    let run = desktop.run(&args);
    assert!(run.ok, "{}", run.stderr);
    std::fs::read_to_string(dir.join("chain.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["seq"].as_i64().unwrap(),
                v["hash"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every chain of the desktop against the server's copy, seq by seq and hash by hash. Call it
/// after a complete sync: an export records its own event only after its bundle is written.
pub async fn assert_same_copy(desktop: &Desktop, server: &Server) {
    for (scope, _) in desktop.heads() {
        let workspace = (scope != "instance").then_some(scope.as_str());
        assert_eq!(
            server.rows(&scope).await,
            desktop_rows(desktop, workspace),
            "chain {scope}"
        );
    }
}

/// A new desktop that joined `server` and synced once.
pub fn joined(server: &Server) -> Desktop {
    let desktop = Desktop::new();
    desktop
        .join(&server.url(), &server.pin(), &server.token())
        .json();
    sync(&desktop);
    desktop
}

/// `server sync`, which must succeed.
pub fn sync(desktop: &Desktop) -> Value {
    let run = desktop.run(&["server", "sync"]);
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    run.json()
}
