//! Runs that exceed their limits end with the reason and never execute anything twice: the
//! step limit (also against a playbook that loops), and the wall-time limit, after which the
//! run's pending request must not linger in the reviewers' inbox.

use headmaster_core::approvals::PageRequest;
use headmaster_core::states::{ApprovalStatus, RunStatus};
use headmaster_core::Error;

use crate::support::{waiting_on, Team};

#[tokio::test]
async fn a_run_over_its_step_limit_fails_with_the_reason_and_nothing_runs_twice() {
    let team = Team::new().await;
    team.enable(&["draft", "memory"]).await;
    team.playbook(
        r#"
name = "wordy"
tools = ["draft.save"]
[limits]
max_steps = 2
[[steps]]
id = "one"
tool = "draft.save"
args = { key = "one", title = "One", body = "first" }
[[steps]]
id = "two"
tool = "draft.save"
args = { key = "two", title = "Two", body = "second" }
[[steps]]
id = "three"
tool = "draft.save"
args = { key = "three", title = "Three", body = "third" }
"#,
    )
    .await;
    let run = team.start("wordy", "write three").await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.outcome.as_deref(),
        Some("the run reached its step limit (2)")
    );
    assert_eq!(run.steps, 2);
    let again = team
        .instance()
        .resume_run(&team.bob, team.ws, &run.id)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again}");
    assert_eq!(team.instance().tick_runs().await.unwrap(), 0);
    let drafts = team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap();
    let mut saved: Vec<(String, i64)> = drafts.into_iter().map(|d| (d.key, d.version)).collect();
    saved.sort();
    assert_eq!(saved, [("one".to_string(), 1), ("two".to_string(), 1)]);
    assert_eq!(team.having("tool.executed").await.len(), 2);
    let failed = team.having("run.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].payload["outcome"],
        "the run reached its step limit (2)"
    );

    // A playbook that loops on a failing step is stopped by the same limit.
    team.playbook(
        r#"
name = "looper"
tools = ["memory.read"]
[limits]
max_steps = 3
[[steps]]
id = "look"
tool = "memory.read"
args = { key = "never-written" }
on_failed = "goto:look"
"#,
    )
    .await;
    let run = team.start("looper", "look forever").await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.outcome.as_deref(),
        Some("the run reached its step limit (3)")
    );
    let failures = team
        .having("tool.failed")
        .await
        .into_iter()
        .filter(|e| e.run_id == run.id)
        .count();
    assert_eq!(failures, 3);
}

#[tokio::test]
async fn a_run_past_its_wall_time_expires_and_its_request_is_withdrawn() {
    let team = Team::new().await;
    team.enable(&["draft"]).await;
    team.set_tier("draft.save", "medium").await;
    team.playbook(
        r#"
name = "slow"
tools = ["draft.save"]
[limits]
wall_seconds = 60
[[steps]]
id = "save"
tool = "draft.save"
args = { title = "Late", body = "too late" }
"#,
    )
    .await;
    let run = team.start("slow", "save it").await;
    assert_eq!(run.status, RunStatus::WaitingConfirmation);
    let request = waiting_on(&run);

    team.fx.clock.advance_ms(61_000);
    let expired = team.resume(&run.id).await;
    assert_eq!(expired.status, RunStatus::Expired);
    assert_eq!(
        expired.outcome.as_deref(),
        Some("the run exceeded its wall-time limit")
    );
    // Whatever a reviewer does now, a finished run never acts again.
    let late = team.approve(&team.dave, &request).await;
    assert_eq!(team.instance().tick_runs().await.unwrap(), 0);
    assert!(team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap()
        .is_empty());
    // And its request must not wait in the reviewers' inbox, as a cancelled run's does not.
    let status = team
        .instance()
        .list_approvals(&team.admin, team.ws, Some("all"), &PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|a| a.id == request)
        .unwrap()
        .status;
    assert_eq!(
        status,
        ApprovalStatus::Expired,
        "the request of an expired run is withdrawn (a late confirmation got {late:?})"
    );
}

#[tokio::test]
async fn a_run_whose_starter_was_disabled_takes_no_action_and_the_refusal_is_audited() {
    let team = Team::new().await;
    team.enable(&["memory"]).await;
    team.playbook(
        "name = \"noter\"\ntools = [\"memory.write\"]\n\
         [[steps]]\nid = \"note\"\ntool = \"memory.write\"\nargs = { key = \"k\", value = \"v\" }\n\
         [[steps]]\nid = \"done\"\nfinish = \"noted\"\n",
    )
    .await;
    let queued = team
        .instance()
        .start_run(&team.bob, team.ws, "noter", "note it", false)
        .await
        .unwrap();
    assert_eq!(queued.status, RunStatus::Queued);
    team.instance()
        .disable_user(&team.admin, "bob")
        .await
        .unwrap();
    team.instance().tick_runs().await.unwrap();

    let run = team.run(&queued.id).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert!(
        run.outcome
            .as_deref()
            .unwrap_or_default()
            .contains("disabled or erased"),
        "{run:?}"
    );
    assert!(team.having("tool.executed").await.is_empty());
    let raw = team.fx.raw_workspace(team.ws).await;
    let written: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(written, 0);
    let denied = team.having("access.denied").await;
    assert!(
        denied
            .iter()
            .any(|e| e.actor_name == "bob" && e.payload["role"] == "disabled or erased"),
        "{denied:?}"
    );
}
