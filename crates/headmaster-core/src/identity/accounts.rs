//! Managing accounts (organisation scope): add, list, disable, enable, change org role.

use crate::access::RoleCapabilities;
use crate::access::{Capability, Role, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::identity::password::{check_password, normalize_username};
use crate::identity::users::{self, NewUser, UserRecord};
use crate::identity::{Session, UserSummary};
use crate::ids::UserId;
use crate::instance::Instance;
use crate::vault::keys::SecretBytes;

impl Instance {
    /// Adds a user with an organisation role (default Viewer: signs in and sees the workspaces
    /// they are made a member of).
    pub async fn add_user(
        &self,
        session: &Session,
        username: &str,
        password: &SecretBytes,
        org_role: Role,
    ) -> Result<UserSummary> {
        let auth = self
            .authorize(session, Scope::Org, Capability::OrgUsers, "user.add")
            .await?;
        if !org_role.capabilities().is_subset_of(&auth.capabilities) {
            return Err(self
                .grant_refused(session, "user.add", org_role.title())
                .await?);
        }
        let username = normalize_username(username)?;
        check_password(password)?;
        let id = UserId::new();
        let new_user = NewUser::prepare(&self.vault, id, &username, password, org_role).await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "user.created",
            Outcome::Allowed,
            &session.source,
        )
        .target(id)
        .payload(serde_json::json!({ "user_id": id.to_string(), "org_role": org_role.name() }));
        let now = self.now();
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        new_user.insert(&mut tx, now).await?;
        tx.commit().await?;
        Ok(UserSummary {
            id: id.to_string(),
            username,
            org_role: org_role.title().to_string(),
            disabled: false,
            locked: false,
        })
    }

    /// Lists every account.
    pub async fn list_users(&self, session: &Session) -> Result<Vec<UserSummary>> {
        self.authorize(session, Scope::Org, Capability::OrgUsers, "user.list")
            .await?;
        let mut conn = self.pool.acquire().await?;
        let records = users::all(&mut conn).await?;
        drop(conn);
        let now = self.now();
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(UserSummary {
                id: record.id.to_string(),
                username: users::username(&self.vault, &record).await?,
                org_role: record.org_role.title().to_string(),
                disabled: record.disabled_at.is_some(),
                locked: record.locked_until.is_some_and(|t| t > now),
            });
        }
        Ok(out)
    }

    /// Disables an account and ends its sessions. The last enabled organisation Admin cannot be
    /// disabled.
    pub async fn disable_user(&self, session: &Session, username: &str) -> Result<()> {
        self.authorize(session, Scope::Org, Capability::OrgUsers, "user.disable")
            .await?;
        let user = self.user_by_name(username).await?;
        if user.disabled_at.is_some() {
            return Ok(());
        }
        if user.org_role == Role::Admin && self.enabled_org_admins().await? <= 1 {
            return Err(Error::Conflict(
                "this is the organisation's last enabled Admin; make another user an Admin first"
                    .into(),
            ));
        }
        let now = self.now();
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "user.disabled",
            Outcome::Allowed,
            &session.source,
        )
        .target(user.id)
        .payload(serde_json::json!({ "user_id": user.id.to_string() }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        // Checked again under the write lock: two Admins disabling each other cannot both win.
        let disabled = sqlx::query(
            "UPDATE users SET disabled_at = ? WHERE id = ? AND (org_role <> 'admin' OR
                (SELECT COUNT(*) FROM users WHERE org_role = 'admin' AND disabled_at IS NULL AND erased_at IS NULL) > 1)",
        )
        .bind(now)
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if disabled != 1 {
            return Err(Error::Conflict(
                "this is the organisation's last enabled Admin; make another user an Admin first"
                    .into(),
            ));
        }
        sqlx::query("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL")
            .bind(now)
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Re-enables an account (and lifts a lockout).
    pub async fn enable_user(&self, session: &Session, username: &str) -> Result<()> {
        self.authorize(session, Scope::Org, Capability::OrgUsers, "user.enable")
            .await?;
        let user = self.user_by_name(username).await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "user.enabled",
            Outcome::Allowed,
            &session.source,
        )
        .target(user.id)
        .payload(serde_json::json!({ "user_id": user.id.to_string() }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        sqlx::query("UPDATE users SET disabled_at = NULL, locked_until = NULL, failed_count = 0 WHERE id = ?")
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a user's organisation role. The last organisation Admin cannot be demoted.
    pub async fn set_org_role(&self, session: &Session, username: &str, role: Role) -> Result<()> {
        let auth = self
            .authorize(session, Scope::Org, Capability::OrgUsers, "user.set_role")
            .await?;
        if !role.capabilities().is_subset_of(&auth.capabilities) {
            return Err(self
                .grant_refused(session, "user.set_role", role.title())
                .await?);
        }
        let user = self.user_by_name(username).await?;
        if user.org_role == Role::Admin
            && role != Role::Admin
            && self.enabled_org_admins().await? <= 1
        {
            return Err(Error::Conflict(
                "this is the organisation's last Admin; make another user an Admin first".into(),
            ));
        }
        let event = NewEvent::new(Actor::user(session.user_id), "user.role_changed", Outcome::Allowed, &session.source)
            .target(user.id)
            .payload(serde_json::json!({ "user_id": user.id.to_string(), "from": user.org_role.name(), "to": role.name() }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        let changed = sqlx::query(
            "UPDATE users SET org_role = ?1 WHERE id = ?2 AND (org_role <> 'admin' OR ?1 = 'admin' OR
                (SELECT COUNT(*) FROM users WHERE org_role = 'admin' AND disabled_at IS NULL AND erased_at IS NULL) > 1)",
        )
        .bind(role.name())
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(Error::Conflict(
                "this is the organisation's last Admin; make another user an Admin first".into(),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// A user by username; unknown or erased users are `NotFound`.
    pub(crate) async fn user_by_name(&self, username: &str) -> Result<UserRecord> {
        let not_found = || Error::NotFound {
            kind: "user",
            name: username.to_string(),
            hint: "; list users with `headmaster user list`".into(),
        };
        let normalized = normalize_username(username).map_err(|_| not_found())?;
        let mut conn = self.pool.acquire().await?;
        users::find_by_username(&self.vault, &mut conn, &normalized)
            .await?
            .filter(|u| u.erased_at.is_none())
            .ok_or_else(not_found)
    }

    async fn enabled_org_admins(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE org_role = 'admin' AND disabled_at IS NULL AND erased_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}
