//! Credentials: per-workspace secrets (SMTP passwords, API tokens), sealed, managed by Admins.
//! Tool configuration and arguments refer to them as `{{credential:NAME}}`; the value is
//! loaded only for the execution that needs it, handed to the tool inside a zeroizing type, and
//! never returned by any API, written to a draft, an approval or an audit payload. Each use is
//! audited with the call it served.

use headmaster_tools::{CredentialSet, SecretValue};
use serde::Serialize;

use crate::access::{Capability, Scope};
use crate::audit::{Actor, Correlation, NewEvent, Outcome, Source};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::vault::seal::Aad;

const NAME_FIELD: &str = "credentials.name";

/// A credential as listed: never its value.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CredentialSummary {
    /// Name.
    pub name: String,
    /// Created, RFC 3339.
    pub created_at: String,
    /// Last changed, RFC 3339.
    pub updated_at: String,
    /// Last used by a tool, RFC 3339.
    pub last_used_at: Option<String>,
}

/// What `list_credentials` reads.
#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: String,
    name: Vec<u8>,
    created_at: i64,
    updated_at: i64,
    last_used_at: Option<i64>,
}

impl Instance {
    /// Creates or replaces a credential.
    pub async fn set_credential(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        name: &str,
        value: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::CredentialManage,
            "credential.set",
        )
        .await?;
        let name = validate_name(name)?;
        if value.is_empty() || value.len() > 16 * 1024 {
            return Err(Error::InvalidInput(
                "a credential value must have 1 to 16384 bytes".into(),
            ));
        }
        let scope = workspace.to_string();
        let idx = self.vault.blind_index(&scope, NAME_FIELD, &name).await?;
        // The lookup runs inside the write transaction, so two people setting the same new
        // name at once store one credential. Sealing there touches only the instance database.
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), Vec::new())
            .await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM credentials WHERE name_idx = ?")
                .bind(&idx)
                .fetch_optional(&mut *tx)
                .await?;
        let id = existing
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let sealed_name = self
            .vault
            .seal(
                &Aad::new(&scope, "credentials", "name", &id),
                name.as_bytes(),
            )
            .await?;
        let sealed_value = self
            .vault
            .seal(
                &Aad::new(&scope, "credentials", "value", &id),
                value.as_bytes(),
            )
            .await?;
        tx.record(
            NewEvent::new(
                Actor::user(session.user_id),
                "credential.set",
                Outcome::Allowed,
                &session.source,
            )
            .target(&id)
            .payload(serde_json::json!({ "name": name, "replaced": existing.is_some() })),
        )
        .await?;
        let now = self.now();
        sqlx::query(
            "INSERT INTO credentials (id, name_idx, name, value, created_by, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(&id)
        .bind(&idx)
        .bind(&sealed_name)
        .bind(&sealed_value)
        .bind(session.user_id.to_string())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Lists credential names and usage; values are never returned.
    pub async fn list_credentials(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<CredentialSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::CredentialManage,
            "credential.list",
        )
        .await?;
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows = sqlx::query_as::<_, CredentialRow>("SELECT id, name, created_at, updated_at, last_used_at FROM credentials ORDER BY created_at")
            .fetch_all(&pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(CredentialSummary {
                name: self
                    .vault
                    .open_string(&Aad::new(&scope, "credentials", "name", &row.id), &row.name)
                    .await?,
                created_at: rfc3339_ms(row.created_at),
                updated_at: rfc3339_ms(row.updated_at),
                last_used_at: row.last_used_at.map(rfc3339_ms),
            });
        }
        Ok(out)
    }

    /// Deletes a credential.
    pub async fn delete_credential(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        name: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::CredentialManage,
            "credential.delete",
        )
        .await?;
        let pool = self.workspace_pool(workspace).await?;
        let idx = self
            .vault
            .blind_index(&workspace.to_string(), NAME_FIELD, name.trim())
            .await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM credentials WHERE name_idx = ?")
                .bind(&idx)
                .fetch_optional(&pool)
                .await?;
        let id = id.ok_or_else(|| Error::NotFound {
            kind: "credential",
            name: name.to_string(),
            hint: "; list them with `headmaster credential list`".into(),
        })?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "credential.deleted",
            Outcome::Allowed,
            &session.source,
        )
        .target(&id)
        .payload(serde_json::json!({ "name": name.trim() }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        let deleted = sqlx::query("DELETE FROM credentials WHERE id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted != 1 {
            // Deleted meanwhile by someone else, whose deletion is on record.
            return Ok(());
        }
        tx.commit().await?;
        crate::store::checkpoint_truncate(&pool).await?;
        Ok(())
    }

    /// Loads the named credentials for one execution, auditing each use. A missing name fails
    /// the call before anything runs.
    pub(crate) async fn credentials_for(
        &self,
        workspace: WorkspaceId,
        names: &[String],
        actor: &Actor,
        source: &Source,
        correlation: &Correlation,
        action: &str,
    ) -> Result<CredentialSet> {
        let mut set = CredentialSet::new();
        if names.is_empty() {
            return Ok(set);
        }
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        for name in names {
            let idx = self.vault.blind_index(&scope, NAME_FIELD, name).await?;
            let row = sqlx::query_as::<_, (String, Vec<u8>)>(
                "SELECT id, value FROM credentials WHERE name_idx = ?",
            )
            .bind(&idx)
            .fetch_optional(&pool)
            .await?;
            let Some((id, sealed)) = row else {
                self.record(
                    Scope::Workspace(workspace),
                    NewEvent::new(actor.clone(), "credential.used", Outcome::Failed, source)
                        .correlation(correlation.clone())
                        .payload(serde_json::json!({ "name": name, "action": action, "error": "missing" })),
                )
                .await?;
                return Err(Error::NotFound {
                    kind: "credential",
                    name: name.clone(),
                    hint: "; an Admin can store it with `headmaster credential set`".into(),
                });
            };
            let plain = zeroize::Zeroizing::new(
                self.vault
                    .open(&Aad::new(&scope, "credentials", "value", &id), &sealed)
                    .await?,
            );
            let text = String::from_utf8(plain.to_vec())
                .map_err(|_| Error::Conflict(format!("credential {name} is not text")))?;
            let used = NewEvent::new(actor.clone(), "credential.used", Outcome::Allowed, source)
                .target(&id)
                .correlation(correlation.clone())
                .payload(serde_json::json!({ "name": name, "action": action }));
            let mut tx = self
                .begin_change(Scope::Workspace(workspace), vec![used])
                .await?;
            sqlx::query("UPDATE credentials SET last_used_at = ? WHERE id = ?")
                .bind(self.now())
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            set.insert(name.clone(), SecretValue::new(text));
        }
        Ok(set)
    }
}

fn validate_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid credential name {raw:?}: use 1–64 letters, digits, '_', '-' or '.'"
        )))
    }
}
