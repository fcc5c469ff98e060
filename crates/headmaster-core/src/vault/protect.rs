//! Protection of the key-encryption key (KEK).
//!
//! The KEK never touches the data directory. It lives either in the operating system's keychain
//! (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows, through the
//! `keyring` crate), or — only when the administrator chose it explicitly — it is derived from a
//! passphrase with Argon2id each time the instance is unlocked; then only the salt and the
//! Argon2 parameters are stored.
//!
//! A short "check" value sealed under the KEK is stored so that a wrong passphrase, or a keychain
//! entry belonging to another installation, is recognised before anything is decrypted or
//! written.

use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use super::keys::{Key256, SecretBytes};
use super::seal::{open_with, seal_with, Aad, KeyRef};
use super::VaultError;

/// Keychain service name under which KEKs are stored.
pub const KEYCHAIN_SERVICE: &str = "headmaster";

const CHECK_PLAINTEXT: &[u8] = b"headmaster-kek-check-v1";

/// How the KEK of an installation is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// A random KEK stored in the operating system keychain.
    Keychain,
    /// A KEK derived from an administrator's passphrase with Argon2id.
    Passphrase,
}

impl Protection {
    /// Stable name stored in the database and shown to users.
    pub fn as_str(&self) -> &'static str {
        match self {
            Protection::Keychain => "keychain",
            Protection::Passphrase => "passphrase",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "keychain" => Some(Protection::Keychain),
            "passphrase" => Some(Protection::Passphrase),
            _ => None,
        }
    }
}

/// Argon2id parameters and salt for passphrase-derived KEKs, stored beside the salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
    /// Random 16-byte salt.
    pub salt: Vec<u8>,
}

impl KdfParams {
    /// Fresh parameters for a new passphrase: 64 MiB, 3 passes, 1 lane (stronger than OWASP's
    /// minimum for password hashes, since this unlocks every key of the installation).
    pub fn generate() -> Self {
        let mut salt = vec![0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        Self {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
            salt,
        }
    }
}

/// Minimum passphrase length accepted for key protection.
pub const MIN_PASSPHRASE_LEN: usize = 12;

/// Derives the KEK from `passphrase`. Costly by design (about a quarter of a second).
pub fn derive_kek(passphrase: &SecretBytes, params: &KdfParams) -> Result<Key256, VaultError> {
    let argon_params = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| VaultError::Corrupt(format!("stored Argon2 parameters are invalid: {e}")))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(passphrase.dangerously_expose(), &params.salt, &mut out)
        .map_err(|e| VaultError::Corrupt(format!("key derivation failed: {e}")))?;
    Ok(Key256::from_bytes(&mut out))
}

/// The check value stored for a KEK: proves at unlock time that the KEK is the right one.
pub fn kek_check(kek: &Key256, instance: &str, kek_version: u32) -> Vec<u8> {
    let row = kek_version.to_string();
    seal_with(
        kek,
        KeyRef::DataKey(kek_version),
        &Aad::new(instance, "instance", "kek_check", &row),
        CHECK_PLAINTEXT,
    )
}

/// Whether `kek` opens the stored check value.
pub fn kek_matches(kek: &Key256, instance: &str, kek_version: u32, check: &[u8]) -> bool {
    let row = kek_version.to_string();
    open_with(
        kek,
        &Aad::new(instance, "instance", "kek_check", &row),
        check,
    )
    .is_ok_and(|plain| plain == CHECK_PLAINTEXT)
}

/// Wraps a data, index, device or subject key under the KEK. `label` names the key (scope,
/// purpose, version) so a wrapped key cannot be swapped for another.
pub fn wrap(kek: &Key256, kek_version: u32, instance: &str, label: &str, key: &Key256) -> Vec<u8> {
    seal_with(
        kek,
        KeyRef::DataKey(kek_version),
        &Aad::new(instance, "wrapped_keys", "key", label),
        key.dangerously_expose(),
    )
}

