//! Workspace membership: add, change role, remove, list. A role can be assigned only by someone
//! who holds every capability in it, and the last Admin of a workspace cannot be removed or
//! demoted.

use serde::Serialize;

use super::{Capability, Role, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::identity::{users, Session};
use crate::ids::WorkspaceId;
use crate::instance::Instance;

/// A member as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct MemberSummary {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Role title.
    pub role: String,
    /// Capability names the role grants.
    pub capabilities: Vec<&'static str>,
    /// Whether the account is disabled.
    pub disabled: bool,
}

impl Instance {
    /// Adds `username` to the workspace with `role`.
    pub async fn add_member(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        username: &str,
        role: &str,
    ) -> Result<()> {
        let auth = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                Capability::MemberManage,
                "member.add",
            )
            .await?;
        let (stored, title, caps) = self.role_by_name(role).await?;
        if !caps.is_subset_of(&auth.capabilities) {
            return Err(self.grant_refused(session, "member.add", &title).await?);
        }
        let user = self.user_by_name(username).await?;
        if self
            .member_role(workspace, &user.id.to_string())
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists {
                kind: "member",
                name: username.to_string(),
            });
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "member.added",
            Outcome::Allowed,
            &session.source,
        )
        .target(user.id)
        .payload(serde_json::json!({ "user_id": user.id.to_string(), "role": stored }));
        let mut tx = self
            .begin_change_relaying(Vec::new(), vec![(workspace, event)])
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, added_by, added_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(workspace.to_string())
        .bind(user.id.to_string())
        .bind(&stored)
        .bind(session.user_id.to_string())
        .bind(self.now())
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => tx.commit().await,
            Err(e) => {
                // A concurrent add won the race: nothing changed, and the attempt is recorded.
                drop(tx);
                let error = match &e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => Error::AlreadyExists {
                        kind: "member",
                        name: username.to_string(),
                    },
                    _ => e.into(),
                };
                self.record_member_failure(session, workspace, "member.add_failed", &error)
                    .await?;
                Err(error)
            }
        }
    }

    /// Changes a member's role. Nobody changes the role of a member who holds capabilities
    /// they lack themselves, and the last Admin cannot be demoted — checked again atomically by
    /// the update itself, so two Admins stepping down at once cannot both succeed.
    pub async fn set_member_role(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        username: &str,
        role: &str,
    ) -> Result<()> {
        let auth = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                Capability::MemberManage,
                "member.set_role",
            )
            .await?;
        let (stored, title, caps) = self.role_by_name(role).await?;
        if !caps.is_subset_of(&auth.capabilities) {
            return Err(self
                .grant_refused(session, "member.set_role", &title)
                .await?);
        }
        let user = self.user_by_name(username).await?;
        let current = self
            .existing_member(workspace, &user.id.to_string(), username)
            .await?;
        let (current_title, current_caps) = self.resolve_role(&current).await?;
        if !current_caps.is_subset_of(&auth.capabilities) {
            return Err(self
                .grant_refused(session, "member.set_role", &current_title)
                .await?);
        }
        if current == Role::Admin.name() && stored != current {
            self.ensure_not_last_admin(workspace, username).await?;
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "member.role_changed",
            Outcome::Allowed,
            &session.source,
        )
        .target(user.id)
        .payload(
            serde_json::json!({ "user_id": user.id.to_string(), "from": current, "to": stored }),
        );
        let mut tx = self
            .begin_change_relaying(Vec::new(), vec![(workspace, event)])
            .await?;
        let changed = sqlx::query(
            "UPDATE memberships SET role = ?1 WHERE workspace_id = ?2 AND user_id = ?3 AND role = ?4
               AND (?4 <> 'admin' OR ?1 = 'admin'
                    OR (SELECT COUNT(*) FROM memberships WHERE workspace_id = ?2 AND role = 'admin') > 1)",
        )
        .bind(&stored)
        .bind(workspace.to_string())
        .bind(user.id.to_string())
        .bind(&current)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            drop(tx);
            let error = Error::Conflict(format!(
                "{username}'s role changed meanwhile, or they became the workspace's last Admin; nothing was changed"
            ));
            self.record_member_failure(session, workspace, "member.role_change_failed", &error)
                .await?;
            return Err(error);
        }
        tx.commit().await
    }

    /// Removes a member (same rules as changing their role).
    pub async fn remove_member(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        username: &str,
    ) -> Result<()> {
        let auth = self
            .authorize(
                session,
                Scope::Workspace(workspace),
                Capability::MemberManage,
                "member.remove",
            )
            .await?;
        let user = self.user_by_name(username).await?;
        let current = self
            .existing_member(workspace, &user.id.to_string(), username)
            .await?;
        let (current_title, current_caps) = self.resolve_role(&current).await?;
        if !current_caps.is_subset_of(&auth.capabilities) {
            return Err(self
                .grant_refused(session, "member.remove", &current_title)
                .await?);
        }
        if current == Role::Admin.name() {
            self.ensure_not_last_admin(workspace, username).await?;
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "member.removed",
            Outcome::Allowed,
            &session.source,
        )
        .target(user.id)
        .payload(serde_json::json!({ "user_id": user.id.to_string(), "role": current }));
        let mut tx = self
            .begin_change_relaying(Vec::new(), vec![(workspace, event)])
            .await?;
        let removed = sqlx::query(
            "DELETE FROM memberships WHERE workspace_id = ?1 AND user_id = ?2 AND role = ?3
               AND (?3 <> 'admin' OR (SELECT COUNT(*) FROM memberships WHERE workspace_id = ?1 AND role = 'admin') > 1)",
        )
        .bind(workspace.to_string())
        .bind(user.id.to_string())
        .bind(&current)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed != 1 {
            drop(tx);
            let error = Error::Conflict(format!(
                "{username}'s role changed meanwhile, or they became the workspace's last Admin; nothing was changed"
            ));
            self.record_member_failure(session, workspace, "member.remove_failed", &error)
                .await?;
            return Err(error);
        }
        tx.commit().await
    }

    async fn existing_member(
        &self,
        workspace: WorkspaceId,
        user_id: &str,
        username: &str,
    ) -> Result<String> {
        self.member_role(workspace, user_id)
            .await?
            .ok_or_else(|| Error::NotFound {
                kind: "member",
                name: username.to_string(),
                hint: "; `headmaster member list` shows the members".into(),
            })
    }

    /// Lists the members of a workspace.
    pub async fn list_members(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<MemberSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "member.list",
        )
        .await?;
        let rows = sqlx::query_as::<_, (String, String)>(
            "SELECT m.user_id, m.role FROM memberships m WHERE m.workspace_id = ? ORDER BY m.added_at, m.user_id",
        )
        .bind(workspace.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (user_id, stored) in rows {
            let mut conn = self.pool.acquire().await?;
            let Some(user) = users::find_by_id(
                &mut conn,
                user_id
                    .parse()
                    .map_err(|_| Error::Conflict("bad user id".into()))?,
            )
            .await?
            else {
                continue;
            };
            drop(conn);
            let (title, caps) = self.resolve_role(&stored).await?;
            out.push(MemberSummary {
                user_id,
                username: users::username(&self.vault, &user).await?,
                role: title,
                capabilities: caps.names(),
                disabled: user.disabled_at.is_some(),
            });
        }
        Ok(out)
    }

    async fn member_role(&self, workspace: WorkspaceId, user_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?",
        )
        .bind(workspace.to_string())
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn ensure_not_last_admin(&self, workspace: WorkspaceId, username: &str) -> Result<()> {
        let admins: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND role = 'admin'",
        )
        .bind(workspace.to_string())
        .fetch_one(&self.pool)
        .await?;
        if admins <= 1 {
            return Err(Error::Conflict(format!(
                "{username} is the workspace's last Admin; make another member an Admin first"
            )));
        }
        Ok(())
    }

    async fn record_member_failure(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        action: &str,
        error: &Error,
    ) -> Result<()> {
        self.record(
            Scope::Workspace(workspace),
            NewEvent::new(
                Actor::user(session.user_id),
                action,
                Outcome::Failed,
                &session.source,
            )
            .payload(serde_json::json!({ "error": error.code() })),
        )
        .await
    }
}
