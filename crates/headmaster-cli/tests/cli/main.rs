//! The `headmaster` binary driven as a user or a script would, in temp data directories.

mod harness;
mod session;
