//! Drafts: agent (and people's) outputs saved for review, versioned by key.

use serde::Serialize;
use sqlx::Row;

use crate::access::{Capability, Scope};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::vault::seal::Aad;

/// A draft as listed (latest version of each key).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DraftSummary {
    /// Row id of this version.
    pub id: String,
    /// Draft key (shared by versions).
    pub key: String,
    /// Version.
    pub version: i64,
    /// Title.
    pub title: String,
    /// Run that saved it.
    pub run_id: Option<String>,
    /// Author (`user:<id>` / `agent:<id>`).
    pub author: String,
    /// Saved (RFC 3339).
    pub created_at: String,
}

/// A draft with every version's body.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DraftDetail {
    /// Key.
    pub key: String,
    /// Versions, newest first: summary and body.
    pub versions: Vec<(DraftSummary, String)>,
}

impl Instance {
    /// Drafts: the latest version of each.
    pub async fn list_drafts(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<DraftSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "draft.list",
        )
        .await?;
        let all = self.draft_summaries(workspace).await?;
        let mut latest: Vec<DraftSummary> = Vec::new();
        for d in all {
            if !latest.iter().any(|l| l.key == d.key) {
                latest.push(d);
            }
        }
        Ok(latest)
    }

    /// A draft (by key or version id) with all its versions.
    pub async fn show_draft(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<DraftDetail> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "draft.show",
        )
        .await?;
        let all = self.draft_summaries(workspace).await?;
        let key = all
            .iter()
            .find(|d| d.id == id || d.key == id)
            .map(|d| d.key.clone())
            .ok_or_else(|| Error::not_found("draft", id))?;
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let mut versions = Vec::new();
        for d in all.into_iter().filter(|d| d.key == key) {
            let sealed: Vec<u8> = sqlx::query_scalar("SELECT body FROM drafts WHERE id = ?")
                .bind(&d.id)
                .fetch_one(&pool)
                .await?;
            let body = self
                .vault
                .open_string(&Aad::new(&scope, "drafts", "body", &d.id), &sealed)
                .await?;
            versions.push((d, body));
        }
        Ok(DraftDetail { key, versions })
    }

    pub(crate) async fn draft_summaries(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<DraftSummary>> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows = sqlx::query("SELECT id, draft_key, version, title, run_id, author, created_at FROM drafts ORDER BY created_at DESC, version DESC")
            .fetch_all(&pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get(0);
            out.push(DraftSummary {
                title: self
                    .vault
                    .open_string(
                        &Aad::new(&scope, "drafts", "title", &id),
                        &row.get::<Vec<u8>, _>(3),
                    )
                    .await?,
                id,
                key: row.get(1),
                version: row.get(2),
                run_id: row.get(4),
                author: row.get(5),
                created_at: rfc3339_ms(row.get(6)),
            });
        }
        Ok(out)
    }
}
