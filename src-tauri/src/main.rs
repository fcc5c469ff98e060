//! Entry point of the desktop app; everything lives in the library's `run`.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    headmaster_desktop::run();
}
