//! The gate: `authorize(session, scope, capability)`.
//!
//! Every core operation a person triggers calls it first, before reading or writing anything
//! else. It re-checks the session (signed out, expired, disabled users are refused at once),
//! resolves the caller's role in the scope — their org role for organisation-wide operations,
//! their membership role for a workspace — and checks the capability. A refusal is recorded in
//! the audit log with who, what, when and from where, then returned as `Forbidden` (or
//! `NotFound` for a workspace the caller is not a member of, so its existence is not revealed).

use super::roles::CUSTOM_PREFIX;
use super::{Capability, CapabilitySet, Role};
use crate::access::RoleCapabilities;
use crate::audit::{Actor, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::{UserId, WorkspaceId};
use crate::instance::Instance;

/// Where an operation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The organisation (users, workspaces registry, custom roles, KEK).
    Org,
    /// One workspace.
    Workspace(WorkspaceId),
}

/// Proof that the gate let a caller through.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The caller.
    pub user_id: UserId,
    /// Their role title in the scope.
    pub role: String,
    /// Everything their role allows in the scope.
    pub capabilities: CapabilitySet,
}

impl Instance {
    /// The gate. `action` names the operation for the denial record (`member.add`).
    pub(crate) async fn authorize(
        &self,
        session: &Session,
        scope: Scope,
        capability: Capability,
        action: &str,
    ) -> Result<Authorized> {
        let state = self.session_state(session.id, &session.source).await?;
        self.authorize_user(
            state.user_id,
            state.org_role,
            &session.source,
            scope,
            capability,
            action,
        )
        .await
    }

    /// The gate for work done on a person's behalf without their live session (an agent run
    /// they started): the same role and capability checks, the same denial records.
    pub(crate) async fn authorize_user(
        &self,
        user_id: UserId,
        org_role: Role,
        source: &crate::audit::Source,
        scope: Scope,
        capability: Capability,
        action: &str,
    ) -> Result<Authorized> {
        let found = match scope {
            Scope::Org => Some((org_role.title().to_string(), org_role.capabilities())),
            Scope::Workspace(workspace) => self.role_in(user_id, workspace).await?,
        };
        self.admit(user_id, source, scope, found, capability, action)
            .await
    }

    /// The gate for an agent's step, acting for the person who started its run: one statement
    /// checks that the person may still act (neither disabled nor erased) and reads their role
    /// in the workspace; then the same capability check and denial records as
    /// [`authorize_user`](Self::authorize_user).
    pub(crate) async fn authorize_run_starter(
        &self,
        user_id: UserId,
        source: &crate::audit::Source,
        workspace: WorkspaceId,
        capability: Capability,
        action: &str,
    ) -> Result<Authorized> {
        // No row: the user is disabled or erased; a row with no role: not a member.
        let membership = sqlx::query_scalar::<_, Option<String>>(
            "SELECT m.role FROM users u
               LEFT JOIN memberships m ON m.user_id = u.id AND m.workspace_id = ?
              WHERE u.id = ? AND u.disabled_at IS NULL AND u.erased_at IS NULL",
        )
        .bind(workspace.to_string())
        .bind(user_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(role) = membership else {
            self.record_denial(
                user_id,
                source,
                Some(workspace),
                capability,
                action,
                "disabled or erased",
            )
            .await?;
            return Err(Error::NotAllowed(
                "the person who started this run is disabled or erased; the run cannot act".into(),
            ));
        };
        let found = match role {
            Some(stored) => Some(self.resolve_role(&stored).await?),
            None => None,
        };
        self.admit(
            user_id,
            source,
            Scope::Workspace(workspace),
            found,
            capability,
            action,
        )
        .await
    }

    /// Lets a caller with role `found` in `scope` through if it holds `capability`; records
    /// the refusal otherwise (`None`: not a member of the workspace).
    async fn admit(
        &self,
        user_id: UserId,
        source: &crate::audit::Source,
        scope: Scope,
        found: Option<(String, CapabilitySet)>,
        capability: Capability,
        action: &str,
    ) -> Result<Authorized> {
        let workspace = match scope {
            Scope::Workspace(w) => Some(w),
            Scope::Org => None,
        };
        let Some((role, capabilities)) = found else {
            self.record_denial(user_id, source, None, capability, action, "not a member")
                .await?;
            return Err(Error::NotFound {
                kind: "workspace",
                name: workspace.map(|w| w.to_string()).unwrap_or_default(),
                hint: "; you can only use workspaces you are a member of".into(),
            });
        };
        if !capabilities.contains(capability) {
            self.record_denial(user_id, source, workspace, capability, action, &role)
                .await?;
            return Err(Error::Forbidden {
                action: action.to_string(),
                capability: capability.name().to_string(),
                role,
            });
        }
        Ok(Authorized {
            user_id,
            role,
            capabilities,
        })
    }

    /// The caller's role title and capabilities in a workspace; `None` if not a member.
    pub(crate) async fn role_in(
        &self,
        user: UserId,
        workspace: WorkspaceId,
    ) -> Result<Option<(String, CapabilitySet)>> {
        let stored = sqlx::query_scalar::<_, String>(
            "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?",
        )
        .bind(workspace.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        Ok(Some(self.resolve_role(&stored).await?))
    }

    /// Title and capabilities of a stored role name (`admin`, or `custom:<id>`).
    pub(crate) async fn resolve_role(&self, stored: &str) -> Result<(String, CapabilitySet)> {
        if let Some(role) = Role::parse(stored) {
            return Ok((role.title().to_string(), role.capabilities()));
        }
        if let Some(id) = stored.strip_prefix(CUSTOM_PREFIX) {
            if let Some(role) = self.custom_role_by_id(id).await? {
                return Ok((role.name, role.capabilities));
            }
        }
        Err(Error::Conflict(format!(
            "membership names an unknown role {stored:?}; an Admin should reassign it"
        )))
    }

    /// Records and returns the refusal of a grant that exceeds the granter's own capabilities.
    pub(crate) async fn grant_refused(
        &self,
        session: &Session,
        action: &str,
        role: &str,
    ) -> Result<Error> {
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "access.denied",
            Outcome::Denied,
            &session.source,
        )
        .target(action)
        .payload(serde_json::json!({
            "operation": action,
            "reason": "grant exceeds the granter's own capabilities",
            "role": role,
        }));
        self.record(Scope::Org, event).await?;
        Ok(Error::Forbidden {
            action: action.to_string(),
            capability: format!("every capability of {role}"),
            role: "yours".to_string(),
        })
    }

    async fn record_denial(
        &self,
        user_id: UserId,
        source: &crate::audit::Source,
        workspace: Option<WorkspaceId>,
        capability: Capability,
        action: &str,
        role: &str,
    ) -> Result<()> {
        let event = NewEvent::new(
            Actor::user(user_id),
            "access.denied",
            Outcome::Denied,
            source,
        )
        .target(action)
        .payload(serde_json::json!({
            "operation": action,
            "capability": capability.name(),
            "role": role,
            "workspace_id": workspace.map(|w| w.to_string()),
        }));
        let scope = workspace.map_or(Scope::Org, Scope::Workspace);
        self.record(scope, event).await
    }
}
