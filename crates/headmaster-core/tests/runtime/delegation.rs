//! Delegation cannot widen tools: a sub-run gets at most the tools its parent has (and asked
//! for), a playbook that delegates a tool it lacks is refused when it is defined, a sub-run
//! that tries a tool outside its set is denied on record, and the run tree is visible.

use headmaster_core::states::RunStatus;
use headmaster_core::states::StepKind;
use serde_json::{json, Value};

use crate::support::chat_server::{answer, tool_calls, ChatServer};
use crate::support::{model_agent, Team};

/// Lists the shell and drafts, and tries the shell first.
const HELPER: &str = r#"
name = "helper"
tools = ["draft.save", "shell.exec"]

[[steps]]
id = "escape"
tool = "shell.exec"
args = { command = "touch escaped.txt" }
on_denied = "continue"

[[steps]]
id = "write"
tool = "draft.save"
args = { key = "sub-draft", title = "From the helper", body = "Helper wrote this for {{task}}" }

[[steps]]
id = "done"
finish = "helper saved version {{steps.write.output.version}}"
"#;

/// May only save drafts, and hands the helper just that.
const BOSS: &str = r#"
name = "boss"
tools = ["draft.save"]

[[steps]]
id = "hand-off"
delegate = { agent = "helper", task = "the {{task}} report", tools = ["draft.save"], max_steps = 4 }

[[steps]]
id = "done"
finish = "boss got: {{steps.hand-off.output.summary}}"
"#;

/// A team where the shell would run without a decision: only the run's tool set stands in the
/// way of the helper's shell step.
async fn delegating_team() -> Team {
    let team = Team::new().await;
    team.enable(&["draft", "shell", "memory"]).await;
    team.set_tier("shell.exec", "low").await;
    team.files();
    team
}

/// The `run.started` payload of a run.
async fn started_payload(team: &Team, run_id: &str) -> Value {
    team.having("run.started")
        .await
        .into_iter()
        .find(|e| e.run_id == run_id)
        .unwrap_or_else(|| panic!("no run.started for {run_id}"))
        .payload
}

/// Checks that the helper's sub-run `child` was denied the shell, on record, and wrote its draft.
async fn helper_was_confined(team: &Team, helper_id: &str, child: &str) {
    assert!(
        !team.files().join("escaped.txt").exists(),
        "the shell never ran"
    );
    assert!(team
        .having("tool.executed")
        .await
        .iter()
        .all(|e| e.target != "shell.exec"));
    let denied = team.having("tool.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(
        (denied[0].actor_kind.as_str(), denied[0].actor_id.as_str()),
        ("agent", helper_id)
    );
    assert_eq!(
        (denied[0].target.as_str(), denied[0].run_id.as_str()),
        ("shell.exec", child)
    );
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, child)
        .await
        .unwrap();
    let escape = detail
        .timeline
        .iter()
        .find(|s| s.kind == StepKind::Result && s.body["step"] == "escape")
        .expect("the shell step has a result");
    assert_eq!(escape.body["status"], "denied");
    assert!(
        escape.body["reason"]
            .as_str()
            .unwrap()
            .contains("may not use shell.exec"),
        "{}",
        escape.body
    );
    assert_eq!(detail.drafts.len(), 1);
    assert_eq!(detail.drafts[0].key, "sub-draft");
}

#[tokio::test]
async fn a_sub_run_gets_only_the_tools_handed_down_and_the_tree_is_visible() {
    let team = delegating_team().await;
    let helper = team.playbook(HELPER).await;
    team.playbook(BOSS).await;

    let run = team.start("boss", "Q3").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(
        run.outcome.as_deref(),
        Some("boss got: helper saved version 1")
    );

    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    assert_eq!(detail.children.len(), 1);
    let child = &detail.children[0];
    assert_eq!(child.agent_name, "helper");
    assert_eq!(child.parent_run_id.as_deref(), Some(run.id.as_str()));
    assert_eq!(child.status, RunStatus::Completed);
    assert_eq!(child.task, "the Q3 report");
    assert_eq!(
        child.started_by, "bob",
        "a sub-run acts for the person who started the tree"
    );
    let delegation = detail
        .timeline
        .iter()
        .find(|s| s.kind == StepKind::Delegation)
        .unwrap();
    assert_eq!(delegation.body["child_run"], Value::from(child.id.clone()));
    assert_eq!(delegation.body["tools"], json!(["draft.save"]));
    assert_eq!(delegation.body["max_steps"], 4);

    let started = started_payload(&team, &child.id).await;
    assert_eq!(
        started["tools"],
        json!(["draft.save"]),
        "the helper's shell is not handed down"
    );
    assert_eq!(started["max_steps"], 4);
    assert_eq!(started["parent_run_id"], Value::from(run.id.clone()));
    helper_was_confined(&team, &helper.id, &child.id).await;
    // Only the top of the tree is listed as a child of nobody.
    let runs = team
        .instance()
        .list_runs(&team.admin, team.ws)
        .await
        .unwrap();
    assert_eq!(runs.iter().filter(|r| r.parent_run_id.is_none()).count(), 1);
    assert!(team.chain_valid().await);
}

