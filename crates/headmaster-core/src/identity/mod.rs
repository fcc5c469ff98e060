//! Identity: local users, Argon2id passwords, sessions with expiry, and sign-in throttling.

mod accounts;
mod cli_token;
mod erasure;
pub mod password;
mod session;
mod signin;
pub(crate) mod users;

pub use erasure::{ErasureReport, SubjectEvents, SubjectExport};
pub use session::{Session, SessionToken};
pub use signin::{SignedIn, UserSummary, WhoAmI};
pub use users::ERASED;
