//! GDPR: erasure by crypto-shredding, and the data-subject access export.
//!
//! A user's personal data — their username in the user table, the source (host, OS user, IP,
//! user agent) of every audit event they caused, in every chain and archive — is sealed under
//! their own subject key. Erasure destroys that key (the row is deleted with `secure_delete`
//! and the WAL truncated), scrambles their username's blind index, disables the account and
//! ends its sessions. Nothing in the audit chain changes, so the chain still verifies; an
//! erasure event naming only the subject's pseudonymous id is appended.

use rand::RngCore;
use serde::Serialize;

use crate::access::{Capability, Scope};
use crate::audit::{Actor, AuditEntry, AuditFilter, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::{users, Session};
use crate::instance::Instance;
use crate::store;
use crate::vault::INSTANCE_SCOPE;

/// A data-subject access export.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectExport {
    /// Pseudonymous id.
    pub subject_id: String,
    /// Username.
    pub username: String,
    /// Organisation role.
    pub org_role: String,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Workspaces and roles.
    pub memberships: Vec<crate::access::WorkspaceSummary>,
    /// Audit events the subject caused, per chain, newest first.
    pub events: Vec<SubjectEvents>,
}

/// The subject's events in one chain.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectEvents {
    /// `instance` or a workspace id.
    pub scope: String,
    /// Events.
    pub entries: Vec<AuditEntry>,
}

/// What an erasure did.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureReport {
    /// The erased subject's pseudonymous id.
    pub subject_id: String,
    /// When.
    pub erased_at: String,
}

impl Instance {
    /// Erases a data subject (a user) by destroying their key.
    pub async fn erase_subject(&self, session: &Session, username: &str) -> Result<ErasureReport> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SubjectErase,
            "subject.erase",
        )
        .await?;
        let user = self.user_by_name(username).await?;
        if user.id == session.user_id {
            return Err(Error::Conflict(
                "you cannot erase yourself; ask another Admin".into(),
            ));
        }
        if user.org_role == crate::access::Role::Admin {
            let admins: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE org_role = 'admin' AND disabled_at IS NULL AND erased_at IS NULL",
            )
            .fetch_one(&self.pool)
            .await?;
            if admins <= 1 {
                return Err(Error::Conflict(
                    "this is the organisation's last Admin; it cannot be erased".into(),
                ));
            }
        }
        let last_admin_in: Vec<String> = sqlx::query_scalar(
            "SELECT m.workspace_id FROM memberships m WHERE m.user_id = ? AND m.role = 'admin'
             AND (SELECT COUNT(*) FROM memberships o WHERE o.workspace_id = m.workspace_id AND o.role = 'admin') = 1",
        )
        .bind(user.id.to_string())
        .fetch_all(&self.pool)
        .await?;
        if !last_admin_in.is_empty() {
            return Err(Error::Conflict(format!(
                "{username} is the last Admin of {} workspace(s); make another member an Admin there first",
                last_admin_in.len()
            )));
        }
        let subject = user.id.to_string();
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "subject.erased",
            Outcome::Allowed,
            &session.source,
        )
        .target(&subject)
        .payload(serde_json::json!({ "subject_id": subject }));
        // Events still on their way to a workspace chain carry this person's source sealed
        // under the instance key; they reach their chain (sealed under the subject key) before
        // the key is destroyed, so nothing personal outlives the erasure.
        self.deliver_intents().await?;
        let memberships: Vec<(String, String)> =
            sqlx::query_as("SELECT workspace_id, role FROM memberships WHERE user_id = ?")
                .bind(&subject)
                .fetch_all(&self.pool)
                .await?;
        let mut relayed = Vec::with_capacity(memberships.len());
        for (workspace, role) in memberships {
            let Ok(workspace) = workspace.parse::<crate::ids::WorkspaceId>() else {
                continue;
            };
            relayed.push((
                workspace,
                NewEvent::new(
                    Actor::user(session.user_id),
                    "member.removed",
                    Outcome::Allowed,
                    &session.source,
                )
                .target(&subject)
                .payload(
                    serde_json::json!({ "user_id": subject, "role": role, "reason": "erased" }),
                ),
            ));
        }
        let now = self.now();
        let mut scrambled = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut scrambled);
        let mut tx = self.begin_change_relaying(vec![event], relayed).await?;
        sqlx::query("DELETE FROM wrapped_keys WHERE scope = ? AND purpose = 'subject'")
            .bind(&subject)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE users SET erased_at = ?, disabled_at = COALESCE(disabled_at, ?), username_idx = ? WHERE id = ?",
        )
        .bind(now)
        .bind(now)
        .bind(&scrambled)
        .bind(&subject)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL")
            .bind(now)
            .bind(&subject)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM memberships WHERE user_id = ?")
            .bind(&subject)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        store::checkpoint_truncate(&self.pool).await?;
        self.vault.forget_subject(&subject).await;
        Ok(ErasureReport {
            subject_id: subject,
            erased_at: rfc3339_ms(now),
        })
    }

    /// Everything stored about a data subject, readable: account, memberships, and the audit
    /// events they caused in the instance chain and every workspace they belong to.
    pub async fn export_subject(&self, session: &Session, username: &str) -> Result<SubjectExport> {
        self.authorize(
            session,
            Scope::Org,
            Capability::SubjectErase,
            "subject.export",
        )
        .await?;
        let user = self.user_by_name(username).await?;
        let subject = user.id.to_string();
        let mut chains = vec![(Scope::Org, INSTANCE_SCOPE.to_string())];
        let memberships = self.workspaces_of(user.id).await?;
        for w in &memberships {
            if let Ok(id) = w.id.parse() {
                if self.role_in(session.user_id, id).await?.is_some() {
                    chains.push((Scope::Workspace(id), w.id.clone()));
                }
            }
        }
        let mut events = Vec::new();
        for (scope, name) in chains {
            let mut entries = Vec::new();
            let mut filter = AuditFilter {
                actor: Some(subject.clone()),
                limit: Some(1000),
                ..AuditFilter::default()
            };
            loop {
                let page = match self.query_audit(session, scope, &filter).await {
                    Ok(page) => page,
                    Err(Error::Forbidden { .. }) => break,
                    Err(e) => return Err(e),
                };
                entries.extend(page.entries);
                match page.next_before {
                    Some(before) => filter.before_seq = Some(before),
                    None => break,
                }
            }
            events.push(SubjectEvents {
                scope: name,
                entries,
            });
        }
        self.record(
            Scope::Org,
            NewEvent::new(
                Actor::user(session.user_id),
                "subject.exported",
                Outcome::Allowed,
                &session.source,
            )
            .target(&subject)
            .payload(serde_json::json!({ "subject_id": subject })),
        )
        .await?;
        Ok(SubjectExport {
            subject_id: subject,
            username: users::username(&self.vault, &user).await?,
            org_role: user.org_role.title().to_string(),
            disabled: user.disabled_at.is_some(),
            memberships,
            events,
        })
    }
}
