//! Fault sweeps over the organisation's operations: accounts, roles, workspaces, membership
//! (a change of the instance database recorded in the workspace chain), keys and erasure.

use headmaster_core::access::Role;
use headmaster_core::vault::KeyScope;

use super::{Counts, Db, Team};
use crate::common::{raw_pool, secret, PASSWORD};

fn user(i: usize) -> String {
    format!("user{i:03}")
}

impl Team {
    async fn add_user(&self, name: &str) {
        self.fx
            .instance
            .add_user(&self.admin, name, &secret(PASSWORD), Role::Viewer)
            .await
            .unwrap();
    }

    async fn memberships(&self) -> i64 {
        self.count(
            Db::Instance,
            &format!(
                "SELECT COUNT(*) FROM memberships WHERE workspace_id = '{}'",
                self.ws
            ),
        )
        .await
    }
}

#[tokio::test]
async fn accounts_and_roles_commit_with_their_events() {
    let team = Team::new().await;
    team.sweep(
        "user.add",
        Db::Instance,
        |_| async {},
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .add_user(
                        &team.admin,
                        &format!("new{i:03}"),
                        &secret(PASSWORD),
                        Role::Viewer,
                    )
                    .await
                    .map(drop)
            }
        },
        || async {
            vec![(
                "users",
                team.count(Db::Instance, "SELECT COUNT(*) FROM users").await,
                team.events(Db::Instance, "user.created").await,
            )]
        },
    )
    .await;
    team.sweep(
        "user.disable",
        Db::Instance,
        |i| {
            let team = &team;
            async move { team.add_user(&user(i)).await }
        },
        |i| {
            let team = &team;
            async move { team.fx.instance.disable_user(&team.admin, &user(i)).await }
        },
        || async {
            vec![(
                "disabled",
                team.count(
                    Db::Instance,
                    "SELECT COUNT(*) FROM users WHERE disabled_at IS NOT NULL",
                )
                .await,
                team.events(Db::Instance, "user.disabled").await,
            )]
        },
    )
    .await;
    team.sweep(
        "role.create",
        Db::Instance,
        |_| async {},
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .create_role(
                        &team.admin,
                        &format!("auditor{i:03}"),
                        &["workspace.read".to_string(), "audit.read".to_string()],
                    )
                    .await
                    .map(drop)
            }
        },
        || async {
            vec![(
                "roles",
                team.count(Db::Instance, "SELECT COUNT(*) FROM roles").await,
                team.events(Db::Instance, "role.created").await,
            )]
        },
    )
    .await;
}

#[tokio::test]
async fn a_new_workspace_and_its_relayed_events_are_all_or_nothing() {
    let team = Team::new().await;
    let measure = || async {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM workspaces")
            .fetch_all(&team.instance_db)
            .await
            .unwrap();
        // Every registered workspace's own chain opens with its creation, exactly once.
        let mut relayed = 0;
        for id in &ids {
            let path = team.fx.home().join("workspaces").join(format!("{id}.db"));
            let pool = raw_pool(&path).await;
            relayed += team_events(&pool, "workspace.created").await;
            pool.close().await;
        }
        vec![
            (
                "workspaces",
                ids.len() as i64,
                team.events(Db::Instance, "workspace.created").await,
            ),
            ("relayed", ids.len() as i64, relayed),
        ]
    };
    team.sweep(
        "workspace.create",
        Db::Instance,
        |_| async {},
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .create_workspace(&team.admin, &format!("Space {i:03}"))
                    .await
                    .map(drop)
            }
        },
        measure,
    )
    .await;
}

