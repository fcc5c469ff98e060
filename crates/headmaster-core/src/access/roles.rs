//! Custom roles: named subsets of capabilities, defined organisation-wide by an Admin and
//! assigned per workspace like the built-in roles. Nobody can define a role holding a
//! capability they do not hold themselves.

use serde::Serialize;

use super::{Capability, CapabilitySet, Role, Scope};
use crate::access::RoleCapabilities;
use crate::audit::{Actor, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::{RoleId, WorkspaceId};
use crate::instance::{validate_name, Instance};
use crate::vault::seal::Aad;
use crate::vault::INSTANCE_SCOPE;

/// Stored role names of custom roles are `custom:<id>`.
pub(crate) const CUSTOM_PREFIX: &str = "custom:";
const NAME_FIELD: &str = "roles.name";

/// A role as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RoleSummary {
    /// `viewer`…`admin` for built-in roles, the id for custom ones.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether it is one of the four built-in roles.
    pub builtin: bool,
    /// Capability names.
    pub capabilities: Vec<&'static str>,
}

/// A custom role.
#[derive(Debug, Clone)]
pub(crate) struct CustomRole {
    pub id: String,
    pub name: String,
    pub capabilities: CapabilitySet,
}

impl Instance {
    /// Defines a custom role.
    pub async fn create_role(
        &self,
        session: &Session,
        name: &str,
        capabilities: &[String],
    ) -> Result<RoleSummary> {
        let auth = self
            .authorize(session, Scope::Org, Capability::OrgRoles, "role.create")
            .await?;
        let name = validate_name("role name", name)?;
        if Role::parse(&name).is_some() {
            return Err(Error::AlreadyExists { kind: "role", name });
        }
        let caps = CapabilitySet::parse_names(capabilities).map_err(Error::InvalidInput)?;
        if caps.is_empty() {
            return Err(Error::InvalidInput(
                "a role needs at least one capability".into(),
            ));
        }
        if !caps.is_subset_of(&auth.capabilities) {
            let missing = caps.difference(&auth.capabilities).names().join(", ");
            self.grant_refused(session, "role.create", &name).await?;
            return Err(Error::Forbidden {
                action: "role.create".into(),
                capability: missing,
                role: auth.role,
            });
        }
        let id = RoleId::new().to_string();
        let name_idx = self
            .vault
            .blind_index(INSTANCE_SCOPE, NAME_FIELD, &name.to_lowercase())
            .await?;
        let sealed = self
            .vault
            .seal(
                &Aad::new(INSTANCE_SCOPE, "roles", "name", &id),
                name.as_bytes(),
            )
            .await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "role.created",
            Outcome::Allowed,
            &session.source,
        )
        .target(&id)
        .payload(serde_json::json!({ "role_id": id, "capabilities": caps.names() }));
        let now = self.now();
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        let inserted = sqlx::query(
            "INSERT INTO roles (id, name_idx, name, capabilities, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&name_idx)
        .bind(&sealed)
        .bind(caps.names().join(","))
        .bind(session.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::AlreadyExists { kind: "role", name })
            }
            other => {
                other?;
            }
        }
        tx.commit().await?;
        Ok(RoleSummary {
            id,
            name,
            builtin: false,
            capabilities: caps.names(),
        })
    }

    /// Lists the built-in and custom roles.
    pub async fn list_roles(&self, session: &Session) -> Result<Vec<RoleSummary>> {
        self.authorize(session, Scope::Org, Capability::OrgRoles, "role.list")
            .await?;
        self.all_roles().await
    }

    /// The same list for whoever manages the members of `workspace`, who needs it to pick a
    /// custom role without holding `org.roles`. Assigning still takes only roles whose
    /// capabilities the caller holds there.
    pub async fn assignable_roles(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<RoleSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::MemberManage,
            "role.list_assignable",
        )
        .await?;
        self.all_roles().await
    }

    async fn all_roles(&self) -> Result<Vec<RoleSummary>> {
        let mut out: Vec<RoleSummary> = Role::ALL
            .iter()
            .map(|r| RoleSummary {
                id: r.name().to_string(),
                name: r.title().to_string(),
                builtin: true,
                capabilities: r.capabilities().names(),
            })
            .collect();
        for role in self.custom_roles().await? {
            out.push(RoleSummary {
                id: role.id,
                name: role.name,
                builtin: false,
                capabilities: role.capabilities.names(),
            });
        }
        Ok(out)
    }

    /// Deletes a custom role that no membership uses.
    pub async fn delete_role(&self, session: &Session, name: &str) -> Result<()> {
        self.authorize(session, Scope::Org, Capability::OrgRoles, "role.delete")
            .await?;
        let role = self.custom_role_by_name(name).await?;
        let stored = format!("{CUSTOM_PREFIX}{}", role.id);
        let in_use: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE role = ?")
            .bind(&stored)
            .fetch_one(&self.pool)
            .await?;
        if in_use > 0 {
            return Err(Error::Conflict(format!(
                "role {name:?} is assigned to {in_use} membership(s); assign them another role first"
            )));
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "role.deleted",
            Outcome::Allowed,
            &session.source,
        )
        .target(&role.id)
        .payload(serde_json::json!({ "role_id": role.id }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        // Checked again under the write lock: a membership given this role meanwhile keeps it.
        let deleted = sqlx::query(
            "DELETE FROM roles WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM memberships WHERE role = ?2)",
        )
        .bind(&role.id)
        .bind(&stored)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if deleted != 1 {
            return Err(Error::Conflict(format!(
                "role {name:?} was assigned meanwhile; assign its members another role first"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Resolves a role name given on the command line or in the UI to its stored form and
    /// capabilities: a built-in role name, or a custom role's name.
    pub(crate) async fn role_by_name(&self, name: &str) -> Result<(String, String, CapabilitySet)> {
        if let Some(role) = Role::parse(name) {
            return Ok((
                role.name().to_string(),
                role.title().to_string(),
                role.capabilities(),
            ));
        }
        let role = self.custom_role_by_name(name).await?;
        Ok((
            format!("{CUSTOM_PREFIX}{}", role.id),
            role.name,
            role.capabilities,
        ))
    }

    async fn custom_role_by_name(&self, name: &str) -> Result<CustomRole> {
        let idx = self
            .vault
            .blind_index(INSTANCE_SCOPE, NAME_FIELD, &name.trim().to_lowercase())
            .await?;
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM roles WHERE name_idx = ?")
            .bind(idx)
            .fetch_optional(&self.pool)
            .await?;
        let not_found = || {
            Error::NotFound {
            kind: "role",
            name: name.to_string(),
            hint: "; built-in roles are viewer, operator, approver and admin; list custom roles with `headmaster role list`".into(),
        }
        };
        let id = id.ok_or_else(not_found)?;
        self.custom_role_by_id(&id).await?.ok_or_else(not_found)
    }

    pub(crate) async fn custom_role_by_id(&self, id: &str) -> Result<Option<CustomRole>> {
        let row =
            sqlx::query_as::<_, RoleRow>("SELECT id, name, capabilities FROM roles WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok(Some(self.custom_role(row).await?)),
            None => Ok(None),
        }
    }

    async fn custom_roles(&self) -> Result<Vec<CustomRole>> {
        let rows = sqlx::query_as::<_, RoleRow>(
            "SELECT id, name, capabilities FROM roles ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.custom_role(row).await?);
        }
        Ok(out)
    }

    async fn custom_role(&self, row: RoleRow) -> Result<CustomRole> {
        let RoleRow {
            id,
            name: sealed,
            capabilities: caps,
        } = row;
        let names: Vec<&str> = caps.split(',').filter(|s| !s.is_empty()).collect();
        Ok(CustomRole {
            name: self
                .vault
                .open_string(&Aad::new(INSTANCE_SCOPE, "roles", "name", &id), &sealed)
                .await?,
            capabilities: CapabilitySet::parse_names(&names).map_err(Error::InvalidInput)?,
            id,
        })
    }
}

/// What `custom_role` reads.
#[derive(sqlx::FromRow)]
struct RoleRow {
    id: String,
    name: Vec<u8>,
    capabilities: String,
}
