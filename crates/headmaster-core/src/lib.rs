//! The Headmaster engine.
//!
//! Headmaster puts AI agents behind a trust boundary: agents draft and prepare inside a
//! workspace; anything that leaves it waits for a person with the right role; every step is in an
//! immutable, verifiable audit log; everything stored is encrypted at rest.
//!
//! This crate knows nothing of Tauri or HTTP serving. The desktop shell and the CLI open an
//! [`Instance`], sign a user in to get a [`Session`], and call one operation per request.

pub mod access;
pub mod approvals;
pub mod audit;
pub mod clock;
pub mod error;
pub mod events;
pub mod gate;
pub mod identity;
pub mod ids;
pub mod instance;
pub mod maintenance;
pub mod paging;
pub mod runtime;
pub mod states;
pub mod store;
pub mod sync;
pub mod tools;
pub mod vault;

pub use error::{Error, Result};
pub use identity::Session;
pub use instance::{Environment, InitConfig, Instance, InstanceStatus, Unlock};
