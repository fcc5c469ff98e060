//! Sessions: who is signed in, until when, from where.
//!
//! A session is created by a successful sign-in and named by a random 256-bit bearer token.
//! Only the token's SHA-256 is stored, so a copy of the database cannot be replayed as a
//! session. Every gated operation re-reads the session row, so sign-out, expiry and disabling
//! the user take effect immediately.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::access::Role;
use crate::audit::Source;
use crate::ids::{SessionId, UserId};

/// A signed-in person, as every gated operation receives them.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session.
    pub id: SessionId,
    /// The user.
    pub user_id: UserId,
    /// The user's name at sign-in.
    pub username: String,
    /// The user's organisation role.
    pub org_role: Role,
    /// When the session ends (ms).
    pub expires_at: i64,
    /// Where requests in this session come from.
    pub source: Source,
}

/// The bearer token of a session. Printed as `SessionToken(***)`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh random token.
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("hm_{}", URL_SAFE_NO_PAD.encode(bytes));
        bytes.zeroize();
        Self(token)
    }

    /// Wraps a token read back from storage.
    pub fn from_string(token: String) -> Self {
        Self(token)
    }

    /// The token text, for storing it (sealed) on the client.
    pub fn dangerously_expose(&self) -> &str {
        &self.0
    }

    /// The stored form.
    pub(crate) fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_redacted() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a.dangerously_expose(), b.dangerously_expose());
        assert!(a.dangerously_expose().starts_with("hm_"));
        assert_eq!(a.dangerously_expose().len(), 3 + 43);
        assert_eq!(format!("{a:?}"), "SessionToken(***)");
        assert_eq!(a.hash().len(), 32);
        assert_ne!(a.hash(), b.hash());
    }
}
