//! The audit log: query a chain, verify it and export it as a signed bundle (both with live
//! progress), and move old events into archive segments. `scope` is `instance` for the
//! organisation's chain (org.security) or a workspace id (audit.read, audit.manage to export
//! and archive).

use std::path::PathBuf;

use headmaster_core::audit::{ArchiveReport, AuditPage, ExportReport, VerifyOutcome};
use tauri::{Runtime, State, WebviewWindow};

use crate::dto::{self, AuditFilterInput, CommandResult};
use crate::events;
use crate::state::AppState;

/// One page of a chain's events, newest first, with the seq to ask for the next page.
#[tauri::command]
pub async fn query_audit(
    state: State<'_, AppState>,
    scope: String,
    filter: AuditFilterInput,
) -> CommandResult<AuditPage> {
    let chain = dto::chain_scope(&scope)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.query_audit(&session, chain, &filter.into()).await)
        .await
}

/// Walks a chain and its checkpoints, emitting `audit-progress` events (`verify`) to the
/// calling window; returns the valid ranges and every break.
#[tauri::command]
pub async fn verify_audit<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    scope: String,
) -> CommandResult<VerifyOutcome> {
    let chain = dto::chain_scope(&scope)?;
    let (instance, session) = state.signed_in().await?;
    let progress = events::audit_progress(&window, "verify", &scope);
    state
        .settle(instance.verify_audit(&session, chain, &progress).await)
        .await
}

/// Exports a chain as a signed bundle at `path` (a new directory, or a `.tar.gz` file), emitting
/// `audit-progress` events (`export`) to the calling window.
#[tauri::command]
pub async fn export_audit<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    scope: String,
    path: String,
) -> CommandResult<ExportReport> {
    let chain = dto::chain_scope(&scope)?;
    let (instance, session) = state.signed_in().await?;
    let progress = events::audit_progress(&window, "export", &scope);
    let path = PathBuf::from(path.trim());
    state
        .settle(
            instance
                .export_audit(&session, chain, &path, &progress)
                .await,
        )
        .await
}

/// Moves events older than the retention period into sealed archive segments.
#[tauri::command]
pub async fn archive_audit(
    state: State<'_, AppState>,
    scope: String,
) -> CommandResult<ArchiveReport> {
    let chain = dto::chain_scope(&scope)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.archive_audit(&session, chain).await)
        .await
}
