//! Tauri commands, grouped like the core's domains. Each is one call into the core.

pub mod keys;
pub mod members;
pub mod roles;
pub mod session;
pub mod users;
pub mod workspaces;
