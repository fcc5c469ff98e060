//! The audit log against tampering, crashes, export and erasure, through the core API and raw
//! SQL/bytes.

#[path = "../api/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../shared/server.rs"]
#[allow(dead_code)]
mod server;
mod support;

mod bundle;
mod crash;
mod erasure;
mod query;
mod sync;
mod tamper;
