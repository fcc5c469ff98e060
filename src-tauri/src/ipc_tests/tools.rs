//! Tools, policy and credentials through the shell: an Admin enables a tool and configures it,
//! stores a credential whose value no command ever returns, changes the policy and sees it in
//! the history; an Operator reads the catalog but changes nothing.

use serde_json::{json, Value};

use super::{add_member, call, code, first_workspace, signed_in_admin, window, PASSWORD};

const SECRET: &str = "s3cret-marker-7f3a9c";

#[test]
fn an_admin_enables_and_configures_a_tool_and_stores_a_credential_that_never_comes_back() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    let ws = first_workspace(&window);
    let mut answers: Vec<Value> = Vec::new();

    let before = call(&window, "list_tools", json!({ "workspaceId": ws })).unwrap();
    assert_eq!(action(&before, "email.send")["enabled"], false);
    call(
        &window,
        "enable_tool",
        json!({ "workspaceId": ws, "target": "email", "tier": null }),
    )
    .unwrap();
    call(
        &window,
        "set_credential",
        json!({ "workspaceId": ws, "name": "smtp", "value": SECRET }),
    )
    .map(|v| answers.push(v))
    .unwrap();
    let settings = [
        ("host", "127.0.0.1"),
        ("port", "2525"),
        ("tls", "none"),
        ("from", "agents@acme.test"),
        ("username", "agents"),
        ("password", "{{credential:smtp}}"),
    ]
    .map(|(key, value)| json!({ "key": key, "value": value }));
    call(
        &window,
        "configure_tool",
        json!({ "workspaceId": ws, "tool": "email", "settings": settings }),
    )
    .unwrap();

    let after = call(&window, "list_tools", json!({ "workspaceId": ws })).unwrap();
    assert_eq!(action(&after, "email.send")["enabled"], true);
    assert_eq!(action(&after, "email.send")["crosses_boundary"], true);
    assert_eq!(after["config"]["email"]["port"], 2525);
    assert_eq!(after["config"]["email"]["password"], "{{credential:smtp}}");
    answers.push(after);

    let listed = call(&window, "list_credentials", json!({ "workspaceId": ws })).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["name"], "smtp");
    assert!(listed[0]["created_at"].is_string());
    answers.push(listed);
    answers.push(call(&window, "policy_history", json!({ "workspaceId": ws })).unwrap());
    answers.push(call(&window, "query_audit", json!({ "scope": ws, "filter": {} })).unwrap());
    for answer in &answers {
        assert!(
            !answer.to_string().contains(SECRET),
            "the credential value came back: {answer}"
        );
    }

    let bad = call(
        &window,
        "configure_tool",
        json!({ "workspaceId": ws, "tool": "email", "settings": [{ "key": "tls", "value": "sometimes" }] }),
    )
    .expect_err("an invalid TLS mode");
    assert_eq!(code(&bad), "invalid_input");
    call(
        &window,
        "delete_credential",
        json!({ "workspaceId": ws, "name": "smtp" }),
    )
    .unwrap();
    let empty = call(&window, "list_credentials", json!({ "workspaceId": ws })).unwrap();
    assert_eq!(empty, json!([]));
}

#[test]
fn policy_changes_are_applied_and_listed_in_the_history() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    let ws = first_workspace(&window);

    call(
        &window,
        "set_tool_tier",
        json!({ "workspaceId": ws, "target": "http.get", "tier": "high" }),
    )
    .unwrap();
    let rule = call(
        &window,
        "add_rule",
        json!({ "workspaceId": ws, "text": "no-prod: on http when host in prod.acme.test then deny # production" }),
    );
    let rule = rule.expect("a rule in the compact syntax is accepted");
    assert_eq!(rule["id"], "no-prod");
    assert!(
        rule["description"]
            .as_str()
            .unwrap()
            .contains("prod.acme.test"),
        "{rule}"
    );
    call(
        &window,
        "set_own_domains",
        json!({ "workspaceId": ws, "domains": ["acme.test"] }),
    )
    .unwrap();
    call(
        &window,
        "set_approval_expiry",
        json!({ "workspaceId": ws, "expiry": { "medium_minutes": 30, "high_minutes": 60, "critical_minutes": 90 } }),
    )
    .unwrap();

    let tools = call(&window, "list_tools", json!({ "workspaceId": ws })).unwrap();
    assert_eq!(action(&tools, "http.get")["tier"], "high");
    assert_eq!(tools["own_domains"], json!(["acme.test"]));
    assert!(tools["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "no-prod"));
    call(
        &window,
        "remove_rule",
        json!({ "workspaceId": ws, "id": "no-prod" }),
    )
    .unwrap();

    let history = call(&window, "policy_history", json!({ "workspaceId": ws })).unwrap();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "policy.rule_removed",
            "policy.expiry_set",
            "policy.domains_set",
            "policy.rule_added",
            "policy.tier_set"
        ]
    );
    assert_eq!(history[1]["payload"]["high_minutes"], 60);
    let refused = call(
        &window,
        "set_approval_expiry",
        json!({ "workspaceId": ws, "expiry": { "medium_minutes": 0, "high_minutes": 60, "critical_minutes": 90 } }),
    )
    .expect_err("zero minutes");
    assert_eq!(code(&refused), "invalid_input");
}

#[test]
fn an_operator_reads_the_catalog_but_cannot_change_tools_policy_or_credentials() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    add_member(&window, "oscar", "operator");
    let ws = first_workspace(&window);
    call(&window, "sign_out", json!({})).unwrap();
    call(
        &window,
        "sign_in",
        json!({ "username": "oscar", "password": PASSWORD }),
    )
    .unwrap();

    let tools = call(&window, "list_tools", json!({ "workspaceId": ws })).unwrap();
    assert!(tools["actions"].as_array().unwrap().len() > 5);
    for (command, args) in [
        (
            "enable_tool",
            json!({ "workspaceId": ws, "target": "shell", "tier": null }),
        ),
        (
            "set_tool_tier",
            json!({ "workspaceId": ws, "target": "shell", "tier": "low" }),
        ),
        ("add_rule", json!({ "workspaceId": ws, "text": "{}" })),
        ("list_credentials", json!({ "workspaceId": ws })),
        (
            "set_credential",
            json!({ "workspaceId": ws, "name": "x", "value": "y" }),
        ),
    ] {
        let refused = call(&window, command, args).expect_err(command);
        assert_eq!(code(&refused), "forbidden", "{command}: {refused}");
    }
}

fn action<'a>(tools: &'a Value, name: &str) -> &'a Value {
    tools["actions"]
        .as_array()
        .and_then(|list| list.iter().find(|a| a["name"] == name))
        .unwrap_or_else(|| panic!("{name} is not in the catalog"))
}
