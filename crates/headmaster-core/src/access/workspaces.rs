//! Workspaces: the registry in the instance database, and each workspace's own database file,
//! files folder and keys.

use serde::Serialize;

use super::{Capability, Role, Scope};
use crate::access::RoleCapabilities;
use crate::audit::{Actor, NewEvent, Outcome, Source};
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;
use crate::store::{self, DbKind, Layout};
use crate::vault::seal::Aad;
use crate::vault::INSTANCE_SCOPE;

/// Blind-index field of workspace names.
const NAME_FIELD: &str = "workspaces.name";

/// A workspace as a member sees it in the switcher.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct WorkspaceSummary {
    /// Workspace id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The user's role in it (built-in role title or custom role name).
    pub role: String,
    /// The capabilities that role grants (the UI hides what the role cannot do).
    pub capabilities: Vec<&'static str>,
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
        let relayed = vec![
            (
                id,
                NewEvent::new(actor.clone(), "workspace.created", Outcome::Allowed, source)
                    .target(id),
            ),
            (
                id,
                NewEvent::new(actor.clone(), "member.added", Outcome::Allowed, source)
                    .target(creator)
                    .payload(
                        serde_json::json!({ "user_id": creator.to_string(), "role": "admin" }),
                    ),
            ),
        ];
        let mut tx = self.begin_change_relaying(vec![event], relayed).await?;
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
            .bind(Role::Admin.name())
            .bind(creator.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
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
        let rows = sqlx::query_as::<_, (String, Vec<u8>, String)>(
            "SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
             WHERE m.user_id = ? ORDER BY w.created_at, w.id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, sealed, role) in rows {
            let name = self
                .vault
                .open_string(
                    &Aad::new(INSTANCE_SCOPE, "workspaces", "name", &id),
                    &sealed,
                )
                .await?;
            let (role, capabilities) = self.resolve_role(&role).await?;
            out.push(WorkspaceSummary {
                id,
                name,
                role,
                capabilities: capabilities.names(),
            });
        }
        Ok(out)
    }

    /// A workspace's name (no gate: callers have passed it).
    pub(crate) async fn workspace_name(&self, workspace: WorkspaceId) -> Result<String> {
        let scope = workspace.to_string();
        let sealed: Vec<u8> = sqlx::query_scalar("SELECT name FROM workspaces WHERE id = ?")
            .bind(&scope)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("workspace", &scope))?;
        Ok(self
            .vault
            .open_string(
                &Aad::new(INSTANCE_SCOPE, "workspaces", "name", &scope),
                &sealed,
            )
            .await?)
    }

    /// Creates a workspace; the caller becomes its Admin.
    pub async fn create_workspace(
        &self,
        session: &Session,
        name: &str,
    ) -> Result<WorkspaceSummary> {
        self.authorize(
            session,
            Scope::Org,
            Capability::OrgWorkspaces,
            "workspace.create",
        )
        .await?;
        let id = self
            .create_workspace_record(
                name,
                session.user_id,
                &Actor::user(session.user_id),
                &session.source,
            )
            .await?;
        Ok(WorkspaceSummary {
            id: id.to_string(),
            name: crate::instance::validate_name("workspace name", name)?,
            role: Role::Admin.title().to_string(),
            capabilities: Role::Admin.capabilities().names(),
        })
    }

    /// The workspaces the caller is a member of. Nobody sees the others, Admins included.
    pub async fn list_workspaces(&self, session: &Session) -> Result<Vec<WorkspaceSummary>> {
        self.session_state(session.id, &session.source).await?;
        self.workspaces_of(session.user_id).await
    }

    /// Finds one of the caller's workspaces by name (case-insensitive) or id; with no name, the
    /// first one. Workspaces the caller is not a member of are not found.
    pub async fn resolve_workspace(
        &self,
        session: &Session,
        name: Option<&str>,
    ) -> Result<WorkspaceSummary> {
        let mine = self.list_workspaces(session).await?;
        let found = match name {
            None => mine.into_iter().next(),
            Some(name) => mine
                .into_iter()
                .find(|w| w.name.eq_ignore_ascii_case(name.trim()) || w.id == name.trim()),
        };
        found.ok_or_else(|| Error::NotFound {
            kind: "workspace",
            name: name.unwrap_or("(any)").to_string(),
            hint: "; `headmaster workspace list` shows the workspaces you are a member of".into(),
        })
    }

    /// Renames a workspace.
    pub async fn rename_workspace(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        new_name: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceManage,
            "workspace.rename",
        )
        .await?;
        let name = crate::instance::validate_name("workspace name", new_name)?;
        let name_idx = self
            .vault
            .blind_index(INSTANCE_SCOPE, NAME_FIELD, &name.to_lowercase())
            .await?;
        let scope = workspace.to_string();
        let sealed = self
            .vault
            .seal(
                &Aad::new(INSTANCE_SCOPE, "workspaces", "name", &scope),
                name.as_bytes(),
            )
            .await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "workspace.renamed",
            Outcome::Allowed,
            &session.source,
        )
        .target(workspace);
        let relayed = (workspace, event.clone());
        let mut tx = self
            .begin_change_relaying(vec![event], vec![relayed])
            .await?;
        let updated = sqlx::query("UPDATE workspaces SET name = ?, name_idx = ? WHERE id = ?")
            .bind(&sealed)
            .bind(&name_idx)
            .bind(&scope)
            .execute(&mut *tx)
            .await;
        if let Err(sqlx::Error::Database(e)) = &updated {
            if e.is_unique_violation() {
                return Err(Error::AlreadyExists {
                    kind: "workspace",
                    name,
                });
            }
        }
        updated?;
        tx.commit().await
    }

    /// Deletes a workspace: its keys are destroyed first (so its data is unreadable even if a
    /// file copy survives), then its database and files, then its registry row and memberships.
    /// The deletion is recorded in the instance chain.
    pub async fn delete_workspace(&self, session: &Session, workspace: WorkspaceId) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceManage,
            "workspace.delete",
        )
        .await?;
        let scope = workspace.to_string();
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "workspace.deleted",
            Outcome::Allowed,
            &session.source,
        )
        .target(workspace)
        .payload(serde_json::json!({ "workspace_id": scope }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        sqlx::query("DELETE FROM audit_intents WHERE workspace_id = ?")
            .bind(&scope)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM wrapped_keys WHERE scope = ?")
            .bind(&scope)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM memberships WHERE workspace_id = ?")
            .bind(&scope)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM workspaces WHERE id = ?")
            .bind(&scope)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        store::checkpoint_truncate(&self.pool).await?;
        self.vault.forget_scope(&scope).await;
        self.remove_workspace_files(workspace).await;
        Ok(())
    }
}
