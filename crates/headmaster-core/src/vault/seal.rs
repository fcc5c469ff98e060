//! The sealed-value format and AES-256-GCM sealing.
//!
//! A sealed value is `format || key reference || nonce (96 bits, random) || ciphertext+tag`:
//! - format 1: the key reference is the scope's data-key version (big-endian `u32`);
//! - format 2: the key reference is a data subject's id (16 bytes), for personal data that must
//!   become unreadable when that subject is erased (crypto-shredding);
//! - format 3: the key reference is the scope's audit-key version (big-endian `u32`).
//!
//! The additional authenticated data binds the value to where it lives — scope (instance or
//! workspace id), table, column and row id — and to its own header, so a value copied into
//! another row, column or workspace, or relabelled with another key version, fails to open.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use rand::RngCore;

use super::keys::Key256;

/// Header byte of a value sealed under a scope data key.
pub const FORMAT_DATA_KEY: u8 = 1;
/// Header byte of a value sealed under a data subject's key.
pub const FORMAT_SUBJECT_KEY: u8 = 2;
/// Header byte of a value sealed under a scope audit key (audit rows are hashed as stored, so
/// they are never re-encrypted; their keys are retained, decrypt-only, after rotation).
pub const FORMAT_AUDIT_KEY: u8 = 3;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const AAD_TAG: &[u8] = b"headmaster-aad-v1";

/// Where a sealed value lives. Every field takes part in the authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    /// `instance` or a workspace id.
    pub scope: &'a str,
    /// Table name.
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
    /// Row id (primary key as text).
    pub row: &'a str,
}

impl<'a> Aad<'a> {
    /// Shorthand constructor.
    pub fn new(scope: &'a str, table: &'a str, column: &'a str, row: &'a str) -> Self {
        Self {
            scope,
            table,
            column,
            row,
        }
    }

    fn encode(&self, header: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            AAD_TAG.len()
                + 20
                + self.scope.len()
                + self.table.len()
                + self.column.len()
                + self.row.len()
                + header.len(),
        );
        for part in [
            AAD_TAG,
            self.scope.as_bytes(),
            self.table.as_bytes(),
            self.column.as_bytes(),
            self.row.as_bytes(),
            header,
        ] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }
}

/// Which key a sealed value names in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef {
    /// A version of the scope's data key.
    DataKey(u32),
    /// A version of the scope's audit key.
    AuditKey(u32),
    /// A data subject's key.
    Subject([u8; 16]),
}

impl KeyRef {
    fn header(&self) -> Vec<u8> {
        match self {
            KeyRef::DataKey(version) => {
                let mut h = vec![FORMAT_DATA_KEY];
                h.extend_from_slice(&version.to_be_bytes());
                h
            }
            KeyRef::Subject(id) => {
                let mut h = vec![FORMAT_SUBJECT_KEY];
                h.extend_from_slice(id);
                h
            }
            KeyRef::AuditKey(version) => {
                let mut h = vec![FORMAT_AUDIT_KEY];
                h.extend_from_slice(&version.to_be_bytes());
                h
            }
        }
    }
}

/// Why a sealed value could not be parsed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Too short or an unknown format byte.
    #[error("sealed value is malformed")]
    Malformed,
    /// Authentication failed: wrong key, altered bytes, or moved to another place.
    #[error("sealed value failed authentication")]
    Authentication,
}

/// Reads the key reference from a sealed value's header without decrypting it.
pub fn key_ref(sealed: &[u8]) -> Result<KeyRef, OpenError> {
    match sealed.first() {
        Some(&FORMAT_DATA_KEY) if sealed.len() >= 5 + NONCE_LEN + TAG_LEN => {
            let version = u32::from_be_bytes(sealed[1..5].try_into().expect("4 bytes"));
            Ok(KeyRef::DataKey(version))
        }
        Some(&FORMAT_AUDIT_KEY) if sealed.len() >= 5 + NONCE_LEN + TAG_LEN => {
            let version = u32::from_be_bytes(sealed[1..5].try_into().expect("4 bytes"));
            Ok(KeyRef::AuditKey(version))
        }
        Some(&FORMAT_SUBJECT_KEY) if sealed.len() >= 17 + NONCE_LEN + TAG_LEN => {
            Ok(KeyRef::Subject(sealed[1..17].try_into().expect("16 bytes")))
        }
        _ => Err(OpenError::Malformed),
    }
}

/// AES-256-GCM under one key with its key schedule expanded once, so that sealing many values
/// under a cached key version does not redo it per value. Not `Clone`; the round keys and the
/// GHASH key are wiped on drop (the `aes` and `polyval` crates' `zeroize` features, enabled in
/// this crate's manifest).
pub struct Cipher(Aes256Gcm);

impl Cipher {
    /// Expands `key`.
    pub fn new(key: &Key256) -> Self {
        Self(Aes256Gcm::new(key.dangerously_expose().into()))
    }
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}

