//! A child process appending events is killed with SIGKILL at random points, 50 times; every
//! append that returned is still there and the chain verifies.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use headmaster_core::access::Scope;
use headmaster_core::audit::AuditFilter;

use crate::common::{secret, source, Fixture, ADMIN, PASSWORD};

const CHILD_ENV: &str = "HEADMASTER_TEST_CRASH_HOME";

/// The child's body: runs only when re-executed by the parent with the data directory in the
/// environment. It appends events forever, printing a line after each append returned.
#[tokio::test]
async fn crash_child() {
    let Ok(home) = std::env::var(CHILD_ENV) else {
        return;
    };
    let clock = headmaster_core::clock::ManualClock::new(crate::common::START_MS + 60_000);
    let instance = headmaster_core::Instance::open(
        headmaster_core::store::Layout::new(&home),
        headmaster_core::Unlock {
            passphrase: Some(secret(crate::common::PASSPHRASE)),
        },
        crate::common::env(&clock),
    )
    .await
    .unwrap();
    let session = instance
        .sign_in(ADMIN, &secret(PASSWORD), source())
        .await
        .unwrap()
        .session;
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        instance
            .set_rotation_period(&session, 1 + (i % 300) as i64)
            .await
            .unwrap();
        writeln!(out, "committed").unwrap();
        out.flush().unwrap();
    }
}

#[tokio::test]
async fn fifty_sigkills_lose_no_committed_event() {
    let fx = Fixture::new().await;
    let exe = std::env::current_exe().unwrap();
    let mut committed = 0u64;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..50 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait_for = 1 + seed % 12;
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, fx.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0u64;
        while seen < wait_for {
            match lines.next() {
                Some(Ok(line)) if line == "committed" => seen += 1,
                Some(Ok(_)) => {}
                _ => panic!("round {round}: the child stopped before being killed"),
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Lines the child printed before it died count as committed too.
        seen += lines
            .map_while(Result::ok)
            .filter(|l| l == "committed")
            .count() as u64;
        committed += seen;
    }
    let session = fx.admin().await;
    let stored = count_action(&fx, &session, "key.period_changed").await;
    assert!(
        stored >= committed,
        "{stored} events stored, {committed} appends returned"
    );
    assert!(
        stored <= committed + 50,
        "at most one unreported append per killed child"
    );
    let outcome = fx
        .instance
        .verify_audit(&session, Scope::Org, &|_, _| {})
        .await
        .unwrap();
    assert!(outcome.valid, "{outcome:?}");
}

async fn count_action(fx: &Fixture, session: &headmaster_core::Session, action: &str) -> u64 {
    let mut filter = AuditFilter {
        action: Some(action.into()),
        limit: Some(1000),
        ..AuditFilter::default()
    };
    let mut n = 0;
    loop {
        let page = fx
            .instance
            .query_audit(session, Scope::Org, &filter)
            .await
            .unwrap();
        n += page.entries.len() as u64;
        match page.next_before {
            Some(b) => filter.before_seq = Some(b),
            None => return n,
        }
    }
}
