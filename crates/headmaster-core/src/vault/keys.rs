//! Key newtypes.
//!
//! Key material never derives `Clone`, `Serialize` or `Display`, prints as `Key(***)`, and is
//! zeroised when dropped. The raw bytes are reachable only through the deliberately awkward
//! [`Key256::dangerously_expose`], so every use is easy to find in review.

use std::fmt;

use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// 256 bits of secret key material.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Key256([u8; 32]);

impl Key256 {
    /// Fresh random key material from the operating system's CSPRNG.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Takes ownership of `bytes`, zeroising the caller's copy.
    pub fn from_bytes(bytes: &mut [u8; 32]) -> Self {
        let key = Self(*bytes);
        bytes.zeroize();
        key
    }

    /// Builds a key from a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut array: [u8; 32] = bytes.try_into().ok()?;
        Some(Self::from_bytes(&mut array))
    }

    /// The raw key bytes. Only cipher construction and wrapping may call this.
    pub fn dangerously_expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Key256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(***)")
    }
}

/// Secret bytes of any length (a passphrase, a wrapped-key plaintext), zeroised on drop.
#[derive(Zeroize, ZeroizeOnDrop, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret bytes.
    pub fn dangerously_expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<String> for SecretBytes {
    fn from(text: String) -> Self {
        Self(text.into_bytes())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_key_bytes() {
        let mut raw = [0xAB; 32];
        let key = Key256::from_bytes(&mut raw);
        assert_eq!(raw, [0u8; 32], "caller's copy is zeroised");
        let shown = format!("{key:?}");
        assert_eq!(shown, "Key(***)");
        assert!(!shown.to_lowercase().contains("ab"));
        let secret = SecretBytes::from("hunter2-passphrase".to_string());
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn random_keys_differ() {
        let a = Key256::random();
        let b = Key256::random();
        assert_ne!(a.dangerously_expose(), b.dangerously_expose());
    }
}
