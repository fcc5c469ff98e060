//! Bad input to the access operations: unknown users, roles and workspaces, duplicate names,
//! the last Admin, grants beyond the granter's own capabilities, malformed roles, concurrent
//! step-downs. Every refusal has a clear code, changes nothing, and is recorded where it is a
//! denial.

use headmaster_core::access::{Capability, CapabilitySet, Role};
use headmaster_core::ids::WorkspaceId;
use headmaster_core::Error;

use crate::common::{denials, secret, Fixture, PASSWORD};

/// Everything access operations can change, as stored: memberships, roles, users, workspaces
/// and the workspace files.
async fn state(fx: &Fixture) -> Vec<String> {
    let pool = fx.raw().await;
    let mut out = Vec::new();
    for query in [
        "SELECT 'm' || quote(workspace_id) || quote(user_id) || quote(role) FROM memberships",
        "SELECT 'r' || quote(id) || quote(name) || quote(capabilities) FROM roles",
        "SELECT 'u' || quote(id) || quote(org_role) || quote(disabled_at) || quote(password_hash) FROM users",
        "SELECT 'w' || quote(id) || quote(name) || quote(name_idx) FROM workspaces",
    ] {
        let mut rows: Vec<String> = sqlx::query_scalar(query).fetch_all(&pool).await.unwrap();
        rows.sort();
        out.extend(rows);
    }
    let mut files: Vec<String> = std::fs::read_dir(fx.home().join("workspaces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".db"))
        .collect();
    files.sort();
    out.extend(files);
    out
}

fn code<T: std::fmt::Debug>(result: Result<T, Error>) -> &'static str {
    result.unwrap_err().code()
}

#[tokio::test]
async fn unknown_users_roles_and_workspaces_are_not_found_and_change_nothing() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    let nowhere = WorkspaceId::new();
    let i = &fx.instance;
    let before = state(&fx).await;
    assert_eq!(
        code(i.add_member(&admin, w, "nobody", "viewer").await),
        "not_found"
    );
    assert_eq!(
        code(i.add_member(&admin, w, "Not A Username!", "viewer").await),
        "not_found"
    );
    assert_eq!(
        code(i.add_member(&admin, w, "alice", "wizard").await),
        "not_found"
    );
    assert_eq!(
        code(i.set_member_role(&admin, w, "nobody", "viewer").await),
        "not_found"
    );
    assert_eq!(
        code(i.remove_member(&admin, w, "nobody").await),
        "not_found"
    );
    assert_eq!(code(i.disable_user(&admin, "nobody").await), "not_found");
    assert_eq!(code(i.enable_user(&admin, "nobody").await), "not_found");
    assert_eq!(
        code(i.set_org_role(&admin, "nobody", Role::Viewer).await),
        "not_found"
    );
    assert_eq!(
        code(i.delete_role(&admin, "no such role").await),
        "not_found"
    );
    assert_eq!(
        code(i.rename_workspace(&admin, nowhere, "Elsewhere").await),
        "not_found"
    );
    assert_eq!(code(i.delete_workspace(&admin, nowhere).await), "not_found");
    assert_eq!(code(i.list_members(&admin, nowhere).await), "not_found");
    assert_eq!(
        code(i.resolve_workspace(&admin, Some("Nowhere")).await),
        "not_found"
    );
    assert_eq!(state(&fx).await, before);
}

#[tokio::test]
async fn duplicate_names_are_refused_and_change_nothing() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    let i = &fx.instance;
    let second: WorkspaceId = i
        .create_workspace(&admin, "Second")
        .await
        .unwrap()
        .id
        .parse()
        .unwrap();
    i.create_role(&admin, "Reviewers", &["audit.read".into()])
        .await
        .unwrap();
    i.add_user(&admin, "bob", &secret(PASSWORD), Role::Viewer)
        .await
        .unwrap();
    i.add_member(&admin, w, "bob", "viewer").await.unwrap();
    let before = state(&fx).await;

    assert_eq!(
        code(i.create_workspace(&admin, "acme").await),
        "already_exists"
    );
    assert_eq!(
        code(i.create_workspace(&admin, "  Second ").await),
        "already_exists"
    );
    assert_eq!(
        code(i.rename_workspace(&admin, second, "ACME").await),
        "already_exists"
    );
    assert_eq!(
        code(
            i.create_role(&admin, "reviewers", &["audit.read".into()])
                .await
        ),
        "already_exists"
    );
    assert_eq!(
        code(i.create_role(&admin, "Admin", &["audit.read".into()]).await),
        "already_exists"
    );
    assert_eq!(
        code(
            i.add_user(&admin, "BOB", &secret(PASSWORD), Role::Viewer)
                .await
        ),
        "already_exists"
    );
    assert_eq!(
        code(i.add_member(&admin, w, "bob", "operator").await),
        "already_exists"
    );
    assert_eq!(state(&fx).await, before);
    let members = i.list_members(&admin, w).await.unwrap();
    assert_eq!(
        members.iter().find(|m| m.username == "bob").unwrap().role,
        "Viewer"
    );
}

