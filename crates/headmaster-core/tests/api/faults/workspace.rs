//! Fault sweeps over a workspace's operations: policy, credentials, grants, approvals (filing,
//! deciding, expiring), agents, runs and memory.

use headmaster_core::approvals::PageRequest;
use std::collections::BTreeMap;
use std::sync::Mutex;

use headmaster_core::approvals::{ApprovalDecision, GrantRequest};
use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
use headmaster_core::Session;
use serde_json::json;

use super::{Db, Team};

impl Team {
    /// Bob proposes `memory.write` of key `key` (medium: it waits for a confirmation).
    async fn file_request(&self, key: &str) -> headmaster_core::Result<String> {
        self.file_request_as(&self.bob, key).await
    }

    async fn file_request_as(&self, bob: &Session, key: &str) -> headmaster_core::Result<String> {
        let outcome = self
            .fx
            .instance
            .propose_call(
                bob,
                self.ws,
                CallRequest {
                    action: "memory.write".into(),
                    args: json!({ "key": key, "value": "remembered" }),
                    reasoning: Some("fault sweep".into()),
                    proposer: Proposer::User,
                },
            )
            .await?;
        match outcome {
            CallOutcome::Pending { approval_id, .. } => Ok(approval_id),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    async fn enable_memory_at_medium(&self) {
        self.fx
            .instance
            .enable_tool(&self.admin, self.ws, "memory", None)
            .await
            .unwrap();
        self.fx
            .instance
            .set_tool_tier(&self.admin, self.ws, "memory.write", "medium")
            .await
            .unwrap();
    }

    async fn ws_count(&self, sql: &str) -> i64 {
        self.count(Db::Workspace, sql).await
    }
}

fn playbook(name: &str) -> String {
    format!(
        "name = \"{name}\"\ntools = [\"draft.save\"]\n[[steps]]\nid = \"done\"\nfinish = \"ok\"\n"
    )
}

#[tokio::test]
async fn policy_and_credential_changes_commit_with_their_events() {
    let team = Team::new().await;
    team.sweep(
        "policy.rule_added",
        Db::Workspace,
        |_| async {},
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .add_rule(
                        &team.admin,
                        team.ws,
                        &format!("fault{i:03}: on memory.write then raise high"),
                    )
                    .await
                    .map(drop)
            }
        },
        || async {
            let rules = team
                .fx
                .instance
                .list_tools(&team.admin, team.ws)
                .await
                .unwrap()
                .rules
                .len() as i64;
            vec![(
                "rules",
                rules,
                team.events(Db::Workspace, "policy.rule_added").await,
            )]
        },
    )
    .await;
    team.sweep(
        "credential.set",
        Db::Workspace,
        |_| async {},
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .set_credential(&team.admin, team.ws, &format!("TOKEN_{i:03}"), "s3cret")
                    .await
            }
        },
        || async {
            vec![(
                "credentials",
                team.ws_count("SELECT COUNT(*) FROM credentials").await,
                team.events(Db::Workspace, "credential.set").await,
            )]
        },
    )
    .await;
    team.sweep(
        "credential.delete",
        Db::Workspace,
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .set_credential(&team.admin, team.ws, &format!("OLD_{i:03}"), "s3cret")
                    .await
                    .unwrap()
            }
        },
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .delete_credential(&team.admin, team.ws, &format!("OLD_{i:03}"))
                    .await
            }
        },
        || async {
            vec![(
                "deleted",
                -team.ws_count("SELECT COUNT(*) FROM credentials").await,
                team.events(Db::Workspace, "credential.deleted").await,
            )]
        },
    )
    .await;
}

