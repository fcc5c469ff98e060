//! Tauri commands, grouped like the core's domains. Each is one call into the core.

pub mod session;
