//! Sealed JSON settings of a workspace (`settings` table): the policy, tool configuration,
//! approval expiry. Each value is sealed with its key as the row id.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::access::Scope;
use crate::audit::NewEvent;
use crate::error::Result;
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
        let mut conn = pool.acquire().await?;
        self.read_setting(&mut conn, workspace, key).await
    }

    /// Changes a workspace setting and records the change, in one transaction: `edit` gets the
    /// stored value (`None` if never set) read inside the transaction, so two concurrent
    /// changes cannot lose one another, and returns the new value and the event that records
    /// it. The row's `updated_at` strictly increases with every write (even two within one
    /// millisecond), so caches keyed on it never miss a change.
    pub(crate) async fn update_workspace_setting<T, F>(
        &self,
        workspace: WorkspaceId,
        key: &str,
        edit: F,
    ) -> Result<()>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(Option<T>) -> Result<(T, NewEvent)>,
    {
        let scope = workspace.to_string();
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), Vec::new())
            .await?;
        let current = self.read_setting(&mut tx, workspace, key).await?;
        let (value, event) = edit(current)?;
        let json = super::body::encode("workspace setting", key, &value)?;
        // Sealing may write the instance database, never this workspace's: no deadlock.
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
        .execute(&mut *tx)
        .await?;
        tx.record(event).await?;
        tx.commit().await
    }

    async fn read_setting<T: DeserializeOwned>(
        &self,
        conn: &mut SqliteConnection,
        workspace: WorkspaceId,
        key: &str,
    ) -> Result<Option<T>> {
        let sealed: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM settings WHERE id = ?")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let scope = workspace.to_string();
        let plain = self
            .vault
            .open(&Aad::new(&scope, "settings", "value", key), &sealed)
            .await?;
        Ok(Some(super::body::decode("workspace setting", key, &plain)?))
    }
}
