//! Events that cross from the instance database into a workspace's chain.
//!
//! Memberships and key versions live in the instance database, but a workspace's Admins read
//! their history in the workspace's own chain. SQLite makes no transaction atomic across two
//! database files in WAL mode, so such an event travels in two steps:
//!
//! 1. inside the instance transaction that makes the change, the event is written, sealed under
//!    the instance data key, as an *intent* row (`audit_intents`);
//! 2. after that commit, [`Instance::deliver_intents`] appends it to the workspace chain
//!    together with a `delivered_intents` marker in one workspace transaction, then deletes the
//!    intent.
//!
//! What is guaranteed: the change and its record commit together (step 1 is one transaction);
//! the record reaches the workspace chain exactly once, at the latest at the next start or
//! maintenance pass after a crash or a failed write (the marker makes step 2 idempotent, and
//! two processes delivering at once serialise on the workspace's write lock). An intent for a
//! workspace that has since been deleted is dropped: the deletion is in the instance chain.

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

use super::append;
use super::{Actor, ActorKind, AuditError, Correlation, NewEvent, Outcome, Source};
use crate::error::Result;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;
use crate::vault::seal::Aad;
use crate::vault::{Vault, INSTANCE_SCOPE};

/// A sealed event waiting for its workspace chain.
#[derive(Debug)]
pub(crate) struct Intent {
    id: String,
    workspace: WorkspaceId,
    sealed: Vec<u8>,
    created_at: i64,
}

/// The stored form of the event inside an intent.
#[derive(Serialize, Deserialize)]
struct Body {
    actor_kind: String,
    actor_id: String,
    action: String,
    target: String,
    outcome: Outcome,
    source: Source,
    run_id: String,
    step_id: String,
    approval_id: String,
    payload: serde_json::Value,
}

impl Intent {
    /// Seals `event` for `workspace`'s chain. Call before the instance transaction opens.
    pub(crate) async fn seal(
        vault: &Vault,
        workspace: WorkspaceId,
        event: &NewEvent,
        now: i64,
    ) -> Result<Self> {
        let id = uuid::Uuid::now_v7().to_string();
        let body = Body {
            actor_kind: event.actor.kind.as_str().to_string(),
            actor_id: event.actor.id.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            outcome: event.outcome,
            source: event.source.clone(),
            run_id: event.correlation.run_id.clone(),
            step_id: event.correlation.step_id.clone(),
            approval_id: event.correlation.approval_id.clone(),
            payload: event.payload.clone(),
        };
        let json = serde_json::to_vec(&body).map_err(|e| AuditError::Invalid(e.to_string()))?;
        let sealed = vault.seal(&aad(&id), &json).await?;
        Ok(Self {
            id,
            workspace,
            sealed,
            created_at: now,
        })
    }

    /// Writes the intent inside the instance transaction of the change it records.
    pub(crate) async fn insert(&self, conn: &mut SqliteConnection) -> Result<(), AuditError> {
        sqlx::query(
            "INSERT INTO audit_intents (id, workspace_id, event, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&self.id)
        .bind(self.workspace.to_string())
        .bind(&self.sealed)
        .bind(self.created_at)
        .execute(conn)
        .await?;
        Ok(())
    }
}

fn aad(id: &str) -> Aad<'_> {
    Aad::new(INSTANCE_SCOPE, "audit_intents", "event", id)
}

impl Instance {
    /// Appends every waiting intent to its workspace chain in the order they were written; returns how many
    /// were delivered. Runs after each relaying change, at every start and in maintenance.
    pub(crate) async fn deliver_intents(&self) -> Result<usize> {
        let rows = sqlx::query_as::<_, (String, String, Vec<u8>)>(
            "SELECT id, workspace_id, event FROM audit_intents ORDER BY rowid",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut delivered = 0;
        for (id, workspace, sealed) in rows {
            let workspace: WorkspaceId = workspace.parse().map_err(|_| {
                AuditError::Invalid(format!("audit intent {id} names no workspace"))
            })?;
            let registered: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM workspaces WHERE id = ?")
                    .bind(workspace.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
            if registered.is_some() {
                let event = self.open_intent(&id, &sealed).await?;
                self.deliver_one(&id, workspace, event).await?;
                delivered += 1;
            }
            sqlx::query("DELETE FROM audit_intents WHERE id = ?")
                .bind(&id)
                .execute(&self.pool)
                .await?;
        }
        Ok(delivered)
    }

    async fn open_intent(&self, id: &str, sealed: &[u8]) -> Result<NewEvent> {
        let json = self.vault.open(&aad(id), sealed).await?;
        let body: Body = body::decode("audit intent", id, &json)?;
        let kind = ActorKind::parse(&body.actor_kind).ok_or_else(|| {
            AuditError::Invalid(format!(
                "audit intent {id} names an unknown actor kind {:?}",
                body.actor_kind
            ))
        })?;
        Ok(NewEvent {
            actor: Actor {
                kind,
                id: body.actor_id,
            },
            action: body.action,
            target: body.target,
            outcome: body.outcome,
            source: body.source,
            correlation: Correlation {
                run_id: body.run_id,
                step_id: body.step_id,
                approval_id: body.approval_id,
            },
            payload: body.payload,
        })
    }

    async fn deliver_one(&self, id: &str, workspace: WorkspaceId, event: NewEvent) -> Result<()> {
        let scope = workspace.to_string();
        let prepared = append::prepare(&self.vault, &scope, event).await?;
        let pool = self.workspace_pool(workspace).await?;
        let mut tx = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(AuditError::from)?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM delivered_intents WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(AuditError::from)?;
        if done.is_none() {
            let seq = append::write(&mut tx, &scope, &self.device, prepared, self.now()).await?;
            sqlx::query("INSERT INTO delivered_intents (id, seq) VALUES (?, ?)")
                .bind(id)
                .bind(seq as i64)
                .execute(&mut *tx)
                .await
                .map_err(AuditError::from)?;
        }
        tx.commit().await.map_err(AuditError::from)?;
        Ok(())
    }
}
