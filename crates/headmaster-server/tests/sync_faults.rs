//! Sync through failures, with the real CLI and server: the network cut in the middle of
//! uploads by a TCP gate between them, the desktop killed (SIGKILL) mid-upload, the server
//! killed mid-upload. One-row segments make every sync hundreds of uploads, so the faults land
//! inside them: each kill waits until the server has taken a few more events. Afterwards the
//! server's copy equals the desktop's, seq by seq and hash by hash.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::desktop::{assert_same_copy, sync, Desktop, Server};
use crate::support::gate::Gate;

/// A fixed pseudo-random schedule, so a failure can be replayed.
struct Schedule(u64);

impl Schedule {
    /// The next value in `low..high`.
    fn next(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        low + (self.0 >> 33) % (high - low)
    }
}

/// Work that leaves audit events on the instance chain and on new workspace chains.
fn work(desktop: &Desktop, from: usize, workspaces: usize) {
    for i in from..from + workspaces {
        let run = desktop.run(&["workspace", "create", &format!("Team {i}")]);
        assert!(run.ok, "{}", run.stderr);
    }
}

const ONE_ROW: [&str; 4] = ["server", "sync", "--segment-rows", "1"];

/// Waits until the server holds `more` events than when called, or the sync `child` has ended
/// (nothing was left to upload): the fault then lands in the middle of an upload.
async fn uploaded_or_done(server: &Server, child: &mut std::process::Child, more: i64) {
    let target = server.held_events().await + more;
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() && server.held_events().await < target {
        assert!(
            Instant::now() < deadline,
            "the sync made no progress for 60 s"
        );
        // One-row segments take a few milliseconds each: poll faster than they land.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn pending(desktop: &Desktop) -> u64 {
    desktop.status()["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pending"].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_cut_mid_upload_loses_and_doubles_nothing() {
    let server = Server::start(false).await;
    let gate = Gate::to_port(server.port).await;
    gate.open();
    let desktop = Desktop::new();
    let url = format!("https://127.0.0.1:{}", gate.port);
    desktop.join(&url, &server.pin(), &server.token()).json();
    work(&desktop, 0, 40);
    let total = pending(&desktop);
    assert!(total > 100, "{total} events to upload");

    // Each round the link breaks after a few kilobytes towards the server, mid-request.
    let mut schedule = Schedule(14);
    let mut cuts = 0;
    loop {
        assert!(cuts < 400, "the sync never got through");
        gate.open();
        gate.close_after(schedule.next(2_000, 40_000) as i64);
        let run = desktop.run(&ONE_ROW);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        if run.ok {
            break;
        }
        assert_eq!(report["online"], false, "{report}");
        cuts += 1;
    }
    assert!(cuts >= 5, "only {cuts} cuts landed in uploads");
    gate.close_after(-1);
    gate.open();
    assert_eq!(pending(&desktop), 0);
    assert_eq!(sync(&desktop)["uploaded"], 0);
    assert_same_copy(&desktop, &server).await;
    let status = server.status();
    assert!(
        status["quarantined"].as_array().unwrap().is_empty(),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_killed_mid_upload_loses_and_doubles_nothing() {
    let server = Server::start(false).await;
    let desktop = Desktop::new();
    desktop
        .join(&server.url(), &server.pin(), &server.token())
        .json();
    work(&desktop, 0, 30);
    let mut schedule = Schedule(7);
    let mut killed = 0;
    for round in 0..50 {
        let mut child = desktop
            .command(&ONE_ROW)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let more = schedule.next(1, 4) as i64;
        uploaded_or_done(&server, &mut child, more).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        if round % 10 == 9 {
            work(&desktop, 100 + round, 3);
        }
    }
    assert!(
        killed >= 25,
        "only {killed} of 50 syncs were killed mid-way"
    );
    sync(&desktop);
    assert_eq!(pending(&desktop), 0);
    assert_same_copy(&desktop, &server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_mid_upload_loses_and_doubles_nothing() {
    let mut server = Server::start(false).await;
    let desktop = Desktop::new();
    desktop
        .join(&server.url(), &server.pin(), &server.token())
        .json();
    work(&desktop, 0, 30);
    let mut schedule = Schedule(3);
    let mut cut_short = 0;
    for round in 0..50 {
        let mut child = desktop
            .command(&ONE_ROW)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let more = schedule.next(1, 4) as i64;
        uploaded_or_done(&server, &mut child, more).await;
        server.kill();
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            cut_short += 1;
        }
        server.up();
        if round % 10 == 9 {
            work(&desktop, 100 + round, 3);
        }
    }
    assert!(
        cut_short >= 25,
        "only {cut_short} of 50 syncs were cut short"
    );
    sync(&desktop);
    assert_eq!(pending(&desktop), 0);
    assert_same_copy(&desktop, &server).await;
}
