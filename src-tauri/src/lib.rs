//! The Headmaster desktop shell.
//!
//! A thin layer over `headmaster-core`: each Tauri command parses its arguments, calls one core
//! operation with the signed-in session, and maps the error to `{code, message}`. The UI is the
//! web app in `ui/`; `capabilities/` grants it exactly the commands it uses. Long key work
//! reports progress through events (`events`).

mod commands;
mod dto;
mod events;
mod state;

#[cfg(test)]
mod ipc_tests;

use state::AppState;
use tauri::Runtime;

/// Starts the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    app(tauri::Builder::default(), AppState::from_env())
        .run(context())
        .expect("error while running the Headmaster desktop app");
}

/// The app without its runtime: plugins, state and every command. Tests build the same app on
/// Tauri's mock runtime.
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
        ])
}

/// The app's configuration and capabilities from the root `tauri.conf.json`.
fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!("../tauri.conf.json")
}
