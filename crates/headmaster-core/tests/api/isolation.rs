//! Workspace isolation: nothing of workspace A is returned by any operation in workspace B, a
//! member of B who guesses A's id learns nothing (the answer is the one a random id gets), and
//! a sealed value carried from A's file into B's does not open.

use headmaster_core::access::{Role, Scope};
use headmaster_core::audit::AuditFilter;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::vault::seal::Aad;
use headmaster_core::vault::{no_progress, KeyScope, VaultError};
use headmaster_core::{Error, Instance, Session};
use sqlx::Row;

use crate::common::{actions, secret, Fixture, PASSWORD};

/// Every workspace operation, called by `session` on `w`; returns each one's error text with
/// the workspace id replaced, so answers for different ids can be compared.
async fn every_operation(i: &Instance, session: &Session, w: WorkspaceId) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut record = |what: &str, result: Result<(), Error>| {
        let err = result.expect_err(what);
        out.push((
            what.to_string(),
            format!("{} {}", err.code(), err).replace(&w.to_string(), "<id>"),
        ));
    };
    record("list_members", i.list_members(session, w).await.map(drop));
    record(
        "add_member",
        i.add_member(session, w, "bert", "viewer").await,
    );
    record(
        "set_member_role",
        i.set_member_role(session, w, "anna", "admin").await,
    );
    record("remove_member", i.remove_member(session, w, "anna").await);
    record(
        "rename_workspace",
        i.rename_workspace(session, w, "Taken over").await,
    );
    record("delete_workspace", i.delete_workspace(session, w).await);
    record(
        "keys_status",
        i.keys_status(session, Some(w)).await.map(drop),
    );
    record(
        "rotate_keys",
        i.rotate_keys(session, KeyScope::Workspace(w), &no_progress)
            .await
            .map(drop),
    );
    record(
        "retire_unused_keys",
        i.retire_unused_keys(session, KeyScope::Workspace(w))
            .await
            .map(drop),
    );
    record(
        "query_audit",
        i.query_audit(session, Scope::Workspace(w), &AuditFilter::default())
            .await
            .map(drop),
    );
    record(
        "resolve_workspace",
        i.resolve_workspace(session, Some(&w.to_string()))
            .await
            .map(drop),
    );
    out
}

#[tokio::test]
async fn a_member_of_b_reaches_nothing_of_a_even_with_its_id() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let a = fx.first_workspace(&admin).await;
    let b: WorkspaceId = fx
        .instance
        .create_workspace(&admin, "Bravo")
        .await
        .unwrap()
        .id
        .parse()
        .unwrap();
    let anna = fx.user(&admin, "anna", Role::Viewer).await;
    let bert = fx.user(&admin, "bert", Role::Viewer).await;
    fx.instance
        .add_member(&admin, a, "anna", "operator")
        .await
        .unwrap();
    fx.instance
        .add_member(&admin, b, "bert", "admin")
        .await
        .unwrap();
    fx.instance
        .rename_workspace(&admin, a, "Alpha secret project")
        .await
        .unwrap();

    let a_chain = fx.raw_workspace(a).await;
    let a_events = actions(&a_chain).await;
    let a_members = fx.instance.list_members(&admin, a).await.unwrap().len();

    // B's operations return B's data only.
    let mine = fx.instance.list_workspaces(&bert).await.unwrap();
    assert_eq!(
        mine.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(),
        ["Bravo"]
    );
    let members: Vec<String> = fx
        .instance
        .list_members(&bert, b)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.username)
        .collect();
    assert_eq!(members, ["alice", "bert"]);
    let keys = fx.instance.keys_status(&bert, Some(b)).await.unwrap();
    assert_eq!(
        keys.scopes
            .iter()
            .map(|s| s.scope.clone())
            .collect::<Vec<_>>(),
        [b.to_string()]
    );
    let log = fx
        .instance
        .query_audit(&bert, Scope::Workspace(b), &AuditFilter::default())
        .await
        .unwrap();
    let text = format!("{log:?}");
    for secret_of_a in [a.to_string(), anna.user_id.to_string(), "Alpha".to_string()] {
        assert!(
            !text.contains(&secret_of_a),
            "B's audit log shows {secret_of_a}"
        );
    }

    // With A's id, every operation answers exactly as for an id that does not exist.
    let denied_before = actions(&fx.raw().await).await.len();
    let with_a = every_operation(&fx.instance, &bert, a).await;
    let with_random = every_operation(&fx.instance, &bert, WorkspaceId::new()).await;
    assert_eq!(with_a, with_random);
    for (operation, answer) in &with_a {
        assert!(answer.starts_with("not_found "), "{operation}: {answer}");
        assert!(
            !answer.contains("Alpha") && !answer.contains("anna"),
            "{operation}: {answer}"
        );
    }
    // Every gated attempt was recorded as a denial in the instance chain, none in A's.
    let instance_events = actions(&fx.raw().await).await;
    let denied = instance_events[denied_before..]
        .iter()
        .filter(|(action, outcome)| action == "access.denied" && outcome == "denied")
        .count();
    assert_eq!(
        denied,
        2 * (with_a.len() - 1),
        "{:?}",
        &instance_events[denied_before..]
    );
    assert_eq!(actions(&a_chain).await, a_events, "A's chain was touched");
    assert_eq!(
        fx.instance.list_members(&admin, a).await.unwrap().len(),
        a_members
    );
    assert_eq!(
        fx.instance.list_workspaces(&anna).await.unwrap()[0].name,
        "Alpha secret project"
    );
}

