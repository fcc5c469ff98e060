//! `audit export`: an OCSF bundle of a whole chain (archive segments and hot rows), signed
//! with the device key so that `ssh-keygen -Y verify` checks it with nothing of ours installed.

use std::path::Path;

use headmaster_protocol::bundle::{BundleHeader, BundleSummary, BundleWriter};
use headmaster_protocol::chain::Anchor;
use serde::Serialize;

use super::decode::Decoder;
use super::{rows, Actor, NewEvent, Outcome};
use crate::access::Scope;
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::instance::Instance;

/// What an export wrote.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ExportReport {
    /// Bundle path.
    pub path: String,
    /// Events exported.
    pub events: u64,
    /// First and last seq.
    pub seq_range: Option<(u64, u64)>,
    /// Fingerprint of the signing device key (pin it out of band).
    pub device_key_fingerprint: String,
}

impl Instance {
    /// Exports a chain to `path` (a directory, or a file ending in `.tar.gz`).
    pub async fn export_audit(
        &self,
        session: &Session,
        scope: Scope,
        path: &Path,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<ExportReport> {
        let (pool, scope_name) = self
            .audit_chain(session, scope, "audit.export", true)
            .await?;
        let display_name = match scope {
            Scope::Org => self.org_name().await?,
            Scope::Workspace(w) => self.workspace_name(w).await?,
        };
        let bundle_error = |e: headmaster_protocol::bundle::BundleError| {
            Error::InvalidInput(format!("export failed: {e}"))
        };
        let mut writer = BundleWriter::create(
            path,
            BundleHeader {
                scope: scope_name.clone(),
                scope_name: display_name,
                anchor: Anchor::genesis(&scope_name),
                created: rfc3339_ms(self.now()),
            },
        )
        .map_err(bundle_error)?;
        let segments = rows::segments(&pool).await?;
        let total = super::query::hot_count(&pool).await?
            + segments
                .iter()
                .map(|s| s.last_seq - s.first_seq + 1)
                .sum::<u64>();
        let mut decoder = Decoder::new(self, &scope_name);
        let mut done = 0u64;
        progress(0, total);
        for segment in &segments {
            let chain = self
                .read_segment(&scope_name, segment)
                .await
                .map_err(|problem| {
                    Error::Conflict(format!("{problem}; run `headmaster audit verify`"))
                })?;
            for row in &chain {
                let opened = decoder.open(&row.event).await?;
                writer
                    .append(row, &opened.record(&scope_name, &row.event))
                    .map_err(bundle_error)?;
            }
            done += chain.len() as u64;
            progress(done, total);
        }
        let mut batches = super::scan::hot_rows(self.chain_database(scope));
        while let Some(page) = batches.recv().await {
            let page = page?;
            for row in &page {
                let opened = decoder.open(&row.event).await?;
                writer
                    .append(row, &opened.record(&scope_name, &row.event))
                    .map_err(bundle_error)?;
            }
            done += page.len() as u64;
            progress(done, total);
        }
        let checkpoints = rows::checkpoints(&pool, &scope_name).await?;
        let summary: BundleSummary = writer
            .finish(&checkpoints, self.device.signing_key())
            .map_err(bundle_error)?;
        let report = ExportReport {
            path: summary.path.display().to_string(),
            events: summary.event_count,
            seq_range: summary.seq_range,
            device_key_fingerprint: summary.device_key_fingerprint,
        };
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "audit.exported",
            Outcome::Allowed,
            &session.source,
        )
        .target(&scope_name)
        .payload(serde_json::json!({ "events": report.events, "seq_range": report.seq_range }));
        self.record(scope, event).await?;
        Ok(report)
    }
}
