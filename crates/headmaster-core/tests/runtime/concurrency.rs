//! The background pass drives runs concurrently: a model that never answers holds up its own
//! run and nothing else, the number of runs driven at once is bounded by the configuration, and
//! a workspace whose database cannot be read is reported while the others' runs go on.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use headmaster_core::ids::WorkspaceId;
use headmaster_core::instance::Config;
use headmaster_core::runtime::{RunStatus, RunSummary};
use headmaster_core::Session;

use headmaster_core::maintenance::Work;
use headmaster_core::vault::no_progress;

use crate::common::{source, wait_until};
use crate::support::chat_server::{ChatServer, Reply};
use crate::support::{config, model_agent, Team, WAIT};

/// A playbook that reads one memory entry: low tier, so it finishes without anyone deciding.
const READER: &str = r#"
name = "reader"
tools = ["memory.read"]
[[steps]]
id = "look"
tool = "memory.read"
args = { key = "lunch" }
"#;

impl Team {
    /// A second workspace where bob is an Operator, with the memory tool and the reader agent.
    async fn second_workspace(&self) -> WorkspaceId {
        let created = self
            .instance()
            .create_workspace(&self.admin, "Second")
            .await
            .unwrap();
        let ws: WorkspaceId = created.id.parse().unwrap();
        self.instance()
            .add_member(&self.admin, ws, "bob", "operator")
            .await
            .unwrap();
        self.instance()
            .enable_tool(&self.admin, ws, "memory", None)
            .await
            .unwrap();
        self.instance()
            .create_playbook_agent(&self.admin, ws, READER)
            .await
            .unwrap();
        self.instance()
            .write_memory(&self.admin, ws, "lunch", "pizza on friday")
            .await
            .unwrap();
        ws
    }

    /// Queues a run as bob without driving it (the worker's pass does).
    async fn queue(&self, ws: WorkspaceId, agent: &str, task: &str) -> RunSummary {
        self.instance()
            .start_run(&self.bob, ws, agent, task, false)
            .await
            .unwrap_or_else(|e| panic!("queueing {agent}: {e}"))
    }

    async fn runs_in(&self, session: &Session, ws: WorkspaceId) -> Vec<RunSummary> {
        self.instance().list_runs(session, ws).await.unwrap()
    }
}

#[tokio::test]
async fn a_hung_model_holds_up_its_own_run_while_twenty_playbook_runs_in_two_workspaces_finish() {
    let server = ChatServer::start(vec![Reply::Silent]);
    let team = Team::new().await;
    team.enable(&["memory"]).await;
    team.remember("lunch", "pizza on friday").await;
    team.playbook(READER).await;
    // Five minutes per attempt: the model stays silent for the whole test.
    team.agent(model_agent(
        "slow",
        &server.base_url(),
        &["memory.read"],
        300,
    ))
    .await;
    let second = team.second_workspace().await;

    let hung = team.queue(team.ws, "slow", "wait for the model").await;
    let mut quick = Vec::new();
    for i in 0..10 {
        quick.push((
            team.ws,
            team.queue(team.ws, "reader", &format!("first {i}")).await,
        ));
        quick.push((
            second,
            team.queue(second, "reader", &format!("second {i}")).await,
        ));
    }
    assert_eq!(hung.status, RunStatus::Queued);

    // The hung run goes first, so a worker that drove runs one after another would never reach
    // the others.
    let pass = team.instance().dispatch_runs().await.unwrap();
    assert_eq!(pass.started(), 21, "every queued run has a task");
    assert!(pass.problems.is_empty(), "{:?}", pass.problems);
    wait_until(WAIT, "the model to be asked", || async {
        !server.requests().is_empty()
    })
    .await;
    wait_until(WAIT, "all twenty playbook runs to complete", || async {
        let mut done = 0;
        for ws in [team.ws, second] {
            done += team
                .runs_in(&team.bob, ws)
                .await
                .iter()
                .filter(|r| r.status == RunStatus::Completed)
                .count();
        }
        done == 20
    })
    .await;
    for (ws, run) in &quick {
        let now = team.runs_in(&team.bob, *ws).await;
        let run = now.iter().find(|r| r.id == run.id).unwrap();
        assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    }
    let slow = team.run(&hung.id).await;
    assert_eq!(
        slow.status,
        RunStatus::Running,
        "still waiting for its model: {slow:?}"
    );
    assert_eq!(server.requests().len(), 1, "one attempt, still unanswered");

    // A second pass does not start the hung run again: its task still has it.
    let again = team.instance().dispatch_runs().await.unwrap();
    assert_eq!(again.started(), 0);
}

