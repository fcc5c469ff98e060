//! Kill and restart: a real child process drives a run and is killed with SIGKILL while the
//! run waits for approval or while it is in the middle of a step; a new instance on the same
//! data directory finishes the run, and the email leaves exactly once whether the approval came
//! before the kill or after it.
//!
//! The mid-step kills use a sandboxed shell step that creates `started-TASK` and then waits for
//! a file named `go`: the test kills the child once the step has visibly started, and creates
//! `go` before the restart, so the step re-runs at once (steps inside the workspace may run
//! again after a crash; boundary-crossing ones never do). While one process drives a run, its
//! lease keeps a second process from driving it too.

use headmaster_core::states::ApprovalStatus;
use headmaster_core::states::RunStatus;
use std::path::PathBuf;
use std::sync::Arc;

use headmaster_core::approvals::ApprovalDecision;
use headmaster_core::clock::Clock;
use headmaster_core::{Error, Instance};

use crate::common::wait_until;
use crate::support::child::{self, ChildProcess};
use crate::support::smtp::SmtpSink;
use crate::support::{Team, CLIENT, LEASE_MS, WAIT};

/// The step that blocks until the test lets it go. The loop is written with `test` because the
/// shell policy cannot judge `[` (it reads it as a computed program name) and would make the
/// line critical, which needs two Approvers.
pub const WAIT_STEP: &str = r#"
[[steps]]
id = "wait"
tool = "shell.exec"
args = { command = "touch started-{{task}}; while test ! -e go; do sleep 0.05; done; echo waited for {{task}}" }
"#;

const SEND_STEP: &str = r#"
[[steps]]
id = "send"
tool = "email.send"
args = { to = ["cto@client.example"], subject = "Update: {{task}}", body = "The update for {{task}}." }
"#;

const FINISH: &str = r#"
[[steps]]
id = "done"
finish = "{{steps.wait.output.stdout}}"
"#;

/// The child's body: runs only when re-executed by a parent test with a data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child() {
    let Ok(home) = std::env::var(child::HOME_ENV) else {
        return;
    };
    let clock: i64 = std::env::var(child::CLOCK_ENV).unwrap().parse().unwrap();
    child::serve(&home, clock).await;
}

/// A playbook named `name` with `steps` in order, using the email and the shell, finishing
/// with what the shell step printed.
pub fn blocking_playbook(name: &str, steps: &[&str]) -> String {
    format!(
        "name = \"{name}\"\ntools = [\"email.send\", \"shell.exec\"]\n{}{FINISH}",
        steps.concat()
    )
}

/// A team whose shell runs without a decision (and whose email goes to `sink`).
pub async fn blocking_team(sink: Option<&SmtpSink>) -> Team {
    let team = Team::new().await;
    team.enable(&["shell"]).await;
    team.set_tier("shell.exec", "low").await;
    if let Some(sink) = sink {
        team.enable(&["email"]).await;
        team.email_through(sink).await;
    }
    team.files();
    team
}

/// Starts a child on the team's data directory, at the team's time.
pub fn spawn_child(team: &Team) -> ChildProcess {
    ChildProcess::spawn(team.fx.home(), team.fx.clock.now_ms())
}

/// Waits until the shell step of the run on `task` has started.
pub async fn started(team: &Team, task: &str) {
    let marker = team.files().join(format!("started-{task}"));
    wait_until(WAIT, &format!("the shell step of {task} to start"), || {
        let exists = marker.exists();
        async move { exists }
    })
    .await;
}

/// Lets the blocked shell steps of a team finish: at once with [`Release::now`], and in any case
/// when dropped. A killed process's sandboxed command outlives it, so a test that fails before
/// letting go must not leave such a loop behind.
pub struct Release(PathBuf);

impl Release {
    pub fn new(team: &Team) -> Self {
        Self(team.files().join("go"))
    }

    pub fn now(&self) {
        std::fs::write(&self.0, "").unwrap();
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, "");
    }
}