/// Unwraps a key wrapped by [`wrap`].
pub fn unwrap(
    kek: &Key256,
    instance: &str,
    label: &str,
    wrapped: &[u8],
) -> Result<Key256, VaultError> {
    let plain = SecretBytes::new(
        open_with(
            kek,
            &Aad::new(instance, "wrapped_keys", "key", label),
            wrapped,
        )
        .map_err(|_| VaultError::Decrypt)?,
    );
    Key256::from_slice(plain.dangerously_expose()).ok_or(VaultError::Decrypt)
}

/// The operating system keychain, reached through the `keyring` crate.
///
/// Calls block (D-Bus round trips on Linux); async callers run them on a blocking thread.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Self {
            service: KEYCHAIN_SERVICE.to_string(),
        }
    }
}

impl Keychain {
    /// A keychain client storing entries under `service`.
    pub fn with_service(service: &str) -> Self {
        Self {
            service: service.to_string(),
        }
    }

    fn entry(&self, instance: &str, kek_version: u32) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(&self.service, &format!("kek:{instance}:v{kek_version}"))
            .map_err(keychain_error)
    }

    /// Stores a KEK version.
    pub fn store(&self, instance: &str, kek_version: u32, kek: &Key256) -> Result<(), VaultError> {
        self.entry(instance, kek_version)?
            .set_secret(kek.dangerously_expose())
            .map_err(keychain_error)
    }

    /// Loads a KEK version.
    pub fn load(&self, instance: &str, kek_version: u32) -> Result<Key256, VaultError> {
        let secret = SecretBytes::new(
            self.entry(instance, kek_version)?
                .get_secret()
                .map_err(keychain_error)?,
        );
        Key256::from_slice(secret.dangerously_expose()).ok_or_else(|| {
            VaultError::Corrupt("the keychain entry does not hold a 256-bit key".into())
        })
    }

    /// Deletes a KEK version (after a KEK rotation, or when the instance is destroyed).
    pub fn delete(&self, instance: &str, kek_version: u32) -> Result<(), VaultError> {
        match self.entry(instance, kek_version)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

fn keychain_error(error: keyring::Error) -> VaultError {
    match error {
        keyring::Error::NoEntry => VaultError::KeychainEntryMissing,
        keyring::Error::NoStorageAccess(inner) => {
            VaultError::KeychainUnavailable(inner.to_string())
        }
        keyring::Error::PlatformFailure(inner) => {
            VaultError::KeychainUnavailable(inner.to_string())
        }
        other => VaultError::KeychainUnavailable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick_params() -> KdfParams {
        KdfParams {
            m_kib: 1024,
            t: 1,
            p: 1,
            salt: vec![1; 16],
        }
    }

    #[test]
    fn same_passphrase_same_kek_other_passphrase_fails_check() {
        let params = quick_params();
        let kek = derive_kek(
            &SecretBytes::from("correct horse battery".to_string()),
            &params,
        )
        .unwrap();
        let check = kek_check(&kek, "inst", 1);
        let again = derive_kek(
            &SecretBytes::from("correct horse battery".to_string()),
            &params,
        )
        .unwrap();
        assert!(kek_matches(&again, "inst", 1, &check));
        let wrong = derive_kek(
            &SecretBytes::from("correct horse battery!".to_string()),
            &params,
        )
        .unwrap();
        assert!(!kek_matches(&wrong, "inst", 1, &check));
        assert!(!kek_matches(&kek, "other-instance", 1, &check));
    }

    #[test]
    fn wrapped_keys_are_bound_to_their_label() {
        let kek = Key256::random();
        let dek = Key256::random();
        let wrapped = wrap(&kek, 1, "inst", "ws-a/data/1", &dek);
        let back = unwrap(&kek, "inst", "ws-a/data/1", &wrapped).unwrap();
        assert_eq!(back.dangerously_expose(), dek.dangerously_expose());
        assert!(matches!(
            unwrap(&kek, "inst", "ws-b/data/1", &wrapped),
            Err(VaultError::Decrypt)
        ));
        assert!(matches!(
            unwrap(&Key256::random(), "inst", "ws-a/data/1", &wrapped),
            Err(VaultError::Decrypt)
        ));
    }
}
