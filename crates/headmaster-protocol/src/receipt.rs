//! Receipts: the server's signed statement that it holds a device's chain up to a point.
//!
//! For every accepted segment the server signs "I hold the chain of `scope` from device
//! `device` up to `seq`, whose hash is `hash`, as of `time`" with its own Ed25519 key. The
//! desktop keeps the latest receipt per chain; when the server later reports less than a
//! receipt it signed (or another hash at that seq), the desktop has proof that the server lost
//! or rewrote data, and uploads the missing segments again.
//!
//! The signed bytes follow the canonical style of [`crate::chain`] and [`crate::checkpoint`]:
//! a domain tag, then each field as a big-endian `u32` length and its bytes, numbers fixed-width.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::chain::{put_field, Hash};
use crate::checkpoint::key_fingerprint;
use crate::json::{parse_hash, JsonError};

/// Domain separator at the start of every canonical receipt encoding.
const RECEIPT_TAG: &[u8] = b"headmaster-server-receipt-v1";

/// What the server states it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// OpenSSH fingerprint of the device whose chain this is.
    pub device: String,
    /// The chain's scope.
    pub scope: String,
    /// The last sequence number held.
    pub seq: u64,
    /// The chain hash at `seq`.
    pub hash: Hash,
    /// UTC time the receipt was signed, RFC 3339.
    pub time: String,
}

/// A receipt with the server key's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReceipt {
    /// The signed statement.
    pub receipt: Receipt,
    /// OpenSSH fingerprint of the server key that signed it.
    pub server_key: String,
    /// Ed25519 signature over [`Receipt::canonical_bytes`].
    pub signature: [u8; 64],
}

/// Why a receipt was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    /// The receipt names another server key than the pinned one.
    #[error("the receipt was signed by server key {claimed}, not by the pinned key {pinned}")]
    WrongKey {
        /// Fingerprint the receipt names.
        claimed: String,
        /// Fingerprint of the pinned server key.
        pinned: String,
    },
    /// The signature does not verify.
    #[error("the receipt's signature does not match its content; it was altered after signing")]
    BadSignature,
}

impl Receipt {
    /// The canonical byte encoding that is signed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(RECEIPT_TAG.len() + self.device.len() + self.scope.len() + 120);
        put_field(&mut out, RECEIPT_TAG);
        put_field(&mut out, self.device.as_bytes());
        put_field(&mut out, self.scope.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_field(&mut out, &self.hash);
        put_field(&mut out, self.time.as_bytes());
        out
    }

    /// Signs the receipt with the server key.
    pub fn sign(self, key: &SigningKey) -> SignedReceipt {
        let signature = key.sign(&self.canonical_bytes()).to_bytes();
        SignedReceipt {
            receipt: self,
            server_key: key_fingerprint(&key.verifying_key()),
            signature,
        }
    }
}

impl SignedReceipt {
    /// Checks that `key` is the key the receipt names and that it signed this receipt.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), ReceiptError> {
        let pinned = key_fingerprint(key);
        if pinned != self.server_key {
            return Err(ReceiptError::WrongKey {
                claimed: self.server_key.clone(),
                pinned,
            });
        }
        key.verify_strict(
            &self.receipt.canonical_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| ReceiptError::BadSignature)
    }
}

/// The JSON form of a signed receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptJson {
    pub device: String,
    pub scope: String,
    pub seq: u64,
    /// Chain hash at `seq`, hex.
    pub hash: String,
    pub time: String,
    /// OpenSSH fingerprint of the server key.
    pub server_key: String,
    /// Ed25519 signature, base64.
    pub signature: String,
}

impl From<&SignedReceipt> for ReceiptJson {
    fn from(s: &SignedReceipt) -> Self {
        Self {
            device: s.receipt.device.clone(),
            scope: s.receipt.scope.clone(),
            seq: s.receipt.seq,
            hash: hex::encode(s.receipt.hash),
            time: s.receipt.time.clone(),
            server_key: s.server_key.clone(),
            signature: STANDARD.encode(s.signature),
        }
    }
}

impl TryFrom<ReceiptJson> for SignedReceipt {
    type Error = JsonError;

    fn try_from(j: ReceiptJson) -> Result<Self, JsonError> {
        let signature = STANDARD
            .decode(&j.signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .ok_or(JsonError::Signature)?;
        Ok(Self {
            receipt: Receipt {
                hash: parse_hash(&j.hash, "hash")?,
                device: j.device,
                scope: j.scope,
                seq: j.seq,
                time: j.time,
            },
            server_key: j.server_key,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            device: "SHA256:device".into(),
            scope: "instance".into(),
            seq: 100,
            hash: [3; 32],
            time: "2026-12-04T05:00:00.000Z".into(),
        }
    }

    #[test]
    fn every_field_is_covered_by_the_signature_and_the_json_round_trips() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let signed = receipt().sign(&key);
        assert_eq!(signed.verify(&key.verifying_key()), Ok(()));
        let back = SignedReceipt::try_from(ReceiptJson::from(&signed)).unwrap();
        assert_eq!(back, signed);
        type Mutation = Box<dyn Fn(&mut Receipt)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|r| r.device.push('x')),
            Box::new(|r| r.scope.push('x')),
            Box::new(|r| r.seq -= 1),
            Box::new(|r| r.hash[0] ^= 1),
            Box::new(|r| r.time.push('x')),
        ];
        for mutate in mutations {
            let mut altered = signed.clone();
            mutate(&mut altered.receipt);
            assert_eq!(
                altered.verify(&key.verifying_key()),
                Err(ReceiptError::BadSignature)
            );
        }
        let other = SigningKey::from_bytes(&[6; 32]);
        assert!(matches!(
            signed.verify(&other.verifying_key()),
            Err(ReceiptError::WrongKey { .. })
        ));
    }
}
