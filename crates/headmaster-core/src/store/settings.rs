//! Sealed JSON settings of a workspace (`settings` table): the policy, tool configuration,
//! approval expiry. Each value is sealed with its key as the row id.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::vault::seal::Aad;

impl Instance {
    /// Reads a workspace setting; `None` if never set.
    pub(crate) async fn workspace_setting<T: DeserializeOwned>(
        &self,
        workspace: WorkspaceId,
        key: &str,
    ) -> Result<Option<T>> {
        let pool = self.workspace_pool(workspace).await?;
        let sealed: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM settings WHERE id = ?")
            .bind(key)
            .fetch_optional(&pool)
            .await?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let scope = workspace.to_string();
        let plain = self
            .vault
            .open(&Aad::new(&scope, "settings", "value", key), &sealed)
            .await?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| Error::Conflict(format!("stored setting {key} is unreadable: {e}")))
    }

    /// Writes a workspace setting. Its `updated_at` strictly increases with every write (even
    /// two within one millisecond), so caches keyed on it never miss a change.
    pub(crate) async fn set_workspace_setting<T: Serialize>(
        &self,
        workspace: WorkspaceId,
        key: &str,
        value: &T,
    ) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let json = serde_json::to_vec(value).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let sealed = self
            .vault
            .seal(&Aad::new(&scope, "settings", "value", key), &json)
            .await?;
        sqlx::query(
            "INSERT INTO settings (id, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET value = excluded.value,
                 updated_at = MAX(excluded.updated_at, settings.updated_at + 1)",
        )
        .bind(key)
        .bind(sealed)
        .bind(self.now())
        .execute(&pool)
        .await?;
        Ok(())
    }
}
