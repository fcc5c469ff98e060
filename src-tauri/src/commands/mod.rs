//! Tauri commands, grouped like the core's domains. Each is one call into the core.

pub mod approvals;
pub mod audit;
pub mod credentials;
pub mod keys;
pub mod members;
pub mod roles;
pub mod runtime;
pub mod server;
pub mod session;
pub mod tools;
pub mod users;
pub mod workspaces;