#[tokio::test]
async fn grants_commit_with_their_events() {
    let team = Team::new().await;
    team.enable_memory_at_medium().await;
    let grant = |i: usize| {
        let team = &team;
        async move {
            team.fx
                .instance
                .create_grant(
                    &team.approver,
                    team.ws,
                    GrantRequest {
                        action: "memory.write".into(),
                        principal: "bob".into(),
                        args: BTreeMap::from([("key".to_string(), format!("g{i:03}"))]),
                        minutes: 60,
                    },
                )
                .await
        }
    };
    team.sweep(
        "grant.create",
        Db::Workspace,
        |_| async {},
        |i| async move { grant(i).await.map(drop) },
        || async {
            vec![(
                "grants",
                team.ws_count("SELECT COUNT(*) FROM grants").await,
                team.events(Db::Workspace, "grant.created").await,
            )]
        },
    )
    .await;
    let ids = Mutex::new(BTreeMap::new());
    team.sweep(
        "grant.revoke",
        Db::Workspace,
        |i| {
            let (ids, grant) = (&ids, &grant);
            async move {
                let id = grant(1000 + i).await.unwrap().id;
                ids.lock().unwrap().insert(i, id);
            }
        },
        |i| {
            let id = ids.lock().unwrap()[&i].clone();
            let team = &team;
            async move {
                team.fx
                    .instance
                    .revoke_grant(&team.admin, team.ws, &id)
                    .await
            }
        },
        || async {
            vec![(
                "revoked",
                team.ws_count("SELECT COUNT(*) FROM grants WHERE revoked_at IS NOT NULL")
                    .await,
                team.events(Db::Workspace, "grant.revoked").await,
            )]
        },
    )
    .await;
}

#[tokio::test]
async fn approval_requests_are_filed_decided_and_expired_with_their_events() {
    let team = Team::new().await;
    team.enable_memory_at_medium().await;
    team.sweep(
        "approval.file",
        Db::Workspace,
        |_| async {},
        |i| {
            let team = &team;
            async move { team.file_request(&format!("filed{i:03}")).await.map(drop) }
        },
        || async {
            let requests = team.ws_count("SELECT COUNT(*) FROM approvals").await;
            vec![
                (
                    "requests",
                    requests,
                    team.events(Db::Workspace, "approval.requested").await,
                ),
                (
                    "proposals",
                    requests,
                    team.events(Db::Workspace, "tool.proposed").await,
                ),
            ]
        },
    )
    .await;
    let ids = Mutex::new(BTreeMap::new());
    team.sweep(
        "approval.decide",
        Db::Workspace,
        |i| {
            let (team, ids) = (&team, &ids);
            async move {
                let id = team.file_request(&format!("decided{i:03}")).await.unwrap();
                ids.lock().unwrap().insert(i, id);
            }
        },
        |i| {
            let id = ids.lock().unwrap()[&i].clone();
            let team = &team;
            async move {
                team.fx
                    .instance
                    .decide_approval(&team.admin, team.ws, &id, ApprovalDecision::Approve, None)
                    .await
                    .map(drop)
            }
        },
        || async {
            vec![
                (
                    "decisions",
                    team.ws_count("SELECT COUNT(*) FROM approval_decisions").await,
                    team.events(Db::Workspace, "approval.approved").await,
                ),
                (
                    "claims",
                    team.ws_count(
                        "SELECT COUNT(*) FROM approvals WHERE status IN ('executing', 'executed', 'failed')",
                    )
                    .await,
                    team.events(Db::Workspace, "approval.executing").await,
                ),
                (
                    "executions",
                    team.ws_count(
                        "SELECT COUNT(*) FROM approvals WHERE status IN ('executed', 'failed')",
                    )
                    .await,
                    team.events(Db::Workspace, "tool.executed").await
                        + team.events(Db::Workspace, "tool.failed").await,
                ),
                (
                    "memory",
                    team.ws_count("SELECT COUNT(*) FROM memory").await,
                    team.events(Db::Workspace, "tool.executed").await,
                ),
            ]
        },
    )
    .await;
    team.sweep(
        "approval.expire",
        Db::Workspace,
        |i| {
            let team = &team;
            async move {
                // The clock moves past session lifetimes between attempts: a fresh session.
                let bob = team.fx.sign_in("bob").await;
                team.file_request_as(&bob, &format!("expired{i:03}"))
                    .await
                    .unwrap();
                // Past the medium tier's four hours.
                team.fx.clock.advance_ms(5 * 60 * 60 * 1000);
            }
        },
        |_| {
            let team = &team;
            async move {
                let admin = team.fx.admin().await;
                team.fx
                    .instance
                    .list_approvals(&admin, team.ws, Some("pending"), &PageRequest::default())
                    .await
                    .map(drop)
            }
        },
        || async {
            vec![(
                "expired",
                team.ws_count("SELECT COUNT(*) FROM approvals WHERE status = 'expired'")
                    .await,
                team.events(Db::Workspace, "approval.expired").await,
            )]
        },
    )
    .await;
}

