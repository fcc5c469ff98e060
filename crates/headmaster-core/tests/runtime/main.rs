//! The agent runtime end to end, through the core API: the shipped playbooks behind the
//! approval gate with a real SMTP server, the OpenAI-compatible provider against a scripted
//! chat-completions server, runs that survive a SIGKILLed process, delegation that cannot widen
//! tools, heartbeats and stalls, and bad input.
//!
//! Real components where a user has them: an SMTP server on loopback (Python's aiosmtpd), an
//! HTTP server on loopback speaking the chat-completions protocol, the real shell sandbox (the
//! triage and restart tests need root and a Landlock-capable kernel, as the CI machine has),
//! and real child processes killed with SIGKILL.

#[path = "../api/common.rs"]
#[allow(dead_code)]
mod common;
mod support;

mod bad_input;
mod chat;
mod chat_errors;
mod concurrency;
mod delegation;
mod limits;
mod playbooks;
mod restart;
mod stall;
