//! The OpenAI-compatible provider in conversation with a scripted chat-completions server on
//! loopback: tool calls run through the gate and come back as `tool` messages, the API key comes
//! from a credential, arguments that are not a JSON object are fed back for the model to
//! correct, and a tool the agent may not use is denied, fed back and audited, never run.

use headmaster_core::runtime::ProviderConfig;
use headmaster_core::states::RunStatus;
use serde_json::json;

use crate::support::chat_server::{answer, tool_calls, ChatServer};
use crate::support::{model_agent, Team, NOTES};

/// A team with memory and drafts enabled and the client notes (and a lunch note) in memory.
pub async fn writing_team() -> Team {
    let team = Team::new().await;
    team.enable(&["memory", "draft"]).await;
    team.remember("lunch", "pizza on friday").await;
    team.remember("client-notes", NOTES).await;
    team
}

#[tokio::test]
async fn tool_calls_run_through_the_gate_and_a_final_answer_completes_the_run() {
    let server = ChatServer::start(vec![
        tool_calls(&[("call_notes", "memory__read", r#"{"key":"client-notes"}"#)]),
        tool_calls(&[(
            "call_draft",
            "draft__save",
            r#"{"key":"model-update","title":"Update for Client Corp","body":"This week: shipped the importer."}"#,
        )]),
        answer("Drafted the update for Client Corp."),
    ]);
    let team = writing_team().await;
    let agent = team
        .agent(model_agent(
            "writer",
            &server.base_url(),
            &["memory.read", "draft.save"],
            5,
        ))
        .await;
    assert_eq!(
        (agent.provider.as_str(), agent.model.as_deref()),
        ("openai", Some("scripted-model"))
    );
    let task = "Write the Client Corp update from the client notes";

    let run = team.start("writer", task).await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(
        run.outcome.as_deref(),
        Some("Drafted the update for Client Corp.")
    );
    assert_eq!(run.steps, 2);

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests[0]
            .head
            .starts_with("POST /v1/chat/completions HTTP/1.1"),
        "{}",
        requests[0].head
    );
    assert!(
        !requests[0].head.to_lowercase().contains("authorization:"),
        "no key configured, none sent"
    );
    assert_eq!(requests[0].body["model"], "scripted-model");
    assert_eq!(
        requests[0].tool_names(),
        ["memory__read", "draft__save", "delegate"]
    );
    let first = requests[0].messages();
    assert_eq!(first[0]["role"], "system");
    let system = first[0]["content"].as_str().unwrap();
    assert!(system.starts_with("You write client updates."), "{system}");
    // Memory goes in by relevance: the entry sharing words with the task comes first.
    let notes_at = system
        .find(&format!("client-notes: {NOTES}"))
        .expect("the notes are in context");
    let lunch_at = system
        .find("lunch: pizza on friday")
        .expect("the budget leaves room for the rest");
    assert!(notes_at < lunch_at, "{system}");
    assert_eq!(first[1], json!({ "role": "user", "content": task }));

    assert_eq!(
        requests[1].tool_results("call_notes"),
        [
            json!({ "status": "executed", "output": { "key": "client-notes", "value": NOTES }, "reason": null })
        ]
    );
    let saved = &requests[2].tool_results("call_draft")[0];
    assert_eq!(saved["status"], "executed");
    assert_eq!(saved["output"]["version"], 1);
    // The conversation keeps the assistant's tool calls before their results.
    let second = requests[2].messages();
    assert_eq!(second.len(), 6);
    assert_eq!(second[2]["tool_calls"][0]["id"], "call_notes");

    let draft = team
        .instance()
        .show_draft(&team.admin, team.ws, "model-update")
        .await
        .unwrap();
    assert_eq!(draft.versions[0].1, "This week: shipped the importer.");
    assert_eq!(draft.versions[0].0.run_id.as_deref(), Some(run.id.as_str()));
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    let kinds: Vec<&str> = detail.timeline.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["tool_call", "result", "tool_call", "result", "finish"]
    );
    assert_eq!(detail.timeline[0].body["step"], "call_notes");
    assert_eq!(detail.timeline[0].body["action"], "memory.read");
    let executed: Vec<_> = team
        .having("tool.executed")
        .await
        .into_iter()
        .map(|e| (e.actor_id, e.target, e.run_id))
        .collect();
    assert_eq!(
        executed,
        [
            (agent.id.clone(), "memory.read".to_string(), run.id.clone()),
            (agent.id.clone(), "draft.save".to_string(), run.id.clone())
        ]
    );
}

#[tokio::test]
async fn the_api_key_comes_from_a_credential_and_is_sent_only_to_the_endpoint() {
    const KEY: &str = "sk-test-4f9a1c2e7b";
    let server = ChatServer::start(vec![answer("Nothing to do.")]);
    let team = writing_team().await;
    team.instance()
        .set_credential(&team.admin, team.ws, "model-key", KEY)
        .await
        .unwrap();
    let mut definition = model_agent("keyed", &server.base_url(), &["draft.save"], 5);
    if let ProviderConfig::OpenAi {
        api_key_credential, ..
    } = &mut definition.provider
    {
        *api_key_credential = Some("model-key".into());
    }
    team.agent(definition).await;

    let run = team.start("keyed", "Check in").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let head = server.requests()[0].head.to_lowercase();
    assert!(
        head.contains(&format!("authorization: bearer {}", KEY.to_lowercase())),
        "{head}"
    );
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    assert!(!serde_json::to_string(&detail).unwrap().contains(KEY));
    let audit = serde_json::to_string(&team.entries().await).unwrap();
    assert!(!audit.contains(KEY), "the key never reaches the audit log");
}

#[tokio::test]
async fn arguments_that_are_not_a_json_object_are_fed_back_and_the_run_continues() {
    let server = ChatServer::start(vec![
        tool_calls(&[
            (
                "call_broken",
                "draft__save",
                r#"{"title": "Update", body: unquoted"#,
            ),
            ("call_list", "draft__save", r#"["Update", "body"]"#),
        ]),
        tool_calls(&[(
            "call_fixed",
            "draft__save",
            r#"{"title":"Update","body":"Fixed arguments."}"#,
        )]),
        answer("Saved after fixing the arguments."),
    ]);
    let team = writing_team().await;
    team.agent(model_agent(
        "sloppy",
        &server.base_url(),
        &["draft.save"],
        5,
    ))
    .await;

    let run = team.start("sloppy", "Save an update").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(
        run.outcome.as_deref(),
        Some("Saved after fixing the arguments.")
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let broken = requests[1].tool_results("call_broken");
    assert_eq!(broken.len(), 1, "{:?}", requests[1].messages());
    assert_eq!(broken[0]["status"], "error");
    assert!(
        broken[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{}",
        broken[0]
    );
    let list = requests[1].tool_results("call_list");
    assert!(
        list[0]["reason"]
            .as_str()
            .unwrap()
            .contains("must be a JSON object"),
        "{}",
        list[0]
    );
    assert_eq!(
        requests[2].tool_results("call_fixed")[0]["status"],
        "executed"
    );

    let proposed = team.having("tool.proposed").await;
    assert_eq!(
        proposed.len(),
        1,
        "only the well-formed call reached the gate"
    );
    assert_eq!(proposed[0].step_id, "call_fixed");
    let drafts = team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap();
    assert_eq!(drafts.len(), 1);
}

#[tokio::test]
async fn a_tool_the_agent_may_not_use_is_denied_fed_back_and_audited_never_run() {
    let server = ChatServer::start(vec![
        tool_calls(&[(
            "call_shell",
            "shell__exec",
            r#"{"command":"touch escaped.txt"}"#,
        )]),
        answer("I could not run the command."),
    ]);
    let team = writing_team().await;
    // The workspace allows the shell without a decision; only the agent's own list stands in
    // the way.
    team.enable(&["shell"]).await;
    team.set_tier("shell.exec", "low").await;
    let agent = team
        .agent(model_agent(
            "confined",
            &server.base_url(),
            &["draft.save"],
            5,
        ))
        .await;

    let run = team.start("confined", "Create a file").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(!requests[0]
        .tool_names()
        .contains(&"shell__exec".to_string()));
    let fed_back = requests[1].tool_results("call_shell");
    assert_eq!(fed_back.len(), 1, "{:?}", requests[1].messages());
    assert!(
        fed_back[0]["reason"].as_str().unwrap().contains("shell"),
        "{}",
        fed_back[0]
    );
    assert!(
        !team.files().join("escaped.txt").exists(),
        "the call never ran"
    );
    assert!(team.having("tool.executed").await.is_empty());
    let denied = team.having("tool.denied").await;
    assert_eq!(denied.len(), 1, "the refusal is on record");
    assert_eq!(
        (denied[0].actor_kind.as_str(), denied[0].actor_id.as_str()),
        ("agent", agent.id.as_str())
    );
    assert_eq!(denied[0].target, "shell.exec");
    assert_eq!(denied[0].run_id, run.id);
}
