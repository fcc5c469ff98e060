//! `headmaster-server`: the shared on-prem server of a Headmaster team.
//!
//! It archives every enrolled desktop's audit chains, checking each uploaded segment against
//! what it holds (gaps, forks and rollbacks are refused and recorded, forks quarantined), and
//! answers each accepted segment with a receipt signed by its own key so a desktop can later
//! catch a server that lost data. It speaks HTTPS with TLS 1.3 only.
//!
//! - [`data`]: the data directory (keys, certificate, default database).
//! - [`keys`]: the data key that seals stored values and the server's signing key.
//! - [`tls`]: rustls configuration, self-signed certificates, SPKI pins, reload.
//! - [`store`]: the storage trait and its SQLite and PostgreSQL backends.
//! - [`ingest`]: where an uploaded segment goes and what the server does about it.
//! - [`api`]: the HTTP routes, device authentication, errors.
//! - [`access`]: the server's own hash-chained access log and its export.
//! - [`serve`]: the listener loop.
//! - [`siem`]: the SIEM feed (filters, stable event uids, NDJSON pages).
//! - [`sink`]: push sinks (syslog over TLS, Splunk HEC), their cursors, leases and retries.
//! - [`admin`]: what the `enroll`, `device` and `status` commands do.
//!
//! The server knows nothing of Tauri or of the desktop's store; what it shares with the desktop
//! is `headmaster-protocol`.

pub mod access;
pub mod admin;
pub mod api;
pub mod clock;
pub mod data;
pub mod ingest;
pub mod keys;
pub mod serve;
pub mod siem;
pub mod sink;
pub mod store;
pub mod tls;