#[tokio::test]
async fn a_refused_member_add_records_no_member_added_event() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    fx.instance
        .add_user(&admin, "bob", &secret(PASSWORD), Role::Viewer)
        .await
        .unwrap();
    fx.instance
        .add_member(&admin, w, "bob", "viewer")
        .await
        .unwrap();
    let pool = fx.raw_workspace(w).await;
    let added = || async {
        crate::common::actions(&pool)
            .await
            .into_iter()
            .filter(|(a, o)| a == "member.added" && o == "allowed")
            .count()
    };
    let before = added().await;
    let err = fx
        .instance
        .add_member(&admin, w, "bob", "operator")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "already_exists");
    // The audit log must not claim a membership change that did not happen.
    assert_eq!(
        added().await,
        before,
        "a refused add is logged as member.added/allowed"
    );
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed_or_demoted() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    let i = &fx.instance;
    let before = state(&fx).await;
    assert_eq!(code(i.remove_member(&admin, w, "alice").await), "conflict");
    assert_eq!(
        code(i.set_member_role(&admin, w, "alice", "approver").await),
        "conflict"
    );
    // The organisation's last Admin, likewise.
    assert_eq!(code(i.disable_user(&admin, "alice").await), "conflict");
    assert_eq!(
        code(i.set_org_role(&admin, "alice", Role::Operator).await),
        "conflict"
    );
    assert_eq!(state(&fx).await, before);

    // With a second Admin, the first may step down; then the second is the last.
    i.add_user(&admin, "bob", &secret(PASSWORD), Role::Admin)
        .await
        .unwrap();
    i.add_member(&admin, w, "bob", "admin").await.unwrap();
    i.set_member_role(&admin, w, "alice", "viewer")
        .await
        .unwrap();
    let bob = fx.sign_in("bob").await;
    let err = i.remove_member(&bob, w, "bob").await.unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert!(err.to_string().contains("last Admin"), "{err}");
    let members = i.list_members(&bob, w).await.unwrap();
    let admins: Vec<&str> = members
        .iter()
        .filter(|m| m.role == "Admin")
        .map(|m| m.username.as_str())
        .collect();
    assert_eq!(admins, ["bob"]);
}

#[tokio::test]
async fn granting_a_capability_you_lack_is_refused_and_recorded() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    let i = &fx.instance;
    i.create_role(
        &admin,
        "member managers",
        &["workspace.read".into(), "member.manage".into()],
    )
    .await
    .unwrap();
    for user in ["dave", "erin"] {
        i.add_user(&admin, user, &secret(PASSWORD), Role::Viewer)
            .await
            .unwrap();
    }
    let carol = fx.user(&admin, "carol", Role::Viewer).await;
    i.add_member(&admin, w, "carol", "member managers")
        .await
        .unwrap();
    i.add_member(&admin, w, "erin", "viewer").await.unwrap();
    let pool = fx.raw().await;
    let before = state(&fx).await;

    assert_eq!(
        code(i.add_member(&carol, w, "dave", "operator").await),
        "forbidden"
    );
    assert_eq!(denials(&pool, "member.add").await, 1);
    assert_eq!(
        code(i.set_member_role(&carol, w, "erin", "admin").await),
        "forbidden"
    );
    assert_eq!(denials(&pool, "member.set_role").await, 1);
    // An org Viewer cannot define roles at all, nor add accounts.
    assert_eq!(
        code(
            i.create_role(&carol, "sneaky", &["key.manage".into()])
                .await
        ),
        "forbidden"
    );
    assert_eq!(denials(&pool, "role.create").await, 1);
    assert_eq!(
        code(
            i.add_user(&carol, "mallory", &secret(PASSWORD), Role::Admin)
                .await
        ),
        "forbidden"
    );
    assert_eq!(denials(&pool, "user.add").await, 1);
    assert_eq!(state(&fx).await, before);

    // Within her own capabilities the same member manager may grant.
    i.add_member(&carol, w, "dave", "member managers")
        .await
        .unwrap();
    let dave_caps: CapabilitySet = CapabilitySet::parse_names(
        &i.list_members(&carol, w)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.username == "dave")
            .unwrap()
            .capabilities,
    )
    .unwrap();
    assert_eq!(
        dave_caps,
        CapabilitySet::of(&[Capability::WorkspaceRead, Capability::MemberManage])
    );
}

#[tokio::test]
async fn malformed_role_definitions_are_invalid_input() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let i = &fx.instance;
    let before = state(&fx).await;
    assert_eq!(
        code(
            i.create_role(&admin, "x", &["fly.to_the_moon".into()])
                .await
        ),
        "invalid_input"
    );
    assert_eq!(
        code(i.create_role(&admin, "empty", &[]).await),
        "invalid_input"
    );
    assert_eq!(
        code(i.create_role(&admin, "   ", &["audit.read".into()]).await),
        "invalid_input"
    );
    assert_eq!(
        code(i.create_workspace(&admin, &"w".repeat(81)).await),
        "invalid_input"
    );
    assert_eq!(
        code(i.create_workspace(&admin, "tab\there").await),
        "invalid_input"
    );
    assert_eq!(state(&fx).await, before);
}