#[tokio::test]
async fn a_sealed_value_copied_from_a_s_file_into_b_s_does_not_open() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let a = fx.first_workspace(&admin).await;
    let b: WorkspaceId = fx
        .instance
        .create_workspace(&admin, "B")
        .await
        .unwrap()
        .id
        .parse()
        .unwrap();
    for user in ["carol", "dave", "erin"] {
        fx.instance
            .add_user(&admin, user, &secret(PASSWORD), Role::Viewer)
            .await
            .unwrap();
        fx.instance
            .add_member(&admin, a, user, "viewer")
            .await
            .unwrap();
    }
    let a_pool = fx.raw_workspace(a).await;
    let b_pool = fx.raw_workspace(b).await;

    // Vault level: every payload of A's chain opens as A's, and not as B's.
    let vault = fx.test_vault().await;
    let (a_scope, b_scope) = (a.to_string(), b.to_string());
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, payload FROM audit_events ORDER BY seq")
            .fetch_all(&a_pool)
            .await
            .unwrap();
    assert!(rows.len() >= 5);
    for (seq, payload) in &rows {
        let row = seq.to_string();
        vault
            .open(
                &Aad::new(&a_scope, "audit_events", "payload", &row),
                payload,
            )
            .await
            .unwrap();
        let moved = vault
            .open(
                &Aad::new(&b_scope, "audit_events", "payload", &row),
                payload,
            )
            .await;
        assert!(
            matches!(moved, Err(VaultError::Decrypt)),
            "seq {seq}: {moved:?}"
        );
    }

    // File level: A's event at B's next position, inserted verbatim into B's file, is refused
    // when B's log is read.
    let next: i64 = sqlx::query_scalar("SELECT MAX(seq) + 1 FROM audit_events")
        .fetch_one(&b_pool)
        .await
        .unwrap();
    let copied = sqlx::query(
        "SELECT time, actor_kind, actor_id, action, target, outcome, run_id, step_id, approval_id,
                source, payload, hash FROM audit_events WHERE seq = ?",
    )
    .bind(next)
    .fetch_one(&a_pool)
    .await
    .unwrap();
    let mut insert = sqlx::query(
        "INSERT INTO audit_events (seq, time, actor_kind, actor_id, action, target, outcome, run_id,
             step_id, approval_id, source, payload, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(next);
    for i in 0..9 {
        insert = insert.bind(copied.get::<String, _>(i));
    }
    for i in 9..12 {
        insert = insert.bind(copied.get::<Vec<u8>, _>(i));
    }
    insert.execute(&b_pool).await.unwrap();
    let err = fx
        .instance
        .query_audit(&admin, Scope::Workspace(b), &AuditFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "decrypt_failed", "{err}");
    // A's own log still reads.
    fx.instance
        .query_audit(&admin, Scope::Workspace(a), &AuditFilter::default())
        .await
        .unwrap();
}
