//! The core's maintenance service: the work no person asks for, run by both front ends.
//!
//! One pass, [`Instance::maintain`], does in order:
//! 1. delivers audit events a crash or a failed write left between the instance database and a
//!    workspace chain (`audit::relay`);
//! 2. expires approval requests past their expiry in every workspace;
//! 3. archives audit events past the retention period into segments;
//! 4. with [`Work::Full`] only: finishes key rotations a crash interrupted, rotates data keys
//!    older than the rotation period and retires unused versions — the one step that can take
//!    minutes (it re-encrypts every row of a scope), reported through `progress`.
//!
//! The desktop app runs full passes in the background (at unlock and then periodically, with
//! progress events); the CLI runs a quick pass before each command and tells the user when
//! re-encryption is due ([`MaintenanceReport::due`]), which `headmaster keys maintain` does with a
//! progress bar. Two processes never re-encrypt one scope at once: rotations hold a lease in the
//! instance database (`vault::lease`), so a pass that finds a scope being rotated elsewhere
//! leaves it to that process.

use serde::Serialize;

use crate::audit::{ArchiveReport, Source};
use crate::error::Result;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::vault::rotation::ProgressFn;
use crate::vault::{RotationDue, RotationReport};

/// How much a pass does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Everything but re-encryption: a few queries when nothing is due.
    Quick,
    /// Everything, including key rotation and re-encryption.
    Full,
}

/// What a pass did, and what it left.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MaintenanceReport {
    /// Audit events moved into their workspace chain.
    pub intents_delivered: usize,
    /// Key rotations finished or done.
    pub rotations: Vec<RotationReport>,
    /// Chains archived.
    pub archives: Vec<ArchiveReport>,
    /// Re-encryption still due after the pass (a quick pass leaves it; a full pass leaves what
    /// another process is doing).
    pub due: Vec<RotationDue>,
}

impl Instance {
    /// One maintenance pass (see the module doc). Run by the system, so it takes no session;
    /// every change it makes is audited with the system as the actor.
    pub async fn maintain(
        &self,
        source: &Source,
        work: Work,
        progress: ProgressFn<'_>,
    ) -> Result<MaintenanceReport> {
        let mut report = MaintenanceReport {
            intents_delivered: self.deliver_intents().await?,
            ..MaintenanceReport::default()
        };
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM workspaces")
            .fetch_all(&self.pool)
            .await?;
        for workspace in ids.iter().filter_map(|id| id.parse::<WorkspaceId>().ok()) {
            self.expire_due(workspace).await?;
        }
        report.archives = self.maintain_audit(source).await?;
        if work == Work::Full {
            report.rotations = self.maintain_keys(source, progress).await?;
        }
        report.due = self.rotations_due().await?;
        Ok(report)
    }
}
