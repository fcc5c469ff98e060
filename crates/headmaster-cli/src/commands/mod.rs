//! One module per command group.

pub mod access;
pub mod init;
pub mod keys;
pub mod session;
