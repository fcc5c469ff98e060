//! What the desktop trusts and what it does when the server stops deserving it: a replaced
//! certificate (sync stops until an Admin re-pins), a replaced server key (receipts refused),
//! a server copy that differs from the desktop's (the chain stops until resumed), all without
//! changing anything local.

use serde_json::Value;

use crate::support::desktop::{assert_same_copy, desktop_rows, joined, sync, Desktop, Server};

fn failed_sync(desktop: &Desktop) -> Value {
    let run = desktop.run(&["server", "sync"]);
    assert!(!run.ok, "the sync should have failed: {}", run.stdout);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn chain<'a>(report: &'a Value, scope: &str) -> &'a Value {
    report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scope"] == scope)
        .unwrap_or_else(|| panic!("no chain {scope}: {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_certificate_stops_sync_until_an_admin_repins() {
    let mut server = Server::start(false).await;
    let desktop = joined(&server);
    let old_pin = server.pin();

    server.down();
    std::fs::remove_dir_all(server.dir().join("tls")).unwrap();
    server.up();
    let new_pin = server.pin();
    assert_ne!(new_pin, old_pin);

    let report = failed_sync(&desktop);
    assert_eq!(report["online"], false, "{report}");
    let instance = chain(&report, "instance");
    assert_eq!(instance["error_code"], "sync.pin_mismatch", "{report}");
    assert!(
        instance["error"].as_str().unwrap().contains(&new_pin),
        "{report}"
    );
    assert_eq!(desktop.status()["online"], false);

    let bad = desktop
        .run(&["server", "repin", "--pin", "sha256//nope"])
        .error();
    assert_eq!(bad["code"], "invalid_input", "{bad}");
    desktop.run(&["server", "repin", "--pin", &new_pin]).json();
    sync(&desktop);
    assert_eq!(desktop.status()["online"], true);
    assert_same_copy(&desktop, &server).await;
    let events = desktop
        .run(&["audit", "query", "--action", "server.repinned"])
        .json();
    assert_eq!(
        events["entries"][0]["payload"]["after"][0],
        new_pin.as_str(),
        "{events}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_signed_by_another_server_key_are_refused() {
    let mut server = Server::start(false).await;
    let desktop = joined(&server);
    let receipted = desktop.status()["chains"][0]["receipted_seq"].clone();

    server.down();
    for file in ["keys/signing.key", "keys/signing.pub"] {
        std::fs::remove_file(server.dir().join(file)).unwrap();
    }
    server.admin(&["init"]);
    server.up();
    desktop.run(&["workspace", "create", "More"]).json();

    let report = failed_sync(&desktop);
    let instance = chain(&report, "instance");
    assert_eq!(instance["error_code"], "sync.bad_answer", "{report}");
    assert!(
        instance["error"].as_str().unwrap().contains("receipt"),
        "{report}"
    );
    // The server stored the rows, but this desktop holds no receipt for them.
    let status = desktop.status();
    assert_eq!(status["chains"][0]["receipted_seq"], receipted, "{status}");
    assert!(
        status["chains"][0]["pending"].as_u64().unwrap() > 0,
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_copy_that_differs_stops_the_chain_until_resumed() {
    let mut server = Server::start(false).await;
    let desktop = joined(&server);
    let before = desktop_rows(&desktop, None);

    // Someone rewrites the server's last row of the instance chain.
    server.down();
    let db = server.dir().join("server.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (seq, real): (i64, Vec<u8>) =
        sqlx::query_as("SELECT last_seq, last_hash FROM chains WHERE scope = 'instance'")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("UPDATE chains SET last_hash = zeroblob(32) WHERE scope = 'instance'")
        .execute(&pool)
        .await
        .unwrap();
    server.up();

    let report = failed_sync(&desktop);
    let instance = chain(&report, "instance");
    assert_eq!(instance["error_code"], "sync.chain_stopped", "{report}");
    assert!(
        instance["error"]
            .as_str()
            .unwrap()
            .contains(&format!("at seq {seq}")),
        "{report}"
    );
    // Stopped stays stopped, without asking the server again, until an Admin resumes it.
    let again = failed_sync(&desktop);
    assert!(
        chain(&again, "instance")["error"]
            .as_str()
            .unwrap()
            .contains("server resume instance"),
        "{again}"
    );
    desktop.run(&["server", "resume", "instance"]).json();
    let still = failed_sync(&desktop);
    assert_eq!(
        chain(&still, "instance")["error_code"],
        "sync.chain_stopped"
    );

    // Repaired on the server, resumed: the chain syncs, and local history never changed.
    server.down();
    sqlx::query("UPDATE chains SET last_hash = ? WHERE scope = 'instance'")
        .bind(real)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    server.up();
    desktop.run(&["server", "resume", "instance"]).json();
    sync(&desktop);
    assert_same_copy(&desktop, &server).await;
    let after = desktop_rows(&desktop, None);
    assert_eq!(after[..before.len()], before[..]);
    let resumed = desktop
        .run(&["audit", "query", "--action", "server."])
        .json();
    let actions: Vec<&str> = resumed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("server.chain_"))
        .collect();
    assert_eq!(
        actions,
        [
            "server.chain_resumed",
            "server.chain_stopped",
            "server.chain_resumed",
            "server.chain_stopped"
        ],
        "{resumed}"
    );
}
