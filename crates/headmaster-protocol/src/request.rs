//! Signed requests: how a device proves, on every call to the server, that it holds its key.
//!
//! The device signs the method, the path with its query, its own fingerprint, the time, a
//! random nonce and the SHA-256 of the body with its Ed25519 device key, and sends the pieces in
//! four headers. The server checks the signature against the key it enrolled, refuses a time
//! further than [`MAX_SKEW_MS`] from its clock, and refuses a nonce it has seen within that
//! window; so a captured request cannot be replayed, redirected to another path or given
//! another body. No session exists that could be stolen.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::chain::put_field;
use crate::checkpoint::key_fingerprint;

/// The device's OpenSSH fingerprint.
pub const DEVICE_HEADER: &str = "x-headmaster-device";
/// Milliseconds since the Unix epoch when the request was signed.
pub const TIME_HEADER: &str = "x-headmaster-time";
/// 32 lowercase hex digits, fresh for every request.
pub const NONCE_HEADER: &str = "x-headmaster-nonce";
/// The Ed25519 signature over [`signing_bytes`], base64.
pub const SIGNATURE_HEADER: &str = "x-headmaster-signature";
/// How far a request's time may be from the server's clock, either way.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// Domain separator at the start of every canonical request encoding.
const REQUEST_TAG: &[u8] = b"headmaster-device-request-v1";

/// What a device signs for one request.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// Path and query exactly as sent, e.g. `/api/v1/chains/instance/segments`.
    pub path_and_query: &'a str,
    /// The device's fingerprint.
    pub device: &'a str,
    /// Milliseconds since the epoch.
    pub time_ms: i64,
    /// The nonce header's value.
    pub nonce: &'a str,
    /// The request body.
    pub body: &'a [u8],
}

/// The four header values of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// Value of [`DEVICE_HEADER`].
    pub device: String,
    /// Value of [`TIME_HEADER`].
    pub time: String,
    /// Value of [`NONCE_HEADER`].
    pub nonce: String,
    /// Value of [`SIGNATURE_HEADER`].
    pub signature: String,
}

/// Why a signed request was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// A header is missing or not in its format.
    #[error("the request is not signed: header `{0}` is missing or malformed; sign every request with the device key")]
    Header(&'static str),
    /// The time is too far from the server's clock.
    #[error("the request was signed {skew_ms} ms away from the server's clock (at most {MAX_SKEW_MS} ms allowed); check this machine's clock")]
    Stale {
        /// Signed time minus server time.
        skew_ms: i64,
    },
    /// The signature does not verify.
    #[error("the request's signature does not match the enrolled device key")]
    BadSignature,
}

impl RequestParts<'_> {
    /// The canonical byte encoding that is signed.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.path_and_query.len());
        put_field(&mut out, REQUEST_TAG);
        put_field(&mut out, self.method.as_bytes());
        put_field(&mut out, self.path_and_query.as_bytes());
        put_field(&mut out, self.device.as_bytes());
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        put_field(&mut out, self.nonce.as_bytes());
        put_field(&mut out, &Sha256::digest(self.body));
        out
    }

    /// Signs the request with the device key; `device` must be that key's fingerprint.
    pub fn sign(&self, key: &SigningKey) -> SignedHeaders {
        debug_assert_eq!(self.device, key_fingerprint(&key.verifying_key()));
        SignedHeaders {
            device: self.device.to_owned(),
            time: self.time_ms.to_string(),
            nonce: self.nonce.to_owned(),
            signature: STANDARD.encode(key.sign(&self.signing_bytes()).to_bytes()),
        }
    }

    /// Checks the signature (base64, from the header) with `key`, and the time against `now_ms`.
    /// The caller still has to refuse a nonce it has seen.
    pub fn verify(
        &self,
        signature: &str,
        key: &VerifyingKey,
        now_ms: i64,
    ) -> Result<(), RequestError> {
        let skew_ms = self.time_ms - now_ms;
        if skew_ms.abs() > MAX_SKEW_MS {
            return Err(RequestError::Stale { skew_ms });
        }
        if self.nonce.len() != 32 || !self.nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RequestError::Header(NONCE_HEADER));
        }
        let bytes = STANDARD
            .decode(signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .ok_or(RequestError::Header(SIGNATURE_HEADER))?;
        key.verify_strict(&self.signing_bytes(), &Signature::from_bytes(&bytes))
            .map_err(|_| RequestError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_every_part_and_expires() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let device = key_fingerprint(&key.verifying_key());
        let parts = RequestParts {
            method: "POST",
            path_and_query: "/api/v1/chains/instance/segments",
            device: &device,
            time_ms: 1_000_000,
            nonce: "0123456789abcdef0123456789abcdef",
            body: b"{}",
        };
        let signed = parts.sign(&key);
        let vk = key.verifying_key();
        assert_eq!(parts.verify(&signed.signature, &vk, 1_000_000), Ok(()));
        let other_nonce = "f123456789abcdef0123456789abcdef";
        for altered in [
            RequestParts {
                method: "PUT",
                ..parts
            },
            RequestParts {
                path_and_query: "/api/v1/chains/other/segments",
                ..parts
            },
            RequestParts {
                time_ms: 1_000_001,
                ..parts
            },
            RequestParts {
                nonce: other_nonce,
                ..parts
            },
            RequestParts {
                body: b"{ }",
                ..parts
            },
        ] {
            assert_eq!(
                altered.verify(&signed.signature, &vk, 1_000_000),
                Err(RequestError::BadSignature)
            );
        }
        assert!(matches!(
            parts.verify(&signed.signature, &vk, 1_000_000 + MAX_SKEW_MS + 1),
            Err(RequestError::Stale { .. })
        ));
        let other = SigningKey::from_bytes(&[5; 32]).verifying_key();
        assert_eq!(
            parts.verify(&signed.signature, &other, 1_000_000),
            Err(RequestError::BadSignature)
        );
    }
}
