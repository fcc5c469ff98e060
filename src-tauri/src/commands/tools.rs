//! Tools and policy of a workspace: the catalog with each action's state, enabling, tiers,
//! configuration (tool.manage), argument rules, own email domains, approval expiry
//! (policy.manage) and the history of every such change (workspace.read).

use headmaster_core::approvals::ExpiryConfig;
use headmaster_core::audit::AuditEntry;
use headmaster_core::tools::{RuleSummary, ToolsOverview};
use tauri::State;

use crate::dto::{self, CommandResult, SettingInput};
use crate::state::AppState;

/// The catalog with each action's state, the rules, own domains and tool configuration.
#[tauri::command]
pub async fn list_tools(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<ToolsOverview> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.list_tools(&session, workspace).await)
        .await
}

/// Enables a tool or one `tool.action`, optionally with a tier.
#[tauri::command]
pub async fn enable_tool(
    state: State<'_, AppState>,
    workspace_id: String,
    target: String,
    tier: Option<String>,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .enable_tool(&session, workspace, &target, tier.as_deref())
                .await,
        )
        .await
}

/// Disables a tool or one action.
#[tauri::command]
pub async fn disable_tool(
    state: State<'_, AppState>,
    workspace_id: String,
    target: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.disable_tool(&session, workspace, &target).await)
        .await
}

/// Sets the base tier of a tool or action.
#[tauri::command]
pub async fn set_tool_tier(
    state: State<'_, AppState>,
    workspace_id: String,
    target: String,
    tier: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .set_tool_tier(&session, workspace, &target, &tier)
                .await,
        )
        .await
}

/// Applies `key=value` settings to one tool's configuration (`email`, `http`, `file`, `shell`).
#[tauri::command]
pub async fn configure_tool(
    state: State<'_, AppState>,
    workspace_id: String,
    tool: String,
    settings: Vec<SettingInput>,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    let pairs = dto::setting_pairs(settings);
    state
        .settle(
            instance
                .configure_tool(&session, workspace, &tool, &pairs)
                .await,
        )
        .await
}

/// Adds an argument rule, written as JSON or in the compact syntax.
#[tauri::command]
pub async fn add_rule(
    state: State<'_, AppState>,
    workspace_id: String,
    text: String,
) -> CommandResult<RuleSummary> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.add_rule(&session, workspace, &text).await)
        .await
}

/// Removes an argument rule by id.
#[tauri::command]
pub async fn remove_rule(
    state: State<'_, AppState>,
    workspace_id: String,
    id: String,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.remove_rule(&session, workspace, &id).await)
        .await
}

/// Sets the workspace's own email domains (mail elsewhere counts as outside).
#[tauri::command]
pub async fn set_own_domains(
    state: State<'_, AppState>,
    workspace_id: String,
    domains: Vec<String>,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .set_own_domains(&session, workspace, &domains)
                .await,
        )
        .await
}

/// Sets how long requests wait for a decision, per tier.
#[tauri::command]
pub async fn set_approval_expiry(
    state: State<'_, AppState>,
    workspace_id: String,
    expiry: ExpiryConfig,
) -> CommandResult<()> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(
            instance
                .set_approval_expiry(&session, workspace, expiry)
                .await,
        )
        .await
}

/// Every policy and tool change, newest first.
#[tauri::command]
pub async fn policy_history(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CommandResult<Vec<AuditEntry>> {
    let workspace = dto::workspace_id(&workspace_id)?;
    let (instance, session) = state.signed_in().await?;
    state
        .settle(instance.policy_history(&session, workspace).await)
        .await
}
