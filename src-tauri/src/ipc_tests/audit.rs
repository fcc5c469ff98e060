//! The audit commands: a query filtered by actor returns only that actor's events, paging walks
//! back through the chain, verification and export report progress to the window and end with
//! a valid chain and a signed bundle, and an Operator cannot read the organisation's chain.

use serde_json::{json, Value};

use super::{
    add_member, call, code, events, first_workspace, signed_in_admin, wait_for, window, PASSWORD,
};
use crate::events::AUDIT_PROGRESS;

#[test]
fn the_instance_chain_is_queried_by_actor_and_paged() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    add_member(&window, "oscar", "operator");
    call(&window, "sign_out", json!({})).unwrap();
    call(
        &window,
        "sign_in",
        json!({ "username": "oscar", "password": PASSWORD }),
    )
    .unwrap();
    call(&window, "sign_out", json!({})).unwrap();
    call(
        &window,
        "sign_in",
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .unwrap();

    let everyone = call(
        &window,
        "query_audit",
        json!({ "scope": "instance", "filter": {} }),
    )
    .unwrap();
    let actors: Vec<&str> = entries(&everyone)
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&"oscar") && actors.contains(&"alice"),
        "{actors:?}"
    );

    let oscar = call(
        &window,
        "query_audit",
        json!({ "scope": "instance", "filter": { "actor": "oscar", "action": "", "since": "" } }),
    )
    .unwrap();
    let mine = entries(&oscar);
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|e| e["actor_name"] == "oscar"), "{oscar}");
    assert!(
        mine.iter().any(|e| e["action"] == "auth.sign_in"),
        "{oscar}"
    );

    // Two at a time, following `next_before`, visits every event once, newest first.
    let mut seqs = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let page = call(
            &window,
            "query_audit",
            json!({ "scope": "instance", "filter": { "limit": 2, "before_seq": before } }),
        )
        .unwrap();
        seqs.extend(entries(&page).iter().map(|e| e["seq"].as_u64().unwrap()));
        match page["next_before"].as_u64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let all: Vec<u64> = entries(&everyone)
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, all);
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

    let bad = call(
        &window,
        "query_audit",
        json!({ "scope": "instance", "filter": { "outcome": "maybe" } }),
    )
    .expect_err("an unknown outcome");
    assert_eq!(code(&bad), "invalid_input");
}

#[test]
fn verify_and_export_report_progress_and_produce_a_valid_chain_and_bundle() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    let workspace = first_workspace(&window);
    let progress = events(&window, AUDIT_PROGRESS);

    let verified = call(&window, "verify_audit", json!({ "scope": workspace })).unwrap();
    assert_eq!(verified["valid"], true, "{verified}");
    assert!(verified["breaks"].as_array().unwrap().is_empty());
    let checked = verified["events_checked"].as_u64().unwrap();
    assert!(checked > 0);
    let seen = wait_for(&progress, "verify progress", |p| {
        p["done"] == p["total"] && p["done"] == checked
    });
    assert!(
        seen.iter()
            .all(|p| p["operation"] == "verify" && p["scope"] == workspace.as_str()),
        "{seen:?}"
    );

    let bundle = home.path().join("bundle");
    let exported = call(
        &window,
        "export_audit",
        json!({ "scope": workspace, "path": bundle.display().to_string() }),
    )
    .unwrap();
    assert!(
        exported["device_key_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:"),
        "{exported}"
    );
    let events_exported = exported["events"].as_u64().unwrap();
    // The verification itself was audited, so the export holds one more event.
    assert_eq!(events_exported, checked + 1);
    wait_for(&progress, "export progress", |p| {
        p["operation"] == "export" && p["done"] == events_exported
    });
    for file in [
        "events.jsonl",
        "manifest.json",
        "manifest.json.sig",
        "SHA256SUMS",
        "device.pub",
    ] {
        assert!(
            bundle.join(file).is_file(),
            "{file} missing from the bundle"
        );
    }

    let again = call(
        &window,
        "export_audit",
        json!({ "scope": workspace, "path": bundle.display().to_string() }),
    )
    .expect_err("the bundle exists already");
    assert!(
        again["message"].as_str().unwrap().contains("bundle"),
        "{again}"
    );
}

#[test]
fn an_operator_reads_the_workspace_chain_but_not_the_organisation_chain_or_exports() {
    let home = tempfile::tempdir().unwrap();
    let window = window(&home.path().join("data"));
    signed_in_admin(&window);
    add_member(&window, "oscar", "operator");
    let workspace = first_workspace(&window);
    call(&window, "sign_out", json!({})).unwrap();
    call(
        &window,
        "sign_in",
        json!({ "username": "oscar", "password": PASSWORD }),
    )
    .unwrap();

    let page = call(
        &window,
        "query_audit",
        json!({ "scope": workspace, "filter": {} }),
    )
    .unwrap();
    assert!(!entries(&page).is_empty());
    for (command, args) in [
        ("query_audit", json!({ "scope": "instance", "filter": {} })),
        ("verify_audit", json!({ "scope": "instance" })),
        (
            "export_audit",
            json!({ "scope": workspace, "path": home.path().join("b").display().to_string() }),
        ),
        ("archive_audit", json!({ "scope": workspace })),
    ] {
        let refused = call(&window, command, args).expect_err(command);
        assert_eq!(code(&refused), "forbidden", "{command}: {refused}");
    }
    assert!(!home.path().join("b").exists());
}

fn entries(page: &Value) -> &Vec<Value> {
    page["entries"].as_array().expect("entries")
}