#[tokio::test]
async fn a_role_in_use_cannot_be_deleted() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let w = fx.first_workspace(&admin).await;
    let i = &fx.instance;
    i.create_role(
        &admin,
        "auditors",
        &["audit.read".into(), "workspace.read".into()],
    )
    .await
    .unwrap();
    i.add_user(&admin, "bob", &secret(PASSWORD), Role::Viewer)
        .await
        .unwrap();
    i.add_member(&admin, w, "bob", "auditors").await.unwrap();
    let before = state(&fx).await;
    assert_eq!(code(i.delete_role(&admin, "auditors").await), "conflict");
    assert_eq!(state(&fx).await, before);
    i.set_member_role(&admin, w, "bob", "viewer").await.unwrap();
    i.delete_role(&admin, "Auditors").await.unwrap();
    assert!(i
        .list_roles(&admin)
        .await
        .unwrap()
        .iter()
        .all(|r| r.name != "auditors"));
}

#[tokio::test]
async fn two_admins_stepping_down_at_once_leave_the_workspace_an_admin() {
    let fx = Fixture::new().await;
    let alice = fx.admin().await;
    let w = fx.first_workspace(&alice).await;
    let i = &fx.instance;
    let bob = fx.user(&alice, "bob", Role::Admin).await;
    i.add_member(&alice, w, "bob", "admin").await.unwrap();
    let admins = |members: Vec<headmaster_core::access::MemberSummary>| {
        members.into_iter().filter(|m| m.role == "Admin").count()
    };
    // Concurrent requests (the desktop app and a script, say): each checks that another Admin
    // remains, then acts. The rule must hold however the two interleave, so the race is run a
    // few times; after each round the Admin who stayed reinstates the other.
    for round in 0..5 {
        let (by_alice, by_bob) = tokio::join!(
            i.set_member_role(&alice, w, "alice", "viewer"),
            i.set_member_role(&bob, w, "bob", "viewer"),
        );
        let left = admins(i.list_members(&alice, w).await.unwrap());
        assert!(
            left >= 1,
            "round {round}: both stepped down: {by_alice:?} {by_bob:?}"
        );
        let (stayed, stepped_down) = match (&by_alice, &by_bob) {
            (Ok(()), Err(e)) | (Err(e), Ok(())) if e.code() == "conflict" => {
                if by_alice.is_ok() {
                    (&bob, "alice")
                } else {
                    (&alice, "bob")
                }
            }
            other => panic!("round {round}: exactly one may step down, got {other:?}"),
        };
        i.set_member_role(stayed, w, stepped_down, "admin")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_policy_change_takes_effect_at_once_even_within_one_millisecond() {
    // The compiled policy is cached; the clock here never moves, so only a strictly increasing
    // change marker can tell the cache that the policy changed.
    use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
    let fx = crate::common::Fixture::new().await;
    let admin = fx.admin().await;
    let ws: headmaster_core::ids::WorkspaceId = fx
        .instance
        .resolve_workspace(&admin, None)
        .await
        .unwrap()
        .id
        .parse()
        .unwrap();
    let call = || CallRequest {
        action: "memory.write".into(),
        args: serde_json::json!({ "key": "k", "value": "v" }),
        reasoning: None,
        proposer: Proposer::User,
    };
    fx.instance
        .enable_tool(&admin, ws, "memory", None)
        .await
        .unwrap();
    assert!(matches!(
        fx.instance.propose_call(&admin, ws, call()).await.unwrap(),
        CallOutcome::Executed { .. }
    ));
    fx.instance
        .set_tool_tier(&admin, ws, "memory.write", "high")
        .await
        .unwrap();
    assert!(matches!(
        fx.instance.propose_call(&admin, ws, call()).await.unwrap(),
        CallOutcome::Pending { .. }
    ));
    fx.instance
        .disable_tool(&admin, ws, "memory")
        .await
        .unwrap();
    assert!(matches!(
        fx.instance.propose_call(&admin, ws, call()).await.unwrap(),
        CallOutcome::Denied { .. }
    ));
}

#[tokio::test]
async fn a_workspace_admin_without_org_roles_lists_the_roles_they_can_assign_there() {
    let fx = Fixture::new().await;
    let alice = fx.admin().await;
    let w = fx.first_workspace(&alice).await;
    let i = &fx.instance;
    i.create_role(
        &alice,
        "auditors",
        &["audit.read".into(), "workspace.read".into()],
    )
    .await
    .unwrap();
    let wendy = fx.user(&alice, "wendy", Role::Viewer).await;
    i.add_member(&alice, w, "wendy", "admin").await.unwrap();

    let roles = i.assignable_roles(&wendy, w).await.unwrap();
    assert!(roles.iter().any(|r| r.name == "auditors" && !r.builtin));
    assert_eq!(roles.len(), 5, "the four built-in roles and the custom one");
    // The organisation's role list itself still needs org.roles.
    assert_eq!(code(i.list_roles(&wendy).await), "forbidden");
}