async fn approve_on(instance: &Instance, team: &Team, approval: &str) {
    let carol = team.sign_in_on(instance, "carol").await;
    let decided = instance
        .decide_approval(&carol, team.ws, approval, ApprovalDecision::Approve, None)
        .await
        .unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
}

async fn status_on(
    instance: &Arc<Instance>,
    team: &Team,
    run_id: &str,
) -> (String, Option<String>, Option<String>) {
    let bob = team.sign_in_on(instance, "bob").await;
    let run = instance
        .list_runs(&bob, team.ws)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == run_id)
        .unwrap();
    (run.status.to_string(), run.waiting_on, run.outcome)
}

/// How many times the agent's email was executed, by the audit log.
async fn emails_executed(team: &Team) -> usize {
    team.having("tool.executed")
        .await
        .iter()
        .filter(|e| e.target == "email.send")
        .count()
}

#[tokio::test]
async fn killed_while_waiting_for_approval_then_approved_after_the_restart() {
    let sink = SmtpSink::start();
    let team = Team::new().await;
    team.weekly_update(&sink).await;
    let mut process = spawn_child(&team);
    process.send("start weekly-client-update Client Corp");
    let run_id = process.expect("run ");
    assert_eq!(
        process.expect(&format!("status {run_id}")),
        "waiting_approval"
    );
    process.kill();

    let restarted = team.reopen().await;
    let (status, approval, _) = status_on(&restarted, &team, &run_id).await;
    assert_eq!(status, "waiting_approval");
    approve_on(&restarted, &team, &approval.unwrap()).await;
    let bob = team.sign_in_on(&restarted, "bob").await;
    let done = restarted.resume_run(&bob, team.ws, &run_id).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{done:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["rcpt_tos"], serde_json::json!([CLIENT]));

    // Nothing brings the send back: not a second resume, not the background tick.
    let again = restarted
        .resume_run(&bob, team.ws, &run_id)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again}");
    assert_eq!(restarted.tick_runs().await.unwrap(), 0);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(emails_executed(&team).await, 1);
    assert!(team.chain_valid().await);
}

#[tokio::test]
async fn killed_while_waiting_for_approval_after_the_approval_came_in() {
    let sink = SmtpSink::start();
    let team = Team::new().await;
    team.weekly_update(&sink).await;
    let mut process = spawn_child(&team);
    process.send("start weekly-client-update Client Corp");
    let run_id = process.expect("run ");
    assert_eq!(
        process.expect(&format!("status {run_id}")),
        "waiting_approval"
    );
    let (_, approval, _) = status_on(team.instance(), &team, &run_id).await;
    approve_on(team.instance(), &team, &approval.unwrap()).await;
    process.kill();
    assert!(
        sink.messages().is_empty(),
        "the approval alone sends nothing"
    );

    let restarted = team.reopen().await;
    assert_eq!(
        restarted.tick_runs().await.unwrap(),
        1,
        "the worker picks the approved run up"
    );
    let (status, _, outcome) = status_on(&restarted, &team, &run_id).await;
    assert_eq!(status, "completed", "{outcome:?}");
    assert_eq!(restarted.tick_runs().await.unwrap(), 0);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(emails_executed(&team).await, 1);
    assert!(team.chain_valid().await);
}

