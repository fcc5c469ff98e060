//! The Headmaster desktop shell.
//!
//! A thin layer over `headmaster-core`: each Tauri command parses its arguments, calls one core
//! operation with the signed-in session, and maps the error to `{code, message}`. The UI is the
//! web app in `ui/`; `capabilities/` grants it exactly the commands it uses.

mod commands;
mod dto;
mod state;

use state::AppState;

/// Starts the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(AppState::from_env())
        .invoke_handler(tauri::generate_handler![
            commands::session::app_status,
            commands::session::setup,
            commands::session::unlock,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::session::whoami,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running the Headmaster desktop app");
}
