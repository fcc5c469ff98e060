//! Every operation passes the gate, seen from outside: each operation above a Viewer's,
//! Operator's or Approver's role is refused and the denial recorded in the right chain (the
//! workspace's for workspace operations, the instance's for organisation operations and for
//! non-members). The structural side is in `gate_scan`.

use std::collections::BTreeMap;

use headmaster_core::access::{Role, Scope};
use headmaster_core::audit::AuditFilter;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::vault::{no_progress, KeyScope};
use headmaster_core::{Error, Instance, Session};
use sqlx::SqlitePool;

use crate::common::{denials, secret, Fixture, PASSWORD};

/// Calls every operation that needs more than `session`'s role and returns, per operation, the
/// error and the chain that must hold its denial (`true`: the instance chain).
async fn above_role(
    i: &Instance,
    session: &Session,
    w: WorkspaceId,
) -> Vec<(&'static str, bool, Error)> {
    let mut out = Vec::new();
    let mut push = |action: &'static str, instance: bool, result: Result<(), Error>| {
        out.push((action, instance, result.expect_err(action)));
    };
    push(
        "member.add",
        false,
        i.add_member(session, w, "bob", "viewer").await,
    );
    push(
        "member.set_role",
        false,
        i.set_member_role(session, w, "alice", "viewer").await,
    );
    push(
        "member.remove",
        false,
        i.remove_member(session, w, "alice").await,
    );
    push(
        "workspace.rename",
        false,
        i.rename_workspace(session, w, "Mine now").await,
    );
    push(
        "workspace.delete",
        false,
        i.delete_workspace(session, w).await,
    );
    push(
        "keys.status",
        false,
        i.keys_status(session, Some(w)).await.map(drop),
    );
    push(
        "keys.rotate",
        false,
        i.rotate_keys(session, KeyScope::Workspace(w), &no_progress)
            .await
            .map(drop),
    );
    push(
        "keys.retire",
        false,
        i.retire_unused_keys(session, KeyScope::Workspace(w))
            .await
            .map(drop),
    );
    push(
        "user.add",
        true,
        i.add_user(session, "mallory", &secret(PASSWORD), Role::Viewer)
            .await
            .map(drop),
    );
    push("user.list", true, i.list_users(session).await.map(drop));
    push("user.disable", true, i.disable_user(session, "alice").await);
    push("user.enable", true, i.enable_user(session, "alice").await);
    push(
        "user.set_role",
        true,
        i.set_org_role(session, "bob", Role::Admin).await,
    );
    push(
        "role.create",
        true,
        i.create_role(session, "mine", &["workspace.read".into()])
            .await
            .map(drop),
    );
    push("role.list", true, i.list_roles(session).await.map(drop));
    push(
        "role.list_assignable",
        false,
        i.assignable_roles(session, w).await.map(drop),
    );
    push(
        "role.delete",
        true,
        i.delete_role(session, "existing").await,
    );
    push(
        "workspace.create",
        true,
        i.create_workspace(session, "Another").await.map(drop),
    );
    push(
        "keys.status",
        true,
        i.keys_status(session, None).await.map(drop),
    );
    push(
        "keys.rotate",
        true,
        i.rotate_keys(session, KeyScope::Instance, &no_progress)
            .await
            .map(drop),
    );
    push(
        "keys.retire",
        true,
        i.retire_unused_keys(session, KeyScope::Instance)
            .await
            .map(drop),
    );
    push(
        "keys.rotate_kek",
        true,
        i.rotate_kek(session, Some(secret("a brand new passphrase")))
            .await
            .map(drop),
    );
    push(
        "keys.set_period",
        true,
        i.set_rotation_period(session, 30).await,
    );
    push(
        "audit.query",
        true,
        i.query_audit(session, Scope::Org, &AuditFilter::default())
            .await
            .map(drop),
    );
    out
}

/// `access.denied` records per (chain, operation) where the instance chain is `true`.
async fn denial_counts(
    instance: &SqlitePool,
    workspace: &SqlitePool,
    results: &[(&'static str, bool, Error)],
) -> BTreeMap<(bool, &'static str), i64> {
    let mut out = BTreeMap::new();
    for (action, in_instance, _) in results {
        let pool = if *in_instance { instance } else { workspace };
        out.insert((*in_instance, *action), denials(pool, action).await);
    }
    out
}

#[tokio::test]
async fn roles_below_admin_are_refused_everything_above_them_and_each_refusal_is_recorded() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    fx.instance
        .create_role(&admin, "existing", &["audit.read".into()])
        .await
        .unwrap();
    let instance_pool = fx.raw().await;
    let workspace_pool = fx.raw_workspace(w).await;
    for (user, role) in [
        ("vera", Role::Viewer),
        ("otto", Role::Operator),
        ("april", Role::Approver),
    ] {
        let session = fx.user(&admin, user, role).await;
        fx.instance
            .add_member(&admin, w, user, role.name())
            .await
            .unwrap();
        // What the role allows still works.
        let members = fx.instance.list_members(&session, w).await.unwrap();
        assert!(members.iter().any(|m| m.username == user));
        fx.instance
            .query_audit(&session, Scope::Workspace(w), &AuditFilter::default())
            .await
            .unwrap();

        let first = above_role(&fx.instance, &session, w).await;
        let before = denial_counts(&instance_pool, &workspace_pool, &first).await;
        let again = above_role(&fx.instance, &session, w).await;
        let after = denial_counts(&instance_pool, &workspace_pool, &again).await;
        let mut calls: BTreeMap<(bool, &str), i64> = BTreeMap::new();
        for (action, in_instance, error) in &again {
            assert_eq!(error.code(), "forbidden", "{user} {action}: {error}");
            *calls.entry((*in_instance, *action)).or_default() += 1;
        }
        for (key, count) in calls {
            let chain = if key.0 { "instance" } else { "workspace" };
            assert_eq!(
                after[&key] - before[&key],
                count,
                "{user}: denials of {} in the {chain} chain",
                key.1
            );
        }
        assert_eq!(
            members.len(),
            fx.instance.list_members(&admin, w).await.unwrap().len()
        );
        assert_eq!(
            fx.instance.list_workspaces(&admin).await.unwrap()[0].name,
            "Acme"
        );
    }
}

#[tokio::test]
async fn a_non_member_gets_not_found_and_the_denial_is_recorded_in_the_instance_chain() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    let outsider = fx.user(&admin, "olga", Role::Viewer).await;
    let pool = fx.raw().await;
    let workspace_events = crate::common::actions(&fx.raw_workspace(w).await)
        .await
        .len();
    let results = above_role(&fx.instance, &outsider, w).await;
    for (action, in_instance, error) in &results {
        let expected = if *in_instance {
            "forbidden"
        } else {
            "not_found"
        };
        assert_eq!(error.code(), expected, "{action}: {error}");
    }
    assert_eq!(denials(&pool, "member.add").await, 1);
    assert_eq!(denials(&pool, "workspace.delete").await, 1);
    assert_eq!(denials(&pool, "keys.status").await, 2);
    assert_eq!(
        crate::common::actions(&fx.raw_workspace(w).await)
            .await
            .len(),
        workspace_events,
        "a non-member's attempts reached the workspace's file"
    );
    assert!(fx.instance.list_members(&outsider, w).await.is_err());
}
