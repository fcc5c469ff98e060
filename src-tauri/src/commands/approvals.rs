//! The approvals inbox and standing grants of a workspace: list requests (with whether the
//! caller may decide each), show one with its full context, decide; create, list and revoke
//! grants (grant.manage).

use headmaster_core::approvals::{
    ApprovalDetail, ApprovalPage, DecisionResult, GrantPage, GrantSummary, PageRequest,
};
use tauri::State;

use crate::dto::{self, CommandResult, GrantInput};
use crate::state::AppState;

/// One page of requests, newest first: `pending`, `decided` or `all` (the default), with the
/// total and the cursor of the next page.
#[tauri::command]
pub async fn list_approvals(
    state: State<'_, AppState>,
    workspace_id: String,
    status: Option<String>,
    page: Option<PageRequest>,
) -> CommandResult<ApprovalPage> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .list_approvals(
                    &session,
                    workspace,
                    status.as_deref(),
                    &page.unwrap_or_default(),
                )
                .await,
        )
        .await
}

/// One request: arguments, reasoning, affected resources (with the diff of a file write), tier
/// and reasons, decisions so far, the result once executed.
#[tauri::command]
pub async fn show_approval(
    state: State<'_, AppState>,
    workspace_id: String,
    id: String,
) -> CommandResult<ApprovalDetail> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.show_approval(&session, workspace, &id).await)
        .await
}

/// Approves or rejects a request with an optional comment. A decision that completes a run's
/// request wakes the runtime worker, which resumes the run at once.
#[tauri::command]
pub async fn decide_approval(
    state: State<'_, AppState>,
    workspace_id: String,
    id: String,
    decision: String,
    comment: Option<String>,
) -> CommandResult<DecisionResult> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let decision = dto::decision(&decision)?;
    let (instance, session) = state.signed_in().await?;
    let comment = comment.filter(|c| !c.trim().is_empty());
    let result = state
        .settle(
            instance
                .decide_approval(&session, workspace, &id, decision, comment.as_deref())
                .await,
        )
        .await?;
    state.signals.runs.notify_one();
    state.signals.approvals.notify_one();
    Ok(result)
}

/// One page of standing grants, newest first.
#[tauri::command]
pub async fn list_grants(
    state: State<'_, AppState>,
    workspace_id: String,
    page: Option<PageRequest>,
) -> CommandResult<GrantPage> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .list_grants(&session, workspace, &page.unwrap_or_default())
                .await,
        )
        .await
}

/// Creates a standing grant (at most 24 hours).
#[tauri::command]
pub async fn create_grant(
    state: State<'_, AppState>,
    workspace_id: String,
    grant: GrantInput,
) -> CommandResult<GrantSummary> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .create_grant(&session, workspace, grant.into())
                .await,
        )
        .await
}

/// Revokes a grant.
#[tauri::command]
pub async fn revoke_grant(
    state: State<'_, AppState>,
    workspace_id: String,
    id: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.revoke_grant(&session, workspace, &id).await)
        .await
}
