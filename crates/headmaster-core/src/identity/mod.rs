//! Identity: local users, Argon2id passwords, sessions with expiry, and sign-in throttling.

pub mod password;
mod cli_token;
mod session;
mod signin;
pub(crate) mod users;

pub use session::{Session, SessionToken};
pub use signin::{SignedIn, UserSummary, WhoAmI};
pub use users::ERASED;
