//! Integration tests of the core API, one module per domain.

mod access;
mod child;
mod common;
mod gate;
mod identity;
mod isolation;
mod keychain;
mod membership_prop;
mod raw_scan;
mod rotation;
mod vault;
