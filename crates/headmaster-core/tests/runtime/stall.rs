//! Heartbeats and stalls: a live run keeps beating while a step takes long; a run whose process
//! was killed stops beating, is flagged stalled (and audited once) after the configured time,
//! and can then be resumed or cancelled. Cancelling a waiting run withdraws its request.

use headmaster_core::approvals::PageRequest;
use headmaster_core::states::ApprovalStatus;
use headmaster_core::states::RunStatus;
use std::sync::Arc;

use headmaster_core::clock::Clock;
use headmaster_core::Error;

use crate::common::wait_until;
use crate::restart::{blocking_playbook, blocking_team, spawn_child, started, Release, WAIT_STEP};
use crate::support::smtp::SmtpSink;
use crate::support::{waiting_on, Team, STALL_MS, WAIT};

/// The id of the workspace's newest run.
async fn newest_run(team: &Team) -> String {
    team.instance()
        .list_runs(&team.admin, team.ws)
        .await
        .unwrap()[0]
        .id
        .clone()
}

async fn stalled_events(team: &Team) -> Vec<String> {
    team.having("run.stalled")
        .await
        .into_iter()
        .map(|e| e.target)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_keeps_beating_through_a_long_step_and_is_never_flagged() {
    let team = blocking_team(None).await;
    let go = Release::new(&team);
    team.playbook(&blocking_playbook("waiter", &[WAIT_STEP]))
        .await;
    let driving = {
        let (instance, bob, ws) = (Arc::clone(team.instance()), team.bob.clone(), team.ws);
        tokio::spawn(async move { instance.start_run(&bob, ws, "waiter", "live", true).await })
    };
    started(&team, "live").await;
    let run_id = newest_run(&team).await;

    // Time moves past the stall threshold; the next heartbeat (every two seconds) records it.
    team.fx.clock.advance_ms(STALL_MS + 1);
    let now = team.fx.clock.now_ms();
    let raw = team.fx.raw_workspace(team.ws).await;
    wait_until(WAIT, "a heartbeat at the new time", || {
        let (raw, run_id) = (raw.clone(), run_id.clone());
        async move {
            let beat: Option<i64> =
                sqlx::query_scalar("SELECT heartbeat_at FROM runs WHERE id = ?")
                    .bind(&run_id)
                    .fetch_one(&raw)
                    .await
                    .unwrap();
            beat.is_some_and(|b| b >= now)
        }
    })
    .await;
    let run = team.run(&run_id).await;
    assert_eq!(run.status, RunStatus::Running);
    assert!(!run.stalled, "a beating run is not stalled");

    go.now();
    let done = driving.await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{done:?}");
    assert!(stalled_events(&team).await.is_empty());
}

#[tokio::test]
async fn a_killed_run_is_flagged_stalled_once_and_can_be_resumed_or_cancelled() {
    let team = blocking_team(None).await;
    let go = Release::new(&team);
    team.playbook(&blocking_playbook("waiter", &[WAIT_STEP]))
        .await;
    let mut process = spawn_child(&team);
    process.send("start waiter one");
    let one = process.expect("run ");
    process.send("start waiter two");
    let two = process.expect("run ");
    started(&team, "one").await;
    started(&team, "two").await;
    process.kill();

    // Right after the kill the last heartbeat is recent: nothing looks wrong yet.
    assert!(!team.run(&one).await.stalled);
    assert!(stalled_events(&team).await.is_empty());

    team.fx.clock.advance_ms(STALL_MS + 1);
    for id in [&one, &two] {
        let run = team.run(id).await;
        assert_eq!(run.status, RunStatus::Running);
        assert!(run.stalled, "{run:?}");
    }
    // Looking again (list, show, the worker's flagging) does not audit the stall again.
    team.instance().list_runs(&team.bob, team.ws).await.unwrap();
    let shown = team
        .instance()
        .show_run(&team.admin, team.ws, &one)
        .await
        .unwrap();
    assert!(shown.summary.stalled);
    let mut flagged = stalled_events(&team).await;
    flagged.sort();
    let mut expected = vec![one.clone(), two.clone()];
    expected.sort();
    assert_eq!(flagged, expected, "one run.stalled event per run");
    let event = &team.having("run.stalled").await[0];
    assert_eq!(
        (event.actor_kind.as_str(), event.outcome.as_str()),
        ("agent", "failed")
    );
    assert_eq!(event.payload["no_heartbeat_for_ms"], STALL_MS);

    let cancelled = team
        .instance()
        .cancel_run(&team.bob, team.ws, &two)
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    let again = team
        .instance()
        .resume_run(&team.bob, team.ws, &two)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again}");

    go.now();
    let resumed = team.resume(&one).await;
    assert_eq!(resumed.status, RunStatus::Completed, "{resumed:?}");
    assert!(!resumed.stalled, "resuming clears the flag");
    assert_eq!(resumed.outcome.as_deref(), Some("waited for one\n"));
    assert_eq!(
        team.instance().tick_runs().await.unwrap(),
        0,
        "nothing is left to drive"
    );
    assert_eq!(stalled_events(&team).await.len(), 2);
    assert_eq!(team.run(&two).await.status, RunStatus::Cancelled);
    assert!(team.chain_valid().await);
}

