//! One module per command group.

pub mod init;
pub mod session;