#[tokio::test]
async fn agents_runs_and_memory_commit_with_their_events() {
    let team = Team::new().await;
    team.sweep(
        "agent.create",
        Db::Workspace,
        |_| async {},
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .create_playbook_agent(&team.admin, team.ws, &playbook(&format!("a{i:03}")))
                    .await
                    .map(drop)
            }
        },
        || async {
            vec![(
                "agents",
                team.ws_count("SELECT COUNT(*) FROM agents").await,
                team.events(Db::Workspace, "agent.created").await,
            )]
        },
    )
    .await;
    team.sweep(
        "agent.delete",
        Db::Workspace,
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .create_playbook_agent(&team.admin, team.ws, &playbook(&format!("d{i:03}")))
                    .await
                    .unwrap();
            }
        },
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .delete_agent(&team.admin, team.ws, &format!("d{i:03}"))
                    .await
            }
        },
        || async {
            vec![(
                "deleted",
                -team.ws_count("SELECT COUNT(*) FROM agents").await,
                team.events(Db::Workspace, "agent.deleted").await,
            )]
        },
    )
    .await;
    team.fx
        .instance
        .create_playbook_agent(&team.admin, team.ws, &playbook("runner"))
        .await
        .unwrap();
    team.sweep(
        "run.start",
        Db::Workspace,
        |_| async {},
        |_| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .start_run(&team.bob, team.ws, "runner", "sweep", false)
                    .await
                    .map(drop)
            }
        },
        || async {
            vec![(
                "runs",
                team.ws_count("SELECT COUNT(*) FROM runs").await,
                team.events(Db::Workspace, "run.started").await,
            )]
        },
    )
    .await;
    let ids = Mutex::new(BTreeMap::new());
    team.sweep(
        "run.cancel",
        Db::Workspace,
        |i| {
            let (team, ids) = (&team, &ids);
            async move {
                let run = team
                    .fx
                    .instance
                    .start_run(&team.bob, team.ws, "runner", "to cancel", false)
                    .await
                    .unwrap();
                ids.lock().unwrap().insert(i, run.id);
            }
        },
        |i| {
            let id = ids.lock().unwrap()[&i].clone();
            let team = &team;
            async move {
                team.fx
                    .instance
                    .cancel_run(&team.bob, team.ws, &id)
                    .await
                    .map(drop)
            }
        },
        || async {
            vec![(
                "cancelled",
                team.ws_count("SELECT COUNT(*) FROM runs WHERE status = 'cancelled'")
                    .await,
                team.events(Db::Workspace, "run.cancelled").await,
            )]
        },
    )
    .await;
    team.fx
        .instance
        .enable_tool(&team.admin, team.ws, "memory", None)
        .await
        .unwrap();
    team.sweep(
        "memory.write",
        Db::Workspace,
        |_| async {},
        |i| {
            let team = &team;
            async move {
                team.fx
                    .instance
                    .write_memory(&team.admin, team.ws, &format!("note{i:03}"), "text")
                    .await
            }
        },
        || async {
            vec![(
                "entries",
                team.ws_count("SELECT COUNT(*) FROM memory").await,
                team.events(Db::Workspace, "memory.written").await,
            )]
        },
    )
    .await;
}
