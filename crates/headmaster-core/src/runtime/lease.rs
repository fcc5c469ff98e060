//! Run leases and heartbeats: only the process holding a run's lease drives it; the lease is
//! renewed by the heartbeat and lapses when the process dies, so another can take over.

use super::engine::LEASE_MS;
use crate::error::{Error, Result};
use crate::ids::WorkspaceId;
use crate::instance::Instance;

impl Instance {
    pub(crate) async fn claim_lease(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        owner: &str,
    ) -> Result<bool> {
        let pool = self.workspace_pool(workspace).await?;
        let now = self.now();
        let claimed = sqlx::query(&format!(
            "UPDATE runs SET lease_owner = ?, lease_until = ?, heartbeat_at = ?, stalled = 0
             WHERE id = ? AND (lease_owner IS NULL OR lease_until < ?) AND {}",
            super::runs::unfinished("status")
        ))
        .bind(owner)
        .bind(now + LEASE_MS)
        .bind(now)
        .bind(run_id)
        .bind(now)
        .execute(&pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    pub(crate) async fn beat(
        &self,
        workspace: WorkspaceId,
        run_id: &str,
        owner: &str,
    ) -> Result<()> {
        let pool = self.workspace_pool(workspace).await?;
        let now = self.now();
        let renewed = sqlx::query(
            "UPDATE runs SET heartbeat_at = ?, lease_until = ? WHERE id = ? AND lease_owner = ?",
        )
        .bind(now)
        .bind(now + LEASE_MS)
        .bind(run_id)
        .bind(owner)
        .execute(&pool)
        .await?
        .rows_affected();
        if renewed == 1 {
            Ok(())
        } else {
            Err(Error::Conflict("the run's lease was lost".into()))
        }
    }
}
