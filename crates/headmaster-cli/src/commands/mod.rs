//! One module per command group.

pub mod access;
pub mod approvals;
pub mod audit;
pub mod init;
pub mod keys;
pub mod runtime;
pub mod server;
pub mod session;
pub mod tools;
