//! Integration tests of the core API, one module per domain.

mod common;
mod identity;
