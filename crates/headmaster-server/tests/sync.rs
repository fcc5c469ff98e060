//! A desktop (the real `headmaster` CLI) and the real `headmaster-server` over TLS 1.3 on
//! loopback: joining under a pin, syncing every chain until the server's copy equals the
//! desktop's row for row, offline and back, a server restored from an old backup, leaving.

use std::path::Path;

use serde_json::Value;

use crate::support::desktop::{Desktop, PASSWORD};
use crate::support::{cli, pg, ServerProcess};

/// A server process on a data directory of its own, with a fixed port so it can restart.
struct Server {
    data: tempfile::TempDir,
    database: Option<String>,
    port: u16,
    process: Option<ServerProcess>,
}

impl Server {
    async fn start(postgres: bool) -> Self {
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

    fn dir(&self) -> &Path {
        self.data.path()
    }

    fn up(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        self.process = Some(ServerProcess::start(
            self.dir(),
            self.database.as_deref(),
            &["--listen", &listen],
        ));
    }

    fn down(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.signal("-TERM");
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn pin(&self) -> String {
        self.process.as_ref().unwrap().pin.clone()
    }

    /// `headmaster-server ARGS…` on this server's data directory and database.
    fn admin(&self, args: &[&str]) -> String {
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

    fn token(&self) -> String {
        self.admin(&["enroll", "create"]).trim().to_owned()
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.admin(&["status", "--json"])).unwrap()
    }

    /// (seq, hash hex) of every row the server holds of `scope`.
    async fn rows(&self, scope: &str) -> Vec<(i64, String)> {
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
fn desktop_rows(desktop: &Desktop, workspace: Option<&str>) -> Vec<(i64, String)> {
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

/// The desktop's rows of every chain against the server's, seq by seq and hash by hash.
async fn assert_same_copy(desktop: &Desktop, server: &Server, workspace: &str) {
    let mine = desktop_rows(desktop, None);
    // The export itself was recorded after it was written: the server may not have it yet.
    assert_eq!(server.rows("instance").await, mine);
    assert_eq!(
        server.rows(workspace).await,
        desktop_rows(desktop, Some(workspace))
    );
}

/// A new desktop that joined `server` and synced once.
fn joined(server: &Server) -> Desktop {
    let desktop = Desktop::new();
    desktop
        .join(&server.url(), &server.pin(), &server.token())
        .json();
    sync(&desktop);
    desktop
}

fn sync(desktop: &Desktop) -> Value {
    let run = desktop.run(&["server", "sync"]);
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    run.json()
}

async fn a_desktop_syncs_every_chain_and_the_server_holds_the_same_copy(postgres: bool) {
    let server = Server::start(postgres).await;
    let desktop = Desktop::new();
    let workspace = desktop.run(&["workspace", "create", "Research"]).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let joined = desktop.join(&server.url(), &server.pin(), &server.token());
    let joined = joined.json();
    let fingerprint = joined["device_fingerprint"].as_str().unwrap().to_owned();
    let devices = &server.status()["devices"];
    assert_eq!(devices[0]["fingerprint"], fingerprint.as_str(), "{devices}");
    assert_eq!(devices[0]["name"], "laptop");

    let first = sync(&desktop);
    assert!(first["uploaded"].as_u64().unwrap() >= 3, "{first}");
    assert_eq!(first["online"], true);
    let status = desktop.status();
    for chain in status["chains"].as_array().unwrap() {
        assert_eq!(chain["pending"], 0, "{status}");
        assert_eq!(chain["receipted_seq"], chain["local_seq"], "{status}");
        assert!(chain["last_receipt"].is_string(), "{status}");
        assert!(chain["last_error"].is_null(), "{status}");
    }
    // The export records an event after its bundle is written; sync once more to send it.
    desktop_rows(&desktop, Some(&workspace));
    desktop_rows(&desktop, None);
    sync(&desktop);
    assert_same_copy(&desktop, &server, &workspace).await;

    // More work, more events: only the new ones go up; a sync with nothing new sends nothing.
    for name in ["Ops", "Legal"] {
        desktop.run(&["workspace", "create", name]).json();
    }
    let second = sync(&desktop);
    let uploaded = second["uploaded"].as_u64().unwrap();
    assert!((2..20).contains(&uploaded), "{second}");
    let idle = sync(&desktop);
    assert_eq!(idle["uploaded"], 0, "{idle}");
    // The instance, the default workspace and the three created here.
    assert_eq!(idle["chains"].as_array().unwrap().len(), 5, "{idle}");
    let held: i64 = server.status()["devices"][0]["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["last_seq"].as_i64().unwrap())
        .sum();
    let local: u64 = desktop.heads().iter().map(|(_, seq)| seq).sum();
    assert_eq!(held as u64, local);
}

mod syncs_every_chain {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_desktop_syncs_every_chain_and_the_server_holds_the_same_copy(false).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_desktop_syncs_every_chain_and_the_server_holds_the_same_copy(true).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_sends_nothing_and_bad_input_changes_nothing() {
    let server = Server::start(false).await;
    let desktop = Desktop::new();
    let token = server.token();
    let wrong = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    let refused = desktop.join(&server.url(), wrong, &token).error();
    assert_eq!(refused["code"], "sync.pin_mismatch", "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains(&server.pin()),
        "names the presented pin: {message}"
    );
    assert!(message.contains("nothing was sent"), "{message}");

    let url = server.url();
    let pin = server.pin();
    let cases: [(&str, &str, &str, &str, &str); 4] = [
        (
            "http://127.0.0.1:1",
            &pin,
            &token,
            "invalid_input",
            "not https",
        ),
        (
            &url,
            "sha256//abc",
            &token,
            "invalid_input",
            "sha256//<base64>",
        ),
        (&url, &pin, "   ", "invalid_input", "enrollment token"),
        (
            "https://127.0.0.1:1",
            &pin,
            &token,
            "sync.unreachable",
            "cannot reach",
        ),
    ];
    for (url, pin, token, code, says) in cases {
        let e = desktop.join(url, pin, token).error();
        assert_eq!(e["code"], code, "{e}");
        assert!(e["message"].as_str().unwrap().contains(says), "{e}");
    }
    let unknown = desktop
        .join(&server.url(), &server.pin(), "not-a-token")
        .error();
    assert_eq!(unknown["code"], "sync.refused", "{unknown}");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("enroll.unknown_token"),
        "{unknown}"
    );
    let not_joined = desktop.run(&["server", "status"]).error();
    assert_eq!(not_joined["code"], "sync.not_joined", "{not_joined}");
    assert!(server.status()["devices"].as_array().unwrap().is_empty());

    // Nothing reached the server with the wrong pin: the same token still works.
    desktop.join(&server.url(), &server.pin(), &token).json();
    let again = desktop.join(&server.url(), &server.pin(), &token).error();
    assert_eq!(again["code"], "sync.already_joined", "{again}");

    // A used token is refused to a second desktop, with the server's code.
    let other = Desktop::new();
    let used = other.join(&server.url(), &server.pin(), &token).error();
    assert!(
        used["message"]
            .as_str()
            .unwrap()
            .contains("enroll.used_token"),
        "{used}"
    );

    // Only an Admin joins: an org member who is not is refused and it is recorded.
    let add = other.run_with(
        &[
            "--json",
            "user",
            "add",
            "bob",
            "--password-env",
            "NEW_PASSWORD",
        ],
        &[("NEW_PASSWORD", PASSWORD)],
    );
    assert!(add.ok, "{}", add.stderr);
    let bob = other.run_with(
        &[
            "--json",
            "server",
            "join",
            &server.url(),
            "--pin",
            &server.pin(),
            "--token",
            &server.token(),
        ],
        &[
            ("HEADMASTER_USER", "bob"),
            ("HEADMASTER_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(bob.error()["code"], "forbidden", "{}", bob.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_desktop_says_so_and_catches_up_when_the_server_is_back() {
    let mut server = Server::start(false).await;
    let desktop = joined(&server);

    server.down();
    desktop.run(&["workspace", "create", "Offline work"]).json();
    let run = desktop.run(&["server", "sync"]);
    assert!(!run.ok);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["online"], false, "{report}");
    let status = desktop.status();
    assert_eq!(status["online"], false, "{status}");
    let instance = &status["chains"][0];
    assert!(instance["pending"].as_u64().unwrap() > 0, "{status}");
    assert!(
        instance["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{status}"
    );

    server.up();
    let back = sync(&desktop);
    assert_eq!(back["online"], true, "{back}");
    let status = desktop.status();
    assert_eq!(status["online"], true, "{status}");
    for chain in status["chains"].as_array().unwrap() {
        assert_eq!(chain["pending"], 0, "{status}");
        assert!(chain["last_error"].is_null(), "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restored_from_an_old_backup_is_caught_and_repaired() {
    let mut server = Server::start(false).await;
    let desktop = joined(&server);

    // A backup of the server's database, taken while it is stopped.
    server.down();
    let backup = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(server.dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with("server.db") {
            std::fs::copy(&path, backup.path().join(name)).unwrap();
        }
    }
    server.up();
    for name in ["A", "B", "C"] {
        desktop.run(&["workspace", "create", name]).json();
    }
    sync(&desktop);
    let receipted = desktop.status()["chains"][0]["receipted_seq"]
        .as_u64()
        .unwrap();

    // The server loses everything after the backup.
    server.down();
    for entry in std::fs::read_dir(server.dir()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("server.db")
        {
            std::fs::remove_file(path).unwrap();
        }
    }
    for entry in std::fs::read_dir(backup.path()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, server.dir().join(path.file_name().unwrap())).unwrap();
    }
    server.up();
    let held_before = server.rows("instance").await.len() as u64;
    assert!(held_before < receipted, "the restore lost rows");

    let repaired = sync(&desktop);
    let instance = &repaired["chains"][0];
    assert_eq!(instance["repaired"], true, "{repaired}");
    assert!(instance["uploaded"].as_u64().unwrap() >= receipted - held_before);
    let events = desktop
        .run(&["audit", "query", "--action", "server.chain_lost"])
        .json();
    // Every chain lost something (the workspaces made after the backup lost all); the
    // instance chain lost what came after the backup.
    let lost = events["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"] == "instance")
        .unwrap_or_else(|| panic!("{events}"));
    assert_eq!(lost["payload"]["receipted_seq"], receipted, "{events}");
    assert_eq!(lost["payload"]["server_seq"], held_before, "{events}");
    sync(&desktop);
    assert_eq!(server.rows("instance").await, desktop_rows(&desktop, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_revokes_the_device_on_the_server_and_keeps_local_data() {
    let server = Server::start(false).await;
    let desktop = joined(&server);
    let before = desktop_rows(&desktop, None).len();

    let left = desktop.run(&["server", "leave"]).json();
    assert_eq!(left["revoked_on_server"], true, "{left}");
    assert!(server.status()["devices"][0]["revoked"].is_string());
    assert_eq!(
        desktop.run(&["server", "sync"]).error()["code"],
        "sync.not_joined"
    );
    let events = desktop
        .run(&["audit", "query", "--action", "server."])
        .json();
    let actions: Vec<&str> = events["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["server.left", "server.joined"], "{events}");
    assert!(
        desktop_rows(&desktop, None).len() > before,
        "local history is kept"
    );
}
