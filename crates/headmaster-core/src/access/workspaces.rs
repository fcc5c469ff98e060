//! Workspaces: the registry in the instance database, and each workspace's own database file,
//! files folder and keys.

use serde::Serialize;
use sqlx::Row;

use super::BuiltinRole;
use crate::audit::{append, Actor, NewEvent, Outcome, Source};
use crate::error::{Error, Result};
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::store::{self, DbKind, Layout};
use crate::vault::seal::Aad;
use crate::vault::INSTANCE_SCOPE;

/// Blind-index field of workspace names.
const NAME_FIELD: &str = "workspaces.name";

/// A workspace as a member sees it in the switcher.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WorkspaceSummary {
    /// Workspace id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The user's role in it (built-in role title or custom role name).
    pub role: String,
}

impl Instance {
    /// Creates a workspace: keys, database file, files folder, registry row and the creator as
    /// its Admin, audited in the instance chain and the new workspace's own chain. Callers have
    /// passed the gate already (or are `init`).
    pub(crate) async fn create_workspace_record(
        &self,
        name: &str,
        creator: UserId,
        actor: &Actor,
        source: &Source,
    ) -> Result<WorkspaceId> {
        let name = crate::instance::validate_name("workspace name", name)?;
        let name_idx = self
            .vault
            .blind_index(INSTANCE_SCOPE, NAME_FIELD, &name.to_lowercase())
            .await?;
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM workspaces WHERE name_idx = ?")
                .bind(&name_idx)
                .fetch_optional(&self.pool)
                .await?;
        if taken.is_some() {
            return Err(Error::AlreadyExists {
                kind: "workspace",
                name,
            });
        }
        let id = WorkspaceId::new();
        let scope = id.to_string();
        self.vault.create_scope(&scope).await?;
        let result = self
            .finish_workspace(id, &name, &name_idx, creator, actor, source)
            .await;
        if result.is_err() {
            self.remove_workspace_files(id).await;
            let _ = sqlx::query("DELETE FROM wrapped_keys WHERE scope = ?")
                .bind(&scope)
                .execute(&self.pool)
                .await;
        }
        result.map(|_| id)
    }

    async fn finish_workspace(
        &self,
        id: WorkspaceId,
        name: &str,
        name_idx: &[u8],
        creator: UserId,
        actor: &Actor,
        source: &Source,
    ) -> Result<()> {
        let scope = id.to_string();
        std::fs::create_dir_all(self.layout.workspace_files(id)).map_err(|e| {
            store::StoreError::Directory {
                path: self.layout.workspace_files(id).display().to_string(),
                reason: format!("cannot create the workspace files folder: {e}"),
            }
        })?;
        if let Some(parent) = self.layout.workspace_db(id).parent() {
            std::fs::create_dir_all(parent).map_err(|e| store::StoreError::Directory {
                path: parent.display().to_string(),
                reason: format!("cannot create it: {e}"),
            })?;
        }
        let pool = store::open(&self.layout.workspace_db(id), DbKind::Workspace, true).await?;
        self.workspace_pools.lock().await.insert(id, pool);
        let sealed_name = self
            .vault
            .seal(
                &Aad::new(INSTANCE_SCOPE, "workspaces", "name", &scope),
                name.as_bytes(),
            )
            .await?;
        let now = self.now();
        let event = NewEvent::new(actor.clone(), "workspace.created", Outcome::Allowed, source)
            .target(id)
            .payload(serde_json::json!({ "workspace_id": scope, "creator": creator.to_string() }));
        let prepared = append::prepare(&self.vault, INSTANCE_SCOPE, event).await?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let inserted = sqlx::query(
            "INSERT INTO workspaces (id, name_idx, name, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&scope)
        .bind(name_idx)
        .bind(&sealed_name)
        .bind(now)
        .execute(&mut *tx)
        .await;
        if let Err(sqlx::Error::Database(e)) = &inserted {
            if e.is_unique_violation() {
                return Err(Error::AlreadyExists {
                    kind: "workspace",
                    name: name.to_string(),
                });
            }
        }
        inserted?;
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, added_by, added_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&scope)
            .bind(creator.to_string())
            .bind(BuiltinRole::Admin.name())
            .bind(creator.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        append::write(&mut tx, INSTANCE_SCOPE, &self.device, prepared, now).await?;
        tx.commit().await?;
        self.audit_workspace(
            id,
            NewEvent::new(actor.clone(), "workspace.created", Outcome::Allowed, source).target(id),
        )
        .await?;
        self.audit_workspace(
            id,
            NewEvent::new(actor.clone(), "member.added", Outcome::Allowed, source)
                .target(creator)
                .payload(serde_json::json!({ "user_id": creator.to_string(), "role": "admin" })),
        )
        .await?;
        Ok(())
    }

    /// Removes a workspace's database files and files folder (after its keys are gone).
    pub(crate) async fn remove_workspace_files(&self, id: WorkspaceId) {
        if let Some(pool) = self.workspace_pools.lock().await.remove(&id) {
            pool.close().await;
        }
        for file in Layout::database_files(&self.layout.workspace_db(id)) {
            let _ = std::fs::remove_file(file);
        }
        let _ = std::fs::remove_dir_all(self.layout.workspace_files(id));
    }

    /// The workspaces `user` is a member of, with their role, in creation order.
    pub(crate) async fn workspaces_of(&self, user: UserId) -> Result<Vec<WorkspaceSummary>> {
        let rows = sqlx::query(
            "SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
             WHERE m.user_id = ? ORDER BY w.created_at, w.id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get(0);
            let sealed: Vec<u8> = row.get(1);
            let role: String = row.get(2);
            let name = self
                .vault
                .open_string(
                    &Aad::new(INSTANCE_SCOPE, "workspaces", "name", &id),
                    &sealed,
                )
                .await?;
            out.push(WorkspaceSummary {
                id,
                name,
                role: self.role_title(&role).await?,
            });
        }
        Ok(out)
    }

    /// The display title of a stored role name (`admin` → `Admin`, `custom:<id>` → its name).
    pub(crate) async fn role_title(&self, stored: &str) -> Result<String> {
        if let Some(role) = BuiltinRole::parse(stored) {
            return Ok(role.title().to_string());
        }
        Ok(stored.to_string())
    }
}