#[tokio::test]
async fn cancelling_a_waiting_run_withdraws_its_request_and_nothing_is_sent() {
    let sink = SmtpSink::start();
    let team = Team::new().await;
    team.weekly_update(&sink).await;
    let run = team.start("weekly-client-update", "Client Corp").await;
    let approval = waiting_on(&run);

    let cancelled = team
        .instance()
        .cancel_run(&team.bob, team.ws, &run.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    let request = team
        .instance()
        .list_approvals(&team.carol, team.ws, Some("all"), &PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|a| a.id == approval)
        .unwrap();
    assert_eq!(
        request.status,
        ApprovalStatus::Expired,
        "the request is withdrawn"
    );
    assert!(!request.can_decide);
    let late = team.approve(&team.carol, &approval).await.unwrap_err();
    assert!(late.to_string().contains("already expired"), "{late}");
    assert_eq!(team.instance().tick_runs().await.unwrap(), 0);
    let resumed = team
        .instance()
        .resume_run(&team.bob, team.ws, &run.id)
        .await
        .unwrap_err();
    assert!(matches!(resumed, Error::Conflict(_)), "{resumed}");
    assert!(sink.messages().is_empty());
    let events = team.having("run.cancelled").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_name, "bob");
    assert!(team.chain_valid().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_while_it_works_takes_no_action_after_the_cancellation() {
    let team = Team::new().await;
    team.enable(&["memory"]).await;
    let mut playbook =
        String::from("name = \"busy\"\ntools = [\"memory.write\"]\n[limits]\nmax_steps = 500\n");
    for i in 1..=400 {
        playbook.push_str(&format!(
            "[[steps]]\nid = \"s{i}\"\ntool = \"memory.write\"\nargs = {{ key = \"k{i}\", value = \"v{i}\" }}\n"
        ));
    }
    playbook.push_str("[[steps]]\nid = \"done\"\nfinish = \"all written\"\n");
    team.playbook(&playbook).await;
    let driving = {
        let (instance, bob, ws) = (Arc::clone(team.instance()), team.bob.clone(), team.ws);
        tokio::spawn(async move { instance.start_run(&bob, ws, "busy", "work", true).await })
    };
    let raw = team.fx.raw_workspace(team.ws).await;
    let written = || {
        let raw = raw.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM memory")
                .fetch_one(&raw)
                .await
                .unwrap()
        }
    };
    wait_until(WAIT, "the run's first writes", || async {
        written().await >= 3
    })
    .await;
    let run_id = newest_run(&team).await;
    let cancelled = team
        .instance()
        .cancel_run(&team.bob, team.ws, &run_id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    let ended = driving.await.unwrap().unwrap();
    assert_eq!(ended.status, RunStatus::Cancelled, "{ended:?}");

    let cancel_seq = team.having("run.cancelled").await[0].seq;
    let executed: Vec<_> = team
        .having("tool.executed")
        .await
        .into_iter()
        .filter(|e| e.run_id == run_id)
        .collect();
    assert!(
        executed.len() < 400,
        "the run was not stopped: {} writes",
        executed.len()
    );
    let late: Vec<u64> = executed
        .iter()
        .filter(|e| e.seq > cancel_seq)
        .map(|e| e.seq)
        .collect();
    assert!(
        late.is_empty(),
        "actions recorded after the cancellation (event {cancel_seq}): {late:?}"
    );
    // Every write has its record and no record lacks its write.
    assert_eq!(written().await, executed.len() as i64);
    assert!(team.chain_valid().await);
}
