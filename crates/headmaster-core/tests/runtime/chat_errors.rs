//! The OpenAI-compatible provider when the endpoint misbehaves: rate limits and server errors
//! are retried (honouring `Retry-After`), a server that never answers or is down, answers that
//! are not completions, refusals, and the token and step limits. Every failure ends the run in
//! `failed` with a reason a person can act on.

use headmaster_core::states::RunStatus;
use headmaster_core::states::StepKind;
use serde_json::{json, Value};

use crate::chat::writing_team;
use crate::support::chat_server::{
    answer, closed_base_url, completion, refusal, tool_calls, ChatServer, Reply,
};
use crate::support::model_agent;

#[tokio::test]
async fn a_rate_limit_is_retried_after_the_time_the_server_asks_for() {
    let server = ChatServer::start(vec![
        Reply::Status {
            code: 503,
            retry_after: None,
            body: r#"{"error":{"message":"loading model"}}"#.into(),
        },
        Reply::Status {
            code: 429,
            retry_after: Some(1),
            body: r#"{"error":{"message":"rate limit reached"}}"#.into(),
        },
        answer("Done after waiting."),
    ]);
    let team = writing_team().await;
    team.agent(model_agent(
        "patient",
        &server.base_url(),
        &["draft.save"],
        5,
    ))
    .await;

    let run = team.start("patient", "Say hello").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(run.outcome.as_deref(), Some("Done after waiting."));
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // The fixture's backoff is 10 ms: only honouring `Retry-After: 1` explains a second's wait.
    let waited = requests[2].at - requests[1].at;
    assert!(waited.as_millis() >= 1000, "retried after {waited:?}");
    assert_eq!(
        requests[2].body, requests[0].body,
        "a retry sends the same request"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_run_naming_the_timeout() {
    let server = ChatServer::start(vec![Reply::Silent]);
    let team = writing_team().await;
    team.agent(model_agent(
        "waiting",
        &server.base_url(),
        &["draft.save"],
        1,
    ))
    .await;

    let run = team.start("waiting", "Say hello").await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let outcome = run.outcome.unwrap();
    assert!(outcome.contains("timed out after 1s"), "{outcome}");
    assert!(outcome.contains("gave up after 5 attempts"), "{outcome}");
    assert_eq!(
        server.requests().len(),
        5,
        "the first attempt and four retries"
    );
    let failed = team.having("run.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].payload["outcome"], Value::from(outcome));
}

#[tokio::test]
async fn an_endpoint_that_is_down_fails_the_run_saying_it_cannot_be_reached() {
    let team = writing_team().await;
    let url = closed_base_url();
    team.agent(model_agent("offline", &url, &["draft.save"], 2))
        .await;

    let run = team.start("offline", "Say hello").await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let outcome = run.outcome.unwrap();
    assert!(
        outcome.contains("cannot reach the model endpoint"),
        "{outcome}"
    );
    assert!(outcome.contains(&url), "{outcome}");
    assert!(
        outcome.contains("check that the model server is running"),
        "{outcome}"
    );
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    assert_eq!(detail.timeline.last().unwrap().kind, StepKind::Error);
}

#[tokio::test]
async fn answers_that_are_not_completions_fail_the_run_with_what_the_server_said() {
    let team = writing_team().await;
    let rejected = ChatServer::start(vec![Reply::Status {
        code: 400,
        retry_after: None,
        body: r#"{"error":{"message":"model 'scripted-model' not found"}}"#.into(),
    }]);
    let garbled = ChatServer::start(vec![Reply::Status {
        code: 200,
        retry_after: None,
        body: "<html>proxy error</html>".into(),
    }]);
    team.agent(model_agent(
        "rejected",
        &rejected.base_url(),
        &["draft.save"],
        2,
    ))
    .await;
    team.agent(model_agent(
        "garbled",
        &garbled.base_url(),
        &["draft.save"],
        2,
    ))
    .await;

    let run = team.start("rejected", "Say hello").await;
    assert_eq!(run.status, RunStatus::Failed);
    let outcome = run.outcome.unwrap();
    assert!(outcome.contains("HTTP 400"), "{outcome}");
    assert!(
        outcome.contains("model 'scripted-model' not found"),
        "{outcome}"
    );
    assert_eq!(
        rejected.requests().len(),
        1,
        "a client error is not retried"
    );

    let run = team.start("garbled", "Say hello").await;
    assert_eq!(run.status, RunStatus::Failed);
    let outcome = run.outcome.unwrap();
    assert!(outcome.contains("returned malformed JSON"), "{outcome}");
    assert!(outcome.contains("proxy error"), "{outcome}");
}

#[tokio::test]
async fn a_refusal_fails_the_run_with_the_models_words() {
    let server = ChatServer::start(vec![refusal("I can't help with sending that.")]);
    let team = writing_team().await;
    team.agent(model_agent(
        "careful",
        &server.base_url(),
        &["draft.save"],
        2,
    ))
    .await;

    let run = team.start("careful", "Send the secrets").await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert_eq!(
        run.outcome.as_deref(),
        Some("the model refused: I can't help with sending that.")
    );
    assert!(team.having("tool.proposed").await.is_empty());
}

#[tokio::test]
async fn the_token_and_step_limits_end_a_model_run_in_failed() {
    let team = writing_team().await;
    let hungry = ChatServer::start(vec![completion(
        json!({ "role": "assistant", "content": null, "tool_calls": [
            { "id": "call_1", "type": "function", "function": { "name": "draft__save", "arguments": r#"{"title":"t","body":"b"}"# } }
        ] }),
        500,
    )]);
    let mut definition = model_agent("hungry", &hungry.base_url(), &["draft.save"], 2);
    definition.limits.max_tokens = 100;
    team.agent(definition).await;
    let run = team.start("hungry", "Write a lot").await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.outcome.as_deref(),
        Some("the run used 500 tokens, over its limit of 100")
    );
    assert!(team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap()
        .is_empty());

    // A model that never stops calling tools is stopped by the step limit.
    let looping = ChatServer::start(vec![tool_calls(&[(
        "call_again",
        "memory__read",
        r#"{"key":"client-notes"}"#,
    )])]);
    let mut definition = model_agent("looping", &looping.base_url(), &["memory.read"], 2);
    definition.limits.max_steps = 3;
    team.agent(definition).await;
    let run = team.start("looping", "Read forever").await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.outcome.as_deref(),
        Some("the run reached its step limit (3)")
    );
    assert_eq!(run.steps, 3);
    let reads = team
        .having("tool.executed")
        .await
        .into_iter()
        .filter(|e| e.run_id == run.id)
        .count();
    assert_eq!(reads, 3);
}
