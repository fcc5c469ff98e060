//! Reading a whole workspace chain through the public query API (shared by the test binaries).

use headmaster_core::access::Scope;
use headmaster_core::audit::{AuditEntry, AuditFilter};
use headmaster_core::ids::WorkspaceId;
use headmaster_core::{Instance, Session};

/// Every event of `workspace`'s chain, decrypted through `query_audit` page by page, oldest
/// first.
pub async fn all_entries(
    instance: &Instance,
    session: &Session,
    workspace: WorkspaceId,
) -> Vec<AuditEntry> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = instance
            .query_audit(
                session,
                Scope::Workspace(workspace),
                &AuditFilter {
                    limit: Some(1000),
                    before_seq: before,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        all.extend(page.entries);
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    all.sort_by_key(|e| e.seq);
    all
}
