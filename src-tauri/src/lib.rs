//! The Headmaster desktop shell.
//!
//! A thin layer over `headmaster-core`: each Tauri command parses its arguments, calls one core
//! operation with the signed-in session, and maps the error to `{code, message}`. The UI is the
//! web app in `ui/`; `capabilities/` grants it exactly the commands it uses. Long work reports
//! progress through events (`events`). Background workers (`worker`) drive agent runs and post
//! native notifications for new approval requests; the tray (`tray`) keeps them going while the
//! window is closed.

mod commands;
mod dto;
mod events;
#[cfg(test)]
mod ipc_contract;
mod state;
mod tray;
mod worker;

#[cfg(test)]
mod ipc_tests;

use state::AppState;
use tauri::{Manager, Runtime, WindowEvent};

/// Starts the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    app(tauri::Builder::default(), AppState::from_env())
        .setup(|app| {
            // Without a tray host the app still works; closing the window then quits it.
            if let Err(error) = tray::create(app) {
                tracing::warn!(%error, "no tray icon; closing the window will quit the app");
            }
            tray::open_inbox_on_click(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if tray::exists(window.app_handle()) {
                    api.prevent_close();
                    if let Err(error) = window.hide() {
                        tracing::warn!(%error, "could not hide the window to the tray");
                    }
                }
            }
        })
        .run(context())
        .expect("error while running the Headmaster desktop app");
}

/// The app without its runtime: plugins, state and every command. The background workers start
/// when the instance is unlocked (`AppState::unlocked`). Tests build the same app on Tauri's
/// mock runtime.
fn app<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::session::app_status,
            commands::session::setup,
            commands::session::unlock,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::session::whoami,
            commands::workspaces::create_workspace,
            commands::workspaces::rename_workspace,
            commands::workspaces::delete_workspace,
            commands::members::list_members,
            commands::members::add_member,
            commands::members::set_member_role,
            commands::members::remove_member,
            commands::roles::list_roles,
            commands::roles::create_role,
            commands::roles::delete_role,
            commands::users::list_users,
            commands::users::add_user,
            commands::users::disable_user,
            commands::users::enable_user,
            commands::keys::keys_status,
            commands::keys::rotate_keys,
            commands::keys::retire_unused_keys,
            commands::keys::rotate_kek,
            commands::keys::maintain_keys,
            commands::server::server_status,
            commands::server::join_server,
            commands::server::sync_server,
            commands::server::repin_server,
            commands::server::resume_sync_chain,
            commands::server::leave_server,
            commands::audit::query_audit,
            commands::audit::verify_audit,
            commands::audit::export_audit,
            commands::audit::archive_audit,
            commands::tools::list_tools,
            commands::tools::enable_tool,
            commands::tools::disable_tool,
            commands::tools::set_tool_tier,
            commands::tools::configure_tool,
            commands::tools::add_rule,
            commands::tools::remove_rule,
            commands::tools::set_own_domains,
            commands::tools::set_approval_expiry,
            commands::tools::policy_history,
            commands::credentials::list_credentials,
            commands::credentials::set_credential,
            commands::credentials::delete_credential,
            commands::approvals::list_approvals,
            commands::approvals::show_approval,
            commands::approvals::decide_approval,
            commands::approvals::list_grants,
            commands::approvals::create_grant,
            commands::approvals::revoke_grant,
            commands::runtime::list_agents,
            commands::runtime::example_playbooks,
            commands::runtime::install_example_playbook,
            commands::runtime::start_run,
            commands::runtime::list_runs,
            commands::runtime::show_run,
            commands::runtime::cancel_run,
            commands::runtime::resume_run,
            commands::runtime::list_drafts,
            commands::runtime::show_draft,
            commands::runtime::list_memory,
            commands::runtime::write_memory,
        ])
}

/// The app's configuration and capabilities from the root `tauri.conf.json`.
fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!("../tauri.conf.json")
}