#[tokio::test]
async fn a_playbook_that_delegates_a_tool_it_lacks_is_refused_with_the_line() {
    let team = delegating_team().await;
    team.playbook(HELPER).await;
    let greedy = "name = \"greedy\"\ntools = [\"draft.save\"]\n\n[[steps]]\nid = \"hand-off\"\n\
                  delegate = { agent = \"helper\", task = \"x\", tools = [\"draft.save\", \"shell.exec\"] }\n";
    let err = team
        .instance()
        .create_playbook_agent(&team.admin, team.ws, greedy)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    let message = err.to_string();
    assert!(message.contains("playbook line 5:"), "{message}");
    assert!(
        message.contains("delegates \"shell.exec\", which this playbook may not use itself"),
        "{message}"
    );
    let names: Vec<String> = team
        .instance()
        .list_agents(&team.admin, team.ws)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["helper"]);
}

#[tokio::test]
async fn a_models_delegate_call_cannot_widen_tools_either() {
    let server = ChatServer::start(vec![
        tool_calls(&[(
            "call_hand_off",
            "delegate",
            r#"{"agent":"helper","task":"the Q4 report","tools":["draft.save","shell.exec"],"max_steps":4}"#,
        )]),
        answer("The helper drafted it."),
    ]);
    let team = delegating_team().await;
    let helper = team.playbook(HELPER).await;
    team.agent(model_agent(
        "planner",
        &server.base_url(),
        &["draft.save"],
        5,
    ))
    .await;

    let run = team.start("planner", "Get the Q4 report drafted").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    assert_eq!(detail.children.len(), 1);
    let child = detail.children[0].id.clone();
    assert_eq!(
        started_payload(&team, &child).await["tools"],
        json!(["draft.save"])
    );
    helper_was_confined(&team, &helper.id, &child).await;
    let handed_back = server.requests()[1].tool_results("call_hand_off");
    assert_eq!(handed_back[0]["status"], "executed");
    assert_eq!(
        handed_back[0]["output"]["summary"],
        "helper saved version 1"
    );
}

#[tokio::test]
async fn a_sub_run_without_a_tools_list_gets_no_tool_its_own_agent_lacks() {
    // The sub-agent is a model that lists drafts only; its parent also reads memory. Handing
    // the sub-run the parent's tools would offer the model a tool its own definition excludes.
    let server = ChatServer::start(vec![answer("Nothing to add.")]);
    let team = delegating_team().await;
    team.agent(model_agent(
        "drafter",
        &server.base_url(),
        &["draft.save"],
        5,
    ))
    .await;
    team.playbook(
        "name = \"reader\"\ntools = [\"draft.save\", \"memory.read\"]\n\n[[steps]]\nid = \"hand-off\"\n\
         delegate = { agent = \"drafter\", task = \"draft it\" }\n",
    )
    .await;

    let run = team.start("reader", "anything").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let offered = server.requests()[0].tool_names();
    assert_eq!(
        offered,
        ["draft__save", "delegate"],
        "the sub-run offers the model only its own agent's tools"
    );
    let child = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap()
        .children[0]
        .id
        .clone();
    assert_eq!(
        started_payload(&team, &child).await["tools"],
        json!(["draft.save"])
    );
}

#[tokio::test]
async fn a_sub_run_over_its_step_budget_fails_and_so_does_its_parent() {
    let team = delegating_team().await;
    team.playbook(HELPER).await;
    team.playbook(&BOSS.replace("max_steps = 4", "max_steps = 1"))
        .await;

    let run = team.start("boss", "Q3").await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let outcome = run.outcome.unwrap();
    assert!(
        outcome.contains("sub-run failed: the run reached its step limit (1)"),
        "{outcome}"
    );
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    assert_eq!(detail.children[0].status, RunStatus::Failed);
    assert!(team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn cancelling_a_parent_cancels_its_waiting_sub_run_and_withdraws_the_request() {
    let team = delegating_team().await;
    team.set_tier("draft.save", "medium").await;
    team.playbook(
        "name = \"careful\"\ntools = [\"draft.save\"]\n[[steps]]\nid = \"save\"\ntool = \"draft.save\"\n\
         args = { key = \"careful\", title = \"Careful\", body = \"needs a confirmation\" }\n",
    )
    .await;
    team.playbook(
        "name = \"manager\"\ntools = [\"draft.save\"]\n[[steps]]\nid = \"hand-off\"\n\
         delegate = { agent = \"careful\", task = \"save it\" }\n",
    )
    .await;
    let run = team.start("manager", "anything").await;
    assert_eq!(run.status, RunStatus::WaitingChild, "{run:?}");
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    let child = detail.children[0].clone();
    assert_eq!(child.status, RunStatus::WaitingConfirmation);
    let request = child.waiting_on.clone().unwrap();
    // While the sub-run's request is pending, the worker's pass leaves the parent alone (it
    // used to re-claim its lease on every pass).
    let pass = team.instance().dispatch_runs().await.unwrap();
    assert_eq!(pass.started(), 0, "nothing can advance yet");

    let cancelled = team
        .instance()
        .cancel_run(&team.bob, team.ws, &run.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    // Nothing the cancelled tree asked for may still happen: not through a late confirmation,
    // not by resuming the sub-run directly.
    let confirmed = team.approve(&team.dave, &request).await;
    let resumed = team
        .instance()
        .resume_run(&team.bob, team.ws, &child.id)
        .await;
    let drafts = team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap();
    assert!(
        drafts.is_empty(),
        "the cancelled tree saved a draft (late confirmation: {confirmed:?}, resume: {resumed:?})"
    );
    let children = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap()
        .children;
    assert_eq!(
        children[0].status,
        RunStatus::Cancelled,
        "cancelling a run cancels its sub-runs"
    );
}