async fn team_events(pool: &sqlx::SqlitePool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = ?")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Membership lives in the instance database, its history in the workspace's chain: faults in
/// either file leave both or neither (after recovery).
#[tokio::test]
async fn membership_changes_reach_the_workspace_chain_exactly_once() {
    let team = Team::new().await;
    for db in [Db::Instance, Db::Workspace] {
        team.sweep(
            "member.add",
            db,
            |i| {
                let team = &team;
                async move { team.add_user(&format!("{}{}", user(i), db as u8)).await }
            },
            |i| {
                let team = &team;
                async move {
                    team.fx
                        .instance
                        .add_member(
                            &team.admin,
                            team.ws,
                            &format!("{}{}", user(i), db as u8),
                            "viewer",
                        )
                        .await
                }
            },
            || async {
                vec![(
                    "memberships",
                    team.memberships().await,
                    team.events(Db::Workspace, "member.added").await,
                )]
            },
        )
        .await;
    }
    let prepare = |name: String| {
        let team = &team;
        async move {
            team.add_user(&name).await;
            team.fx
                .instance
                .add_member(&team.admin, team.ws, &name, "viewer")
                .await
                .unwrap();
        }
    };
    team.sweep(
        "member.set_role",
        Db::Instance,
        |i| prepare(format!("role{i:03}")),
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .set_member_role(&team.admin, team.ws, &format!("role{i:03}"), "operator")
                    .await
            }
        },
        || async {
            vec![(
                "operators",
                team.count(
                    Db::Instance,
                    "SELECT COUNT(*) FROM memberships WHERE role = 'operator'",
                )
                .await,
                team.events(Db::Workspace, "member.role_changed").await,
            )]
        },
    )
    .await;
    team.sweep(
        "member.remove",
        Db::Workspace,
        |i| prepare(format!("gone{i:03}")),
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .remove_member(&team.admin, team.ws, &format!("gone{i:03}"))
                    .await
            }
        },
        || async {
            vec![(
                "removals",
                -team.memberships().await,
                team.events(Db::Workspace, "member.removed").await,
            )]
        },
    )
    .await;
}

#[tokio::test]
async fn erasure_and_its_membership_records_are_all_or_nothing() {
    let team = Team::new().await;
    for db in [Db::Instance, Db::Workspace] {
        team.sweep(
            "subject.erase",
            db,
            |i| {
                let team = &team;
                async move {
                    let name = format!("erase{i:03}{}", db as u8);
                    team.add_user(&name).await;
                    team.fx
                        .instance
                        .add_member(&team.admin, team.ws, &name, "viewer")
                        .await
                        .unwrap();
                }
            },
            |i| {
                let team = &team;
                async move {
                    team.fx
                        .instance
                        .erase_subject(&team.admin, &format!("erase{i:03}{}", db as u8))
                        .await
                        .map(drop)
                }
            },
            || async {
                vec![
                    (
                        "erased",
                        team.count(
                            Db::Instance,
                            "SELECT COUNT(*) FROM users WHERE erased_at IS NOT NULL",
                        )
                        .await,
                        team.events(Db::Instance, "subject.erased").await,
                    ),
                    (
                        "memberships",
                        -team.memberships().await,
                        team.events(Db::Workspace, "member.removed").await,
                    ),
                ]
            },
        )
        .await;
    }
}

/// Key versions live in the instance database; a workspace's rotation is recorded in its
/// chain.
#[tokio::test]
async fn key_rotations_commit_with_their_events() {
    let team = Team::new().await;
    for (scope, db, chain) in [
        (KeyScope::Workspace(team.ws), Db::Instance, Db::Workspace),
        (KeyScope::Workspace(team.ws), Db::Workspace, Db::Workspace),
        (KeyScope::Instance, Db::Instance, Db::Instance),
    ] {
        let name = match scope {
            KeyScope::Instance => "instance".to_string(),
            KeyScope::Workspace(w) => w.to_string(),
        };
        let measure = || {
            let (team, name) = (&team, name.clone());
            async move {
                let started: Counts = vec![
                    (
                        "started",
                        team.count(
                            Db::Instance,
                            &format!("SELECT COUNT(*) FROM key_rotations WHERE scope = '{name}'"),
                        )
                        .await,
                        team.events(chain, "key.rotation_started").await,
                    ),
                    (
                        "finished",
                        team.count(
                            Db::Instance,
                            &format!(
                                "SELECT COUNT(*) FROM key_rotations WHERE scope = '{name}' AND finished_at IS NOT NULL"
                            ),
                        )
                        .await,
                        team.events(chain, "key.rotated").await,
                    ),
                ];
                started
            }
        };
        team.sweep(
            "keys.rotate",
            db,
            |_| async {},
            |_| {
                let team = &team;
                async move {
                    team.fx
                        .instance
                        .rotate_keys(&team.admin, scope, &|_| {})
                        .await
                        .map(drop)
                }
            },
            measure,
        )
        .await;
    }
}
