//! Property test over random sequences of membership and role operations by random actors.
//!
//! Invariants checked after every step, on what is stored:
//! - every membership was granted by someone who, at that moment, held every capability of the
//!   role granted (so, by induction from the workspace's creator, no capability is ever held
//!   that no Admin holding it handed out);
//! - every workspace keeps at least one Admin;
//! - a refused operation changes nothing, and a refusal by role is recorded as a denial.
//!
//! An independent model predicts each outcome; the core must agree with it exactly.
//! Users and their sessions are created once (Argon2 is slow); each case gets a fresh workspace.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use headmaster_core::access::{Capability, CapabilitySet, Role as BuiltinRole, RoleCapabilities};
use headmaster_core::ids::WorkspaceId;
use headmaster_core::Session;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sqlx::SqlitePool;

use crate::common::{denials, Fixture};

/// Actors: the first Admin (creator of every case's workspace), then users with each org role.
const USERS: [(&str, BuiltinRole); 5] = [
    ("alice", BuiltinRole::Admin),
    ("carol", BuiltinRole::Admin),
    ("dave", BuiltinRole::Operator),
    ("erin", BuiltinRole::Viewer),
    ("frank", BuiltinRole::Approver),
];

#[derive(Debug, Clone)]
enum Op {
    Add {
        actor: usize,
        target: usize,
        role: usize,
    },
    SetRole {
        actor: usize,
        target: usize,
        role: usize,
    },
    Remove {
        actor: usize,
        target: usize,
    },
    CreateRole {
        actor: usize,
        capabilities: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    // Actors lean towards the workspace's creator, so that sequences grow real memberships
    // instead of mostly bouncing off non-members.
    let actor = prop_oneof![Just(0usize), 0..USERS.len()];
    let user = 0..USERS.len();
    let role = 0usize..12;
    prop_oneof![
        4 => (actor.clone(), user.clone(), role.clone())
            .prop_map(|(actor, target, role)| Op::Add { actor, target, role }),
        3 => (actor.clone(), user.clone(), role).prop_map(|(actor, target, role)| Op::SetRole { actor, target, role }),
        2 => (actor.clone(), user).prop_map(|(actor, target)| Op::Remove { actor, target }),
        1 => (actor, 1u32..(1 << Capability::ALL.len()))
            .prop_map(|(actor, capabilities)| Op::CreateRole { actor, capabilities }),
    ]
}

/// A role as the model knows it: stored name, display name and capabilities.
#[derive(Debug, Clone)]
struct Role {
    stored: String,
    name: String,
    caps: CapabilitySet,
}

fn mask_to_set(mask: u32) -> CapabilitySet {
    CapabilitySet::of(
        &Capability::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, c)| *c)
            .collect::<Vec<_>>(),
    )
}

/// Everything shared by the cases: the instance, the signed-in users, the custom roles so far.
struct World {
    fx: Fixture,
    sessions: Vec<Session>,
    roles: Vec<Role>,
    cases: AtomicUsize,
    /// How often each (operation, outcome) happened, to show the cases reach every rule.
    outcomes: BTreeMap<(&'static str, &'static str), usize>,
}

