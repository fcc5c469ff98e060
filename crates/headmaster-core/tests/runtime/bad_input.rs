//! Bad input gets clear errors: unknown agents, runs and drafts, playbooks with syntax or
//! schema errors (with the line and the reason), invalid agent definitions, people without the
//! right to start runs, delegation to an agent that does not exist, and tools the workspace has
//! not enabled.

use headmaster_core::access::Role;
use headmaster_core::states::RunStatus;

use crate::common::{secret, PASSWORD};
use crate::support::{model_agent, Team};

#[tokio::test]
async fn unknown_agents_runs_and_drafts_are_not_found() {
    let team = Team::new().await;
    let instance = team.instance();
    let err = instance
        .start_run(&team.bob, team.ws, "nobody", "do it", true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "{err}");
    assert!(err.to_string().contains("nobody"), "{err}");
    assert!(err.to_string().contains("headmaster agent list"), "{err}");
    assert!(
        instance
            .list_runs(&team.admin, team.ws)
            .await
            .unwrap()
            .is_empty(),
        "no run was created"
    );

    assert_eq!(
        instance
            .show_agent(&team.admin, team.ws, "nobody")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        instance
            .delete_agent(&team.admin, team.ws, "nobody")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    let missing = "01a21d5d-0000-7000-8000-000000000000";
    assert_eq!(
        instance
            .show_run(&team.admin, team.ws, missing)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        instance
            .resume_run(&team.bob, team.ws, missing)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        instance
            .cancel_run(&team.bob, team.ws, missing)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        instance
            .show_draft(&team.admin, team.ws, "no-such-draft")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[tokio::test]
async fn playbook_syntax_and_schema_errors_name_the_line_and_the_reason() {
    let team = Team::new().await;
    let head = "name = \"broken\"\ntools = [\"draft.save\"]\n";
    let cases: Vec<(String, usize, &str)> = vec![
        // Syntax: an unterminated string.
        (format!("{head}[[steps]]\nid = \"a\nfinish = \"ok\"\n"), 4, "string"),
        // Schema: a field playbooks do not have.
        (format!("{head}colour = \"blue\"\n[[steps]]\nid = \"a\"\nfinish = \"ok\"\n"), 3, "colour"),
        // Schema: a limit of the wrong type.
        (format!("{head}[limits]\nmax_steps = \"ten\"\n[[steps]]\nid = \"a\"\nfinish = \"ok\"\n"), 4, "invalid type: string \"ten\""),
        // A step that is two things at once.
        (format!("{head}[[steps]]\nid = \"both\"\ntool = \"draft.save\"\nfinish = \"ok\"\n"), 4, "exactly one of tool, delegate or finish"),
        // A tool the playbook does not list.
        (format!("{head}[[steps]]\nid = \"send\"\ntool = \"email.send\"\n"), 4, "not in this playbook's tools list"),
        // A tool that does not exist.
        ("name = \"broken\"\ntools = [\"rocket.launch\"]\n[[steps]]\nid = \"a\"\nfinish = \"ok\"\n".into(), 2, "not in the catalog"),
        // A jump to nowhere.
        (format!("{head}[[steps]]\nid = \"a\"\ntool = \"draft.save\"\non_failed = \"goto:nowhere\"\n"), 4, "goto target \"nowhere\""),
        // A reference to a step that has not run yet.
        (
            format!("{head}[[steps]]\nid = \"a\"\nfinish = \"{{{{steps.b.output}}}}\"\n[[steps]]\nid = \"b\"\nfinish = \"ok\"\n"),
            4,
            "does not run before it",
        ),
        // No steps at all.
        (head.to_string(), 1, "steps"),
    ];
    for (text, line, reason) in cases {
        let err = team
            .instance()
            .create_playbook_agent(&team.admin, team.ws, &text)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{err}\n{text}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("playbook line {line}: ")),
            "expected line {line}: {message}\n{text}"
        );
        assert!(
            message.contains(reason),
            "expected {reason:?}: {message}\n{text}"
        );
    }
    assert!(team
        .instance()
        .list_agents(&team.admin, team.ws)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn invalid_agent_definitions_and_tasks_are_refused() {
    let team = Team::new().await;
    let instance = team.instance();
    let refuse = |definition| async {
        instance
            .create_agent(&team.admin, team.ws, definition)
            .await
            .unwrap_err()
    };

    let err = refuse(model_agent(
        "a",
        "http://127.0.0.1:9/v1",
        &["rocket.launch"],
        5,
    ))
    .await;
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("rocket.launch"), "{err}");
    let err = refuse(model_agent(
        "a",
        "ftp://models.example/v1",
        &["draft.save"],
        5,
    ))
    .await;
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("http or https"), "{err}");
    let err = refuse(model_agent("a", "not a url", &["draft.save"], 5)).await;
    assert_eq!(err.code(), "invalid_input");
    let mut nameless_model = model_agent("a", "http://127.0.0.1:9/v1", &["draft.save"], 5);
    if let headmaster_core::runtime::ProviderConfig::OpenAi { model, .. } =
        &mut nameless_model.provider
    {
        model.clear();
    }
    assert_eq!(refuse(nameless_model).await.code(), "invalid_input");

    team.agent(model_agent(
        "writer",
        "http://127.0.0.1:9/v1",
        &["draft.save"],
        5,
    ))
    .await;
    let err = refuse(model_agent(
        "Writer",
        "http://127.0.0.1:9/v1",
        &["draft.save"],
        5,
    ))
    .await;
    assert_eq!(
        err.code(),
        "already_exists",
        "names are unique regardless of case: {err}"
    );
    // Operators run agents; they do not define them.
    let err = instance
        .create_agent(
            &team.bob,
            team.ws,
            model_agent("mine", "http://127.0.0.1:9/v1", &["draft.save"], 5),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");

    let err = instance
        .start_run(&team.bob, team.ws, "writer", "  ", true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    instance
        .add_user(&team.admin, "erin", &secret(PASSWORD), Role::Viewer)
        .await
        .unwrap();
    instance
        .add_member(&team.admin, team.ws, "erin", "Viewer")
        .await
        .unwrap();
    let erin = team.fx.sign_in("erin").await;
    let err = instance
        .start_run(&erin, team.ws, "writer", "write", true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden", "a Viewer cannot start runs: {err}");
    assert!(instance
        .list_runs(&team.admin, team.ws)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_delegation_to_an_unknown_agent_fails_the_run_with_the_reason() {
    let team = Team::new().await;
    team.playbook(
        "name = \"lonely\"\ntools = [\"draft.save\"]\n[[steps]]\nid = \"ask\"\n\
         delegate = { agent = \"ghost\", task = \"help\" }\n",
    )
    .await;
    let run = team.start("lonely", "anything").await;
    assert_eq!(run.status, RunStatus::Failed);
    let outcome = run.outcome.unwrap();
    assert!(outcome.contains("step \"ask\" was failed"), "{outcome}");
    assert!(outcome.contains("ghost"), "{outcome}");
}

#[tokio::test]
async fn a_tool_the_workspace_has_not_enabled_is_denied_and_ends_the_run_with_the_reason() {
    let team = Team::new().await;
    let agent = team
        .playbook(
            "name = \"drafter\"\ntools = [\"draft.save\"]\n[[steps]]\nid = \"save\"\ntool = \"draft.save\"\n\
             args = { title = \"t\", body = \"b\" }\n",
        )
        .await;
    let run = team.start("drafter", "save").await;
    assert_eq!(run.status, RunStatus::Failed);
    let outcome = run.outcome.unwrap();
    assert!(
        outcome.starts_with("step \"save\" was denied: "),
        "{outcome}"
    );
    let denied = team.having("tool.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].actor_id, agent.id);
    assert_eq!(denied[0].run_id, run.id);
    assert!(team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap()
        .is_empty());
}