#[tokio::test]
async fn no_more_runs_are_driven_at_once_than_the_configuration_allows() {
    let server = ChatServer::start(vec![Reply::Silent]);
    let team = Team::with(Config {
        max_concurrent_runs: 2,
        ..config()
    })
    .await;
    team.enable(&["memory"]).await;
    // One second per attempt, five attempts: each run fails after about five seconds.
    team.agent(model_agent(
        "waiting",
        &server.base_url(),
        &["memory.read"],
        1,
    ))
    .await;
    let mut runs = Vec::new();
    for i in 0..3 {
        runs.push(team.queue(team.ws, "waiting", &format!("task-{i}")).await);
    }
    let pass = team.instance().dispatch_runs().await.unwrap();
    assert_eq!(pass.started(), 3);

    // At every moment, the runs the model has heard from and that are not finished yet are
    // being driven now: never more than two.
    let most = AtomicUsize::new(0);
    wait_until(
        WAIT,
        "all three runs to fail on the silent model",
        || async {
            let asked: HashSet<String> = server
                .requests()
                .iter()
                .flat_map(|r| r.messages())
                .filter_map(|m| m["content"].as_str().map(str::to_string))
                .filter_map(|text| (0..3).find(|i| text.contains(&format!("task-{i}"))))
                .map(|i| runs[i].id.clone())
                .collect();
            let listed = team.runs_in(&team.bob, team.ws).await;
            let in_flight = listed
                .iter()
                .filter(|r| asked.contains(&r.id) && !r.status.is_final())
                .count();
            assert!(
                in_flight <= 2,
                "{in_flight} runs driven at once: {listed:?}"
            );
            most.fetch_max(in_flight, Ordering::SeqCst);
            listed.iter().all(|r| r.status == RunStatus::Failed)
        },
    )
    .await;
    assert_eq!(
        most.into_inner(),
        2,
        "two runs were driven at the same time"
    );
    assert_eq!(pass.finish().await, 3, "each run advanced (to its failure)");
}

#[tokio::test]
async fn a_workspace_whose_database_cannot_be_read_is_reported_and_the_others_runs_go_on() {
    let team = Team::new().await;
    let second = team.second_workspace().await;
    let queued = team.queue(second, "reader", "read on").await;

    // The first workspace (the first the pass looks at) becomes unreadable; the app restarts.
    let home = team.fx.home().to_path_buf();
    let layout = headmaster_core::store::Layout::new(&home);
    let broken = layout.workspace_db(team.ws);
    for suffix in ["-wal", "-shm"] {
        let mut side = broken.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
    std::fs::write(
        &broken,
        b"this is not a database, it is garbage on the disk",
    )
    .unwrap();
    let restarted = team.reopen().await;

    let pass = restarted.dispatch_runs().await.unwrap();
    assert_eq!(pass.problems.len(), 1, "{:?}", pass.problems);
    assert_eq!(pass.problems[0].workspace, team.ws);
    assert_eq!(pass.started(), 1, "the second workspace's run was started");
    assert_eq!(pass.finish().await, 1);
    let bob = team.sign_in_on(&restarted, "bob").await;
    let runs = restarted.list_runs(&bob, second).await.unwrap();
    let run = runs.iter().find(|r| r.id == queued.id).unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");

    // Maintenance reports the workspace and still does the rest.
    let report = restarted
        .maintain(&source(), Work::Full, &no_progress)
        .await
        .unwrap();
    let broken_scope = team.ws.to_string();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.scope == broken_scope && p.step == "approval expiry"),
        "{:?}",
        report.problems
    );
    assert!(
        report.problems.iter().all(|p| !p.message.is_empty()),
        "{:?}",
        report.problems
    );
}