/// Memberships of one workspace as stored: user id → stored role.
async fn stored_members(pool: &SqlitePool, workspace: WorkspaceId) -> BTreeMap<String, String> {
    sqlx::query_as("SELECT user_id, role FROM memberships WHERE workspace_id = ?")
        .bind(workspace.to_string())
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// Capabilities of a stored role name, resolved from what is stored (not from the model).
async fn stored_caps(pool: &SqlitePool, stored: &str) -> CapabilitySet {
    if let Some(role) = BuiltinRole::parse(stored) {
        return role.capabilities();
    }
    let id = stored
        .strip_prefix("custom:")
        .expect("custom role reference");
    let caps: String = sqlx::query_scalar("SELECT capabilities FROM roles WHERE id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    CapabilitySet::parse_names(&caps.split(',').collect::<Vec<_>>()).unwrap()
}

async fn role_count(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM roles")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Runs one case; `Err` describes the broken invariant.
async fn run_case(world: &mut World, ops: &[Op]) -> Result<(), TestCaseError> {
    let case = world.cases.fetch_add(1, Ordering::SeqCst);
    let fx = &world.fx;
    let creator = &world.sessions[0];
    let workspace: WorkspaceId = fx
        .instance
        .create_workspace(creator, &format!("prop {case}"))
        .await
        .unwrap()
        .id
        .parse()
        .unwrap();
    let instance_pool = fx.raw().await;
    let workspace_pool = fx.raw_workspace(workspace).await;
    let ids: Vec<String> = world
        .sessions
        .iter()
        .map(|s| s.user_id.to_string())
        .collect();
    let builtins: Vec<Role> = BuiltinRole::ALL
        .iter()
        .map(|r| Role {
            stored: r.name().into(),
            name: r.name().into(),
            caps: r.capabilities(),
        })
        .collect();
    // Model: user index → stored role.
    let mut model: BTreeMap<usize, String> = BTreeMap::from([(0, "admin".to_string())]);
    let caps_of = |roles: &[Role], stored: &str| {
        builtins
            .iter()
            .chain(roles)
            .find(|r| r.stored == stored)
            .map(|r| r.caps)
            .unwrap()
    };

    for (step, op) in ops.iter().enumerate() {
        let members_before = stored_members(&instance_pool, workspace).await;
        let roles_before = role_count(&instance_pool).await;
        let denied_before = (
            denials(&instance_pool, op_name(op)).await,
            denials(&workspace_pool, op_name(op)).await,
        );
        let all_roles: Vec<Role> = builtins.iter().chain(&world.roles).cloned().collect();
        let pick = |i: usize| all_roles[i % all_roles.len()].clone();
        let actor_caps = model.get(&actor(op)).map(|r| caps_of(&world.roles, r));
        let admins = model.values().filter(|r| *r == "admin").count();

        // The model's prediction: Ok(()) or the error code, and where a denial is recorded.
        let (expected, denial): (Result<(), &str>, Option<bool>) = match op {
            Op::CreateRole {
                actor,
                capabilities,
            } => {
                // The gate (org.roles), then the subset rule; both refusals go to the
                // instance chain.
                let org = USERS[*actor].1.capabilities();
                if !org.contains(Capability::OrgRoles)
                    || !mask_to_set(*capabilities).is_subset_of(&org)
                {
                    (Err("forbidden"), Some(true))
                } else {
                    (Ok(()), None)
                }
            }
            _ => match actor_caps {
                None => (Err("not_found"), Some(true)),
                Some(caps) if !caps.contains(Capability::MemberManage) => {
                    (Err("forbidden"), Some(false))
                }
                Some(caps) => match op {
                    Op::Add { target, role, .. } => {
                        if !pick(*role).caps.is_subset_of(&caps) {
                            (Err("forbidden"), Some(true))
                        } else if model.contains_key(target) {
                            (Err("already_exists"), None)
                        } else {
                            (Ok(()), None)
                        }
                    }
                    Op::SetRole { target, role, .. } => {
                        let role = pick(*role);
                        if !role.caps.is_subset_of(&caps) {
                            (Err("forbidden"), Some(true))
                        } else {
                            match model.get(target) {
                                None => (Err("not_found"), None),
                                // Nobody changes the role of a member who holds more than they do.
                                Some(r) if !caps_of(&world.roles, r).is_subset_of(&caps) => {
                                    (Err("forbidden"), Some(true))
                                }
                                Some(r)
                                    if r == "admin" && role.stored != "admin" && admins <= 1 =>
                                {
                                    (Err("conflict"), None)
                                }
                                Some(_) => (Ok(()), None),
                            }
                        }
                    }
                    Op::Remove { target, .. } => match model.get(target) {
                        None => (Err("not_found"), None),
                        Some(r) if !caps_of(&world.roles, r).is_subset_of(&caps) => {
                            (Err("forbidden"), Some(true))
                        }
                        Some(r) if r == "admin" && admins <= 1 => (Err("conflict"), None),
                        Some(_) => (Ok(()), None),
                    },
                    Op::CreateRole { .. } => unreachable!("handled above"),
                },
            },
        };

        let session = &world.sessions[actor(op)];
        let i = &fx.instance;
        let result = match op {
            Op::Add { target, role, .. } => {
                i.add_member(session, workspace, USERS[*target].0, &pick(*role).name)
                    .await
            }
            Op::SetRole { target, role, .. } => {
                i.set_member_role(session, workspace, USERS[*target].0, &pick(*role).name)
                    .await
            }
            Op::Remove { target, .. } => {
                i.remove_member(session, workspace, USERS[*target].0).await
            }
            Op::CreateRole { capabilities, .. } => {
                let name = format!("custom {case}-{step}");
                let caps: Vec<String> = mask_to_set(*capabilities)
                    .names()
                    .iter()
                    .map(|n| n.to_string())
                    .collect();
                i.create_role(session, &name, &caps).await.map(|created| {
                    world.roles.push(Role {
                        stored: format!("custom:{}", created.id),
                        name,
                        caps: mask_to_set(*capabilities),
                    });
                })
            }
        };
        let got = result.as_ref().map(|_| ()).map_err(|e| e.code());
        *world
            .outcomes
            .entry((op_name(op), got.err().unwrap_or("ok")))
            .or_default() += 1;
        prop_assert_eq!(got, expected, "step {} {:?}: {:?}", step, op, result);

        let members_after = stored_members(&instance_pool, workspace).await;
        match (&result, op) {
            (Err(_), _) => {
                prop_assert_eq!(
                    &members_after,
                    &members_before,
                    "a refused {:?} changed memberships",
                    op
                );
                prop_assert_eq!(role_count(&instance_pool).await, roles_before);
            }
            (Ok(()), Op::Add { target, role, .. } | Op::SetRole { target, role, .. }) => {
                // The granter held every capability of the granted role, per the stored state
                // before the grant.
                let granter_role = members_before
                    .get(&ids[actor(op)])
                    .cloned()
                    .unwrap_or_default();
                let granter_caps = stored_caps(&instance_pool, &granter_role).await;
                let granted = members_after.get(&ids[*target]).unwrap();
                let granted_caps = stored_caps(&instance_pool, granted).await;
                prop_assert!(
                    granted_caps.is_subset_of(&granter_caps),
                    "{:?} granted {:?} holding only {:?}",
                    op,
                    granted_caps,
                    granter_caps
                );
                model.insert(*target, pick(*role).stored);
            }
            (Ok(()), Op::Remove { target, .. }) => {
                model.remove(target);
            }
            (Ok(()), Op::CreateRole { .. }) => {}
        }
        let modelled: BTreeMap<String, String> = model
            .iter()
            .map(|(u, r)| (ids[*u].clone(), r.clone()))
            .collect();
        prop_assert_eq!(
            &members_after,
            &modelled,
            "stored memberships differ from the model"
        );
        prop_assert!(
            members_after.values().any(|r| r == "admin"),
            "the workspace lost its last Admin"
        );

        let denied_after = (
            denials(&instance_pool, op_name(op)).await,
            denials(&workspace_pool, op_name(op)).await,
        );
        let expected_denials = match denial {
            Some(true) => (denied_before.0 + 1, denied_before.1),
            Some(false) => (denied_before.0, denied_before.1 + 1),
            None => denied_before,
        };
        prop_assert_eq!(denied_after, expected_denials, "denial record of {:?}", op);
    }
    instance_pool.close().await;
    workspace_pool.close().await;
    Ok(())
}

fn actor(op: &Op) -> usize {
    match op {
        Op::Add { actor, .. }
        | Op::SetRole { actor, .. }
        | Op::Remove { actor, .. }
        | Op::CreateRole { actor, .. } => *actor,
    }
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Add { .. } => "member.add",
        Op::SetRole { .. } => "member.set_role",
        Op::Remove { .. } => "member.remove",
        Op::CreateRole { .. } => "role.create",
    }
}

#[test]
fn no_capability_is_held_that_no_holder_granted_and_a_workspace_keeps_an_admin() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let world = runtime.block_on(async {
        let fx = Fixture::new().await;
        let admin = fx.admin().await;
        let mut sessions = vec![admin.clone()];
        for (name, role) in &USERS[1..] {
            sessions.push(fx.user(&admin, name, *role).await);
        }
        World {
            fx,
            sessions,
            roles: Vec::new(),
            cases: AtomicUsize::new(0),
            outcomes: BTreeMap::new(),
        }
    });
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let cell = std::cell::RefCell::new(world);
    runner
        .run(&proptest::collection::vec(op(), 15), |ops| {
            runtime.block_on(run_case(&mut cell.borrow_mut(), &ops))
        })
        .unwrap();
    let world = cell.into_inner();
    // The cases reached every rule, allowed and refused.
    assert!(world.cases.load(Ordering::SeqCst) >= 24);
    for expected in [
        ("member.add", "ok"),
        ("member.add", "forbidden"),
        ("member.add", "not_found"),
        ("member.add", "already_exists"),
        ("member.set_role", "ok"),
        ("member.set_role", "conflict"),
        ("member.remove", "ok"),
        ("member.remove", "conflict"),
        ("role.create", "ok"),
        ("role.create", "forbidden"),
    ] {
        assert!(
            world.outcomes.contains_key(&expected),
            "never reached {expected:?}: {:?}",
            world.outcomes
        );
    }
}
