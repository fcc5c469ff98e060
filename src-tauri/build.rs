//! Builds the Tauri context from the root `tauri.conf.json` and declares the app's commands, so
//! that `capabilities/` must grant each one explicitly.

fn main() {
    println!("cargo:rerun-if-changed=commands.in");
    let manifest = tauri_build::AppManifest::new().commands(headmaster_commands());
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(manifest),
    )
    .expect("tauri build step failed");
}

/// Every command the shell registers (kept in `commands.in`, shared with the IPC tests).
fn headmaster_commands() -> &'static [&'static str] {
    include!("commands.in")
}
