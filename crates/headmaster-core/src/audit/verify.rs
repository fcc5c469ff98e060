//! `audit verify`: walk archive segments then hot rows through the chain verifier, check every
//! checkpoint signature against this installation's device key, and report like CloudTrail's
//! validate-logs: the valid ranges, every break with its seq and reason.

use headmaster_protocol::chain::Anchor;
use headmaster_protocol::verify::{ChainVerifier, VerifyReport};
use serde::Serialize;

use super::rows;
use crate::access::Scope;
use crate::error::Result;
use crate::identity::Session;
use crate::instance::Instance;

/// A verification result for people and scripts.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VerifyOutcome {
    /// Chain scope.
    pub scope: String,
    /// Whether everything verified.
    pub valid: bool,
    /// Rows read (archive + hot).
    pub events_checked: u64,
    /// Checkpoints checked.
    pub checkpoints_checked: u64,
    /// Inclusive valid seq ranges.
    pub valid_ranges: Vec<(u64, u64)>,
    /// Every break, in seq order.
    pub breaks: Vec<VerifyBreak>,
    /// Archive segments that could not be read (missing, altered, undecryptable).
    pub segment_problems: Vec<String>,
}

/// One break.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VerifyBreak {
    /// Where.
    pub seq: u64,
    /// Stable code: `hash_mismatch`, `missing_seq`, `reordered`, `bad_checkpoint_signature`, …
    pub kind: String,
    /// What it means.
    pub detail: String,
}

impl VerifyOutcome {
    fn from_report(report: VerifyReport, segment_problems: Vec<String>) -> Self {
        Self {
            valid: report.is_valid() && segment_problems.is_empty(),
            scope: report.scope,
            events_checked: report.events_checked,
            checkpoints_checked: report.checkpoints_checked,
            valid_ranges: report.valid_ranges,
            breaks: report
                .breaks
                .into_iter()
                .map(|b| VerifyBreak {
                    seq: b.seq,
                    kind: b.kind.code().to_string(),
                    detail: b.detail,
                })
                .collect(),
            segment_problems,
        }
    }
}

impl Instance {
    /// Verifies a chain. `progress(done, total)` is called as rows are checked.
    pub async fn verify_audit(
        &self,
        session: &Session,
        scope: Scope,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerifyOutcome> {
        let (pool, scope_name) = self
            .audit_chain(session, scope, "audit.verify", false)
            .await?;
        let checkpoints = rows::checkpoints(&pool, &scope_name).await?;
        let segments = rows::segments(&pool).await?;
        let total = super::query::hot_count(&pool).await?
            + segments
                .iter()
                .map(|s| s.last_seq - s.first_seq + 1)
                .sum::<u64>();
        let trusted = [self.device.verifying_key()];
        let mut verifier = ChainVerifier::new(
            &scope_name,
            Anchor::genesis(&scope_name),
            &checkpoints,
            &trusted,
        );
        let mut problems = Vec::new();
        let mut done = 0u64;
        progress(0, total);
        for segment in &segments {
            match self.read_segment(&scope_name, segment).await {
                Ok(chain) => {
                    for row in &chain {
                        verifier.push(row);
                    }
                    done += chain.len() as u64;
                    progress(done, total);
                }
                Err(problem) => problems.push(problem),
            }
        }
        let before_hot = done;
        let verifier = super::scan::verify_hot_rows(self.chain_database(scope), verifier, |n| {
            progress(before_hot + n, total)
        })
        .await?;
        progress(verifier.rows_done(), total);
        let outcome = VerifyOutcome::from_report(verifier.finish(), problems);
        self.record_verification(session, scope, &scope_name, &outcome)
            .await?;
        Ok(outcome)
    }

    async fn record_verification(
        &self,
        session: &Session,
        scope: Scope,
        scope_name: &str,
        outcome: &VerifyOutcome,
    ) -> Result<()> {
        let event = super::NewEvent::new(
            super::Actor::user(session.user_id),
            "audit.verified",
            if outcome.valid { super::Outcome::Allowed } else { super::Outcome::Failed },
            &session.source,
        )
        .target(scope_name)
        .payload(serde_json::json!({
            "valid": outcome.valid,
            "events_checked": outcome.events_checked,
            "first_break": outcome.breaks.first().map(|b| serde_json::json!({ "seq": b.seq, "kind": b.kind })),
        }));
        self.record(scope, event).await?;
        Ok(())
    }
}