#[tokio::test]
async fn killed_mid_step_after_the_approved_email_left_it_is_not_sent_again() {
    let sink = SmtpSink::start();
    let team = blocking_team(Some(&sink)).await;
    let go = Release::new(&team);
    team.playbook(&blocking_playbook(
        "send-then-wait",
        &[SEND_STEP, WAIT_STEP],
    ))
    .await;
    let mut process = spawn_child(&team);
    process.send("start send-then-wait alpha");
    let run_id = process.expect("run ");
    assert_eq!(
        process.expect(&format!("status {run_id}")),
        "waiting_approval"
    );
    let (_, approval, _) = status_on(team.instance(), &team, &run_id).await;
    approve_on(team.instance(), &team, &approval.unwrap()).await;
    process.send(&format!("resume {run_id}"));
    started(&team, "alpha").await;
    assert_eq!(
        sink.messages().len(),
        1,
        "the email left before the shell step began"
    );
    process.kill();

    let restarted = team.reopen().await;
    let (status, _, _) = status_on(&restarted, &team, &run_id).await;
    assert_eq!(status, "running", "the killed process left the run running");
    // The dead process's lease still holds: nobody else may drive the run yet.
    let bob = team.sign_in_on(&restarted, "bob").await;
    let held = restarted.resume_run(&bob, team.ws, &run_id).await.unwrap();
    assert_eq!(held.status, RunStatus::Running);
    assert_eq!(restarted.tick_runs().await.unwrap(), 0);

    team.fx.clock.advance_ms(LEASE_MS + 1);
    go.now();
    assert_eq!(restarted.tick_runs().await.unwrap(), 1);
    let (status, _, outcome) = status_on(&restarted, &team, &run_id).await;
    assert_eq!(status, "completed", "{outcome:?}");
    assert_eq!(outcome.as_deref(), Some("waited for alpha\n"));
    assert_eq!(sink.messages().len(), 1, "the email left exactly once");
    assert_eq!(emails_executed(&team).await, 1);
    assert!(team.chain_valid().await);
}

#[tokio::test]
async fn killed_mid_step_before_the_email_the_restarted_run_asks_and_sends_once() {
    let sink = SmtpSink::start();
    let team = blocking_team(Some(&sink)).await;
    let go = Release::new(&team);
    team.playbook(&blocking_playbook(
        "wait-then-send",
        &[WAIT_STEP, SEND_STEP],
    ))
    .await;
    let mut process = spawn_child(&team);
    process.send("start wait-then-send beta");
    let run_id = process.expect("run ");
    started(&team, "beta").await;
    process.kill();

    let restarted = team.reopen().await;
    team.fx.clock.advance_ms(LEASE_MS + 1);
    go.now();
    assert_eq!(restarted.tick_runs().await.unwrap(), 1);
    let (status, approval, _) = status_on(&restarted, &team, &run_id).await;
    assert_eq!(status, "waiting_approval");
    assert!(sink.messages().is_empty());
    approve_on(&restarted, &team, &approval.unwrap()).await;
    assert_eq!(restarted.tick_runs().await.unwrap(), 1);
    let (status, _, outcome) = status_on(&restarted, &team, &run_id).await;
    assert_eq!(status, "completed", "{outcome:?}");
    assert_eq!(outcome.as_deref(), Some("waited for beta\n"));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["subject"], "Update: beta");
    assert_eq!(
        messages[0]["body"].as_str().unwrap(),
        "The update for beta."
    );
    assert_eq!(emails_executed(&team).await, 1);
    assert!(team.chain_valid().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_cannot_drive_a_run_another_one_is_driving() {
    let sink = SmtpSink::start();
    let team = blocking_team(Some(&sink)).await;
    let go = Release::new(&team);
    team.playbook(&blocking_playbook(
        "send-then-wait",
        &[SEND_STEP, WAIT_STEP],
    ))
    .await;
    let run = team.start("send-then-wait", "gamma").await;
    approve_on(team.instance(), &team, &run.waiting_on.clone().unwrap()).await;
    let driving = {
        let (instance, bob, ws, id) = (
            Arc::clone(team.instance()),
            team.bob.clone(),
            team.ws,
            run.id.clone(),
        );
        tokio::spawn(async move { instance.resume_run(&bob, ws, &id).await })
    };
    started(&team, "gamma").await;

    // This process holds the lease and is inside the shell step: the other one backs off.
    let mut process = spawn_child(&team);
    process.send(&format!("resume {}", run.id));
    assert_eq!(process.expect(&format!("status {}", run.id)), "running");
    process.kill();
    go.now();
    let done = driving.await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{done:?}");
    assert_eq!(sink.messages().len(), 1);
    let proposed: Vec<String> = team
        .having("tool.proposed")
        .await
        .into_iter()
        .map(|e| e.target)
        .collect();
    assert_eq!(
        proposed,
        ["email.send", "shell.exec"],
        "every step was proposed once"
    );
    assert_eq!(emails_executed(&team).await, 1);
}
