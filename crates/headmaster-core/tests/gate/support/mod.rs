//! The gate fixture: an instance with its first workspace and the Admin signed in, helpers to
//! add members with a role, change the policy, propose and decide calls, and read the
//! workspace's audit chain both raw (what is stored) and decrypted (what the payloads say).

#[path = "../../shared/audit.rs"]
mod audit;
pub mod http;
#[path = "../../shared/smtp.rs"]
pub mod smtp;

use std::path::PathBuf;
use std::time::Duration;

use headmaster_core::access::Role;
use headmaster_core::approvals::{ApprovalDecision, DecisionResult};
use headmaster_core::audit::AuditEntry;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::store::Layout;
use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
use headmaster_core::{Error, Instance, Result, Session};
use serde_json::Value;
use sqlx::SqlitePool;

use crate::common::{secret, Fixture, PASSWORD};

/// How long any wait on a condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// An instance, its first workspace, and its Admin (`alice`) signed in.
pub struct Gate {
    pub fx: Fixture,
    pub ws: WorkspaceId,
    pub admin: Session,
    raw: SqlitePool,
}

/// One audit event as stored (the clear columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub seq: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub approval_id: String,
}

impl Gate {
    pub async fn new() -> Self {
        let fx = Fixture::new().await;
        let admin = fx.admin().await;
        let ws = fx.first_workspace(&admin).await;
        let raw = fx.raw_workspace(ws).await;
        Self { fx, ws, admin, raw }
    }

    pub fn instance(&self) -> &Instance {
        &self.fx.instance
    }

    /// The workspace files folder (the only place tools may write).
    pub fn files(&self) -> PathBuf {
        Layout::new(self.fx.home()).workspace_files(self.ws)
    }

    /// The files folder, created.
    pub fn files_created(&self) -> PathBuf {
        let dir = self.files();
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Adds a user (organisation Viewer) who is a member of the workspace with `role`, and signs
    /// them in.
    pub async fn member(&self, name: &str, role: Role) -> Session {
        self.instance()
            .add_user(&self.admin, name, &secret(PASSWORD), Role::Viewer)
            .await
            .unwrap();
        self.instance()
            .add_member(&self.admin, self.ws, name, role.name())
            .await
            .unwrap();
        self.fx.sign_in(name).await
    }

    /// Enables a tool or action (as the Admin).
    pub async fn enable(&self, target: &str) {
        self.instance()
            .enable_tool(&self.admin, self.ws, target, None)
            .await
            .unwrap();
    }

    /// Sets a tool's or action's base tier (as the Admin).
    pub async fn set_tier(&self, target: &str, tier: &str) {
        self.instance()
            .set_tool_tier(&self.admin, self.ws, target, tier)
            .await
            .unwrap();
    }

    /// Configures a tool (as the Admin).
    pub async fn configure(&self, tool: &str, pairs: &[(&str, &str)]) {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.instance()
            .configure_tool(&self.admin, self.ws, tool, &pairs)
            .await
            .unwrap();
    }

    /// Proposes a call as `session` (the person themselves).
    pub async fn propose(
        &self,
        session: &Session,
        action: &str,
        args: Value,
    ) -> Result<CallOutcome> {
        self.propose_as(session, action, args, Proposer::User).await
    }

    /// Proposes a call as `session` or their agent.
    pub async fn propose_as(
        &self,
        session: &Session,
        action: &str,
        args: Value,
        proposer: Proposer,
    ) -> Result<CallOutcome> {
        self.instance()
            .propose_call(
                session,
                self.ws,
                CallRequest {
                    action: action.to_string(),
                    args,
                    reasoning: Some(format!("gate test proposes {action}")),
                    proposer,
                },
            )
            .await
    }

    /// Approves (or confirms) a request as `session`.
    pub async fn approve(&self, session: &Session, id: &str) -> Result<DecisionResult> {
        self.instance()
            .decide_approval(session, self.ws, id, ApprovalDecision::Approve, None)
            .await
    }

    /// Rejects a request as `session`.
    pub async fn reject(
        &self,
        session: &Session,
        id: &str,
        comment: &str,
    ) -> Result<DecisionResult> {
        self.instance()
            .decide_approval(
                session,
                self.ws,
                id,
                ApprovalDecision::Reject,
                Some(comment),
            )
            .await
    }

    /// A raw pool on the workspace database (what is stored, bypassing the core).
    pub fn raw(&self) -> &SqlitePool {
        &self.raw
    }

    /// The newest sequence number of the workspace chain (0 when empty).
    pub async fn mark(&self) -> i64 {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_events")
            .fetch_one(&self.raw)
            .await
            .unwrap()
    }

    /// The workspace chain's events after `seq`, oldest first (raw SQL).
    pub async fn events_after(&self, seq: i64) -> Vec<Event> {
        let rows: Vec<(i64, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, actor_kind, actor_id, action, target, outcome, approval_id FROM audit_events WHERE seq > ? ORDER BY seq",
        )
        .bind(seq)
        .fetch_all(&self.raw)
        .await
        .unwrap();
        rows.into_iter()
            .map(
                |(seq, actor_kind, actor_id, action, target, outcome, approval_id)| Event {
                    seq,
                    actor_kind,
                    actor_id,
                    action,
                    target,
                    outcome,
                    approval_id,
                },
            )
            .collect()
    }

    /// Every event of the workspace chain, decrypted through `query_audit`, oldest first.
    pub async fn entries(&self) -> Vec<AuditEntry> {
        audit::all_entries(self.instance(), &self.admin, self.ws).await
    }

    /// Decrypted events after `seq` with this action.
    pub async fn entries_after(&self, seq: i64, action: &str) -> Vec<AuditEntry> {
        self.entries()
            .await
            .into_iter()
            .filter(|e| e.seq as i64 > seq && e.action == action)
            .collect()
    }

    /// A request's stored status (raw SQL).
    pub async fn status(&self, id: &str) -> String {
        sqlx::query_scalar("SELECT status FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_one(&self.raw)
            .await
            .unwrap()
    }
}

/// The events with this action and outcome.
pub fn having<'a>(events: &'a [Event], action: &str, outcome: &str) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| e.action == action && e.outcome == outcome)
        .collect()
}

/// The actions of `events`, in order.
pub fn actions(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.action.as_str()).collect()
}

/// The request id of a pending outcome (panics on anything else).
pub fn pending_id(outcome: &CallOutcome) -> String {
    match outcome {
        CallOutcome::Pending { approval_id, .. } => approval_id.clone(),
        other => panic!("expected a pending request, got {other:?}"),
    }
}

/// The tier and quorum of a pending outcome (panics on anything else).
pub fn pending_tier(outcome: &CallOutcome) -> (String, u8) {
    match outcome {
        CallOutcome::Pending { tier, quorum, .. } => (tier.to_string(), *quorum),
        other => panic!("expected a pending request, got {other:?}"),
    }
}

/// The output of an executed outcome (panics on anything else).
pub fn executed(outcome: &CallOutcome) -> &Value {
    match outcome {
        CallOutcome::Executed { output, .. } => output,
        other => panic!("expected an executed call, got {other:?}"),
    }
}

/// The reasons of a denied outcome (panics on anything else).
pub fn denied(outcome: &CallOutcome) -> &[String] {
    match outcome {
        CallOutcome::Denied { reasons } => reasons,
        other => panic!("expected a denial, got {other:?}"),
    }
}

/// The tool's error code of a failed execution (panics on any other error).
pub fn tool_code(error: &Error) -> &str {
    match error {
        Error::ToolFailed { code, .. } => code,
        other => panic!("expected a tool failure, got {other:?}"),
    }
}
