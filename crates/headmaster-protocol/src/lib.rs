//! Formats shared by the Headmaster desktop app, its CLI and the shared on-prem server.
//!
//! Everything here is pure: bytes in, verdicts out. No database, no network, no key store; the
//! only I/O is reading and writing export bundles.
//! - [`chain`]: the canonical encoding of a stored audit event and the hash chain over it.
//! - [`checkpoint`]: signed checkpoints (sequence number + chain hash) over a chain.
//! - [`verify`]: the streaming chain verifier and its CloudTrail-style report.
//! - [`ocsf`]: the mapping of a decoded audit record to an OCSF event.
//! - [`json`]: the JSON forms of chain rows, checkpoints and the bundle manifest.
//! - [`bundle`]: writing and verifying signed export bundles.
//! - [`segment`]: the pieces of a chain a desktop uploads to the shared server.
//! - [`receipt`]: the server's signed statement of how much of a chain it holds.
//! - [`request`]: how a device signs each request to the server.

pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod json;
pub mod ocsf;
pub mod receipt;
pub mod request;
pub mod segment;
pub mod verify;
