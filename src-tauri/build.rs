//! Builds the Tauri context from the root `tauri.conf.json` and declares the app's commands, so
//! that `capabilities/` must grant each one explicitly.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(headmaster_commands());
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(manifest),
    )
    .expect("tauri build step failed");
}

/// Every command the shell registers. Keep in sync with `src/lib.rs`'s `generate_handler!`.
fn headmaster_commands() -> &'static [&'static str] {
    &[
        "app_status",
        "setup",
        "unlock",
        "sign_in",
        "sign_out",
        "whoami",
    ]
}
