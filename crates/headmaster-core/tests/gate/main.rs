//! The tool gate end to end, through the core API: the catalog (deny by default), argument
//! validation, confined files, SSRF-safe HTTP, the sandboxed shell, credentials that never
//! leak, the approval gate (tiers, quorum, expiry, hash-bound execution that runs once) and
//! standing grants. Every refusal is checked together with the audit event that records it.
//!
//! Real components where a user has them: an SMTP server on loopback (Python's aiosmtpd),
//! HTTP servers on loopback, the real Landlock/seccomp sandbox (the shell tests need root and a
//! Landlock-capable kernel, as the CI machine has).

#[path = "../api/common.rs"]
#[allow(dead_code)]
mod common;
mod support;

mod approvals;
mod catalog;
mod chained;
mod corrupt;
mod credentials;
mod email;
mod execution;
mod files;
mod grants;
mod http;
mod runtime;
mod shell;
