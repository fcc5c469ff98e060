//! A desktop (the real `headmaster` CLI) and the real `headmaster-server` over TLS 1.3 on
//! loopback: joining under a pin, syncing every chain until the server's copy equals the
//! desktop's row for row, offline and back, a server restored from an old backup, leaving.

use serde_json::Value;

use crate::support::desktop::{
    assert_same_copy, desktop_rows, joined, sync, Desktop, Server, PASSWORD,
};

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
    assert_same_copy(&desktop, &server).await;

    // More work, more events: only the new ones go up; a sync with nothing new sends nothing.
    for name in ["Ops", "Legal"] {
        desktop.run(&["workspace", "create", name]).json();
    }
    let second = sync(&desktop);
    let uploaded = second["uploaded"].as_u64().unwrap();
    assert!((2..20).contains(&uploaded), "{second}");
    let receipts = desktop.status();
    let idle = sync(&desktop);
    assert_eq!(idle["uploaded"], 0, "{idle}");
    // Nothing was sent again: the receipts are the same ones.
    let unchanged = desktop.status();
    for (a, b) in receipts["chains"]
        .as_array()
        .unwrap()
        .iter()
        .zip(unchanged["chains"].as_array().unwrap())
    {
        assert_eq!(a["last_receipt"], b["last_receipt"], "{unchanged}");
    }
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
    // The loss is recorded once: the next sync finds nothing owed.
    let calm = sync(&desktop);
    assert!(
        calm["chains"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["repaired"] == false),
        "{calm}"
    );
    let events = desktop
        .run(&["audit", "query", "--action", "server.chain_lost"])
        .json();
    assert_eq!(events["entries"].as_array().unwrap().len(), 4, "{events}");
    assert_same_copy(&desktop, &server).await;
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

    // Joining again (a new token) continues the same device's chains on the server.
    desktop
        .join(&server.url(), &server.pin(), &server.token())
        .json();
    let back = sync(&desktop);
    let repaired = back["chains"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["repaired"] == true);
    assert!(!repaired, "{back}");
    assert_eq!(server.status()["devices"].as_array().unwrap().len(), 1);
    assert_same_copy(&desktop, &server).await;
}
