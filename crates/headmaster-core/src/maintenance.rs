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
use crate::error::{Error, Result};
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
    /// Steps that failed; the others still ran.
    pub problems: Vec<MaintenanceProblem>,
}

/// A maintenance step that failed.
#[derive(Debug, Clone, Serialize)]
pub struct MaintenanceProblem {
    /// Which step (`audit delivery`, `approval expiry`, `audit archiving`, `key rotation`,
    /// `due rotations`).
    pub step: &'static str,
    /// Where: `instance`, a workspace id, or `all`.
    pub scope: String,
    /// The error's stable code.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
}

impl MaintenanceReport {
    fn failed(&mut self, step: &'static str, scope: impl Into<String>, error: &Error) {
        tracing::warn!(step, %error, "a maintenance step failed");
        self.problems.push(MaintenanceProblem {
            step,
            scope: scope.into(),
            code: error.code(),
            message: error.to_string(),
        });
    }
}

impl Instance {
    /// One maintenance pass (see the module doc). Run by the system, so it takes no session;
    /// every change it makes is audited with the system as the actor. A failing step (one
    /// workspace whose database cannot be read, say) is reported in
    /// [`MaintenanceReport::problems`] and the other steps still run; only an unreadable
    /// instance database fails the pass.
    pub async fn maintain(
        &self,
        source: &Source,
        work: Work,
        progress: ProgressFn<'_>,
    ) -> Result<MaintenanceReport> {
        let mut report = MaintenanceReport::default();
        match self.deliver_intents().await {
            Ok(n) => report.intents_delivered = n,
            Err(e) => report.failed("audit delivery", "instance", &e),
        }
        for workspace in self.workspace_ids().await? {
            if let Err(e) = self.expire_due(workspace).await {
                report.failed("approval expiry", workspace.to_string(), &e);
            }
        }
        match self.maintain_audit(source).await {
            Ok(archives) => report.archives = archives,
            Err(e) => report.failed("audit archiving", "all", &e),
        }
        if work == Work::Full {
            match self.maintain_keys(source, progress).await {
                Ok(rotations) => report.rotations = rotations,
                Err(e) => report.failed("key rotation", "all", &e),
            }
        }
        match self.rotations_due().await {
            Ok(due) => report.due = due,
            Err(e) => report.failed("due rotations", "all", &e),
        }
        Ok(report)
    }
}
