//! The `headmaster` binary driven as a user or a script would, in temp data directories.

mod access;
mod gate;
mod harness;
mod runtime;
mod session;
