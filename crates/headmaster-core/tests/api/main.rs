//! Integration tests of the core API, one module per domain.

mod access;
mod child;
mod common;
mod faults;
mod gate;
mod gate_scan;
mod identity;
mod isolation;
mod keychain;
mod matrix;
mod membership_prop;
mod raw_scan;
mod rotation;
mod rotation_kill;
mod rust_source;
mod vault;