/// Seals `plaintext` under `key`, naming `key_ref` in the header and binding `aad`.
pub fn seal_with(key: &Key256, key_ref: KeyRef, aad: &Aad<'_>, plaintext: &[u8]) -> Vec<u8> {
    seal_with_cipher(&Cipher::new(key), key_ref, aad, plaintext)
}

/// [`seal_with`] under an expanded key.
pub fn seal_with_cipher(
    cipher: &Cipher,
    key_ref: KeyRef,
    aad: &Aad<'_>,
    plaintext: &[u8],
) -> Vec<u8> {
    let header = key_ref.header();
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad_bytes = aad.encode(&header);
    let ciphertext = cipher
        .0
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad_bytes,
            },
        )
        .expect("AES-GCM encryption cannot fail for inputs under 64 GiB");
    let mut out = Vec::with_capacity(header.len() + NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Opens a value sealed by [`seal_with`] with the key its header names.
pub fn open_with(key: &Key256, aad: &Aad<'_>, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    open_with_cipher(&Cipher::new(key), aad, sealed)
}

/// [`open_with`] under an expanded key.
pub fn open_with_cipher(
    cipher: &Cipher,
    aad: &Aad<'_>,
    sealed: &[u8],
) -> Result<Vec<u8>, OpenError> {
    let header_len = match key_ref(sealed)? {
        KeyRef::DataKey(_) | KeyRef::AuditKey(_) => 5,
        KeyRef::Subject(_) => 17,
    };
    let (header, rest) = sealed.split_at(header_len);
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    cipher
        .0
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad.encode(header),
            },
        )
        .map_err(|_| OpenError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn aad() -> Aad<'static> {
        Aad::new("ws-a", "memory", "body", "row-1")
    }

    proptest! {
        #[test]
        fn round_trip(plaintext in proptest::collection::vec(any::<u8>(), 0..2048), version in 1u32..1000) {
            let key = Key256::random();
            let sealed = seal_with(&key, KeyRef::DataKey(version), &aad(), &plaintext);
            prop_assert_eq!(key_ref(&sealed).unwrap(), KeyRef::DataKey(version));
            prop_assert_eq!(open_with(&key, &aad(), &sealed).unwrap(), plaintext);
        }

        #[test]
        fn any_single_bit_flip_fails(plaintext in proptest::collection::vec(any::<u8>(), 1..256), bit in any::<proptest::sample::Index>()) {
            let key = Key256::random();
            let mut sealed = seal_with(&key, KeyRef::DataKey(3), &aad(), &plaintext);
            let bit = bit.index(sealed.len() * 8);
            sealed[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(open_with(&key, &aad(), &sealed).is_err());
        }

        #[test]
        fn moved_values_fail(plaintext in proptest::collection::vec(any::<u8>(), 0..256), which in 0usize..4) {
            let key = Key256::random();
            let sealed = seal_with(&key, KeyRef::DataKey(1), &aad(), &plaintext);
            let mut moved = aad();
            match which {
                0 => moved.scope = "ws-b",
                1 => moved.table = "drafts",
                2 => moved.column = "title",
                _ => moved.row = "row-2",
            }
            prop_assert_eq!(open_with(&key, &moved, &sealed), Err(OpenError::Authentication));
        }
    }

    #[test]
    fn relabelled_key_version_or_series_fails() {
        let key = Key256::random();
        let mut sealed = seal_with(&key, KeyRef::DataKey(1), &aad(), b"secret");
        sealed[4] = 2;
        assert_eq!(
            open_with(&key, &aad(), &sealed),
            Err(OpenError::Authentication)
        );
        let mut audit = seal_with(&key, KeyRef::AuditKey(1), &aad(), b"secret");
        assert_eq!(key_ref(&audit).unwrap(), KeyRef::AuditKey(1));
        audit[0] = FORMAT_DATA_KEY;
        assert_eq!(key_ref(&audit).unwrap(), KeyRef::DataKey(1));
        assert_eq!(
            open_with(&key, &aad(), &audit),
            Err(OpenError::Authentication)
        );
    }

    #[test]
    fn subject_values_name_their_subject() {
        let key = Key256::random();
        let subject = [7u8; 16];
        let sealed = seal_with(&key, KeyRef::Subject(subject), &aad(), b"alice@example.org");
        assert_eq!(key_ref(&sealed).unwrap(), KeyRef::Subject(subject));
        assert_eq!(
            open_with(&key, &aad(), &sealed).unwrap(),
            b"alice@example.org"
        );
        let other = Key256::random();
        assert!(open_with(&other, &aad(), &sealed).is_err());
    }

    #[test]
    fn truncated_values_are_malformed() {
        assert_eq!(key_ref(&[1, 0, 0]), Err(OpenError::Malformed));
        assert_eq!(key_ref(&[]), Err(OpenError::Malformed));
        assert_eq!(key_ref(&[9; 64]), Err(OpenError::Malformed));
    }
}
