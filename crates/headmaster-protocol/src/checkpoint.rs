//! Signed checkpoints over an audit chain.
//!
//! A checkpoint states "the chain of `scope` had hash `hash` at sequence `seq`, at `time`", and
//! the device key signs it. A checkpoint pins the chain: rewriting any row at or before `seq`
//! (even with every later hash recomputed) changes the hash at `seq`, and deleting the tail
//! leaves a checkpoint pointing past the end of the chain.
//!
//! The signed bytes use the same hand-written canonical style as [`crate::chain`]: a domain tag,
//! then each field as a big-endian `u32` length and its bytes, numbers fixed-width big-endian.
//!
//! Keys are named by their OpenSSH fingerprint (`SHA256:` and the unpadded base64 SHA-256 of the
//! public key blob), the same string `ssh-keygen -lf device.pub` prints, so an auditor can match
//! a checkpoint to a key file with stock tools.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::chain::{put_field, Hash};

/// Domain separator at the start of every canonical checkpoint encoding.
const CHECKPOINT_TAG: &[u8] = b"headmaster-audit-checkpoint-v1";
/// The OpenSSH algorithm name of an Ed25519 public key.
const SSH_ED25519: &[u8] = b"ssh-ed25519";

/// A statement about the chain of one scope at one sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The chain's scope: a workspace id, or `instance`.
    pub scope: String,
    /// The sequence number of the row whose hash this checkpoint pins.
    pub seq: u64,
    /// The chain hash stored for that row.
    pub hash: Hash,
    /// UTC time the checkpoint was made, RFC 3339.
    pub time: String,
}

/// A checkpoint with the device key's Ed25519 signature over its canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The signed statement.
    pub checkpoint: Checkpoint,
    /// OpenSSH fingerprint (`SHA256:…`) of the key that signed it.
    pub key_fingerprint: String,
    /// Ed25519 signature over [`Checkpoint::canonical_bytes`].
    pub signature: [u8; 64],
}

/// Why a signed checkpoint was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    /// The checkpoint names a different key than the one it was checked with.
    #[error(
        "checkpoint at seq {seq} was signed by key {claimed}, not by {given}; \
         verify it with the key that made it, or pin that key if it is trusted"
    )]
    WrongKey {
        /// Sequence number of the checkpoint.
        seq: u64,
        /// Fingerprint the checkpoint names.
        claimed: String,
        /// Fingerprint of the key it was checked with.
        given: String,
    },
    /// The signature does not verify: the checkpoint or its signature was altered.
    #[error(
        "checkpoint at seq {seq}: the signature does not match its content; \
         the checkpoint or its signature was altered after signing"
    )]
    BadSignature {
        /// Sequence number of the checkpoint.
        seq: u64,
    },
}

impl Checkpoint {
    /// The canonical byte encoding that is signed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHECKPOINT_TAG.len() + self.scope.len() + 96);
        put_field(&mut out, CHECKPOINT_TAG);
        put_field(&mut out, self.scope.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_field(&mut out, &self.hash);
        put_field(&mut out, self.time.as_bytes());
        out
    }

    /// Signs the checkpoint with the device key.
    pub fn sign(self, key: &SigningKey) -> SignedCheckpoint {
        let signature = key.sign(&self.canonical_bytes()).to_bytes();
        SignedCheckpoint {
            checkpoint: self,
            key_fingerprint: key_fingerprint(&key.verifying_key()),
            signature,
        }
    }
}

impl SignedCheckpoint {
    /// Checks that `key` is the key this checkpoint names and that the signature is valid.
    ///
    /// Strict verification rejects malleable (non-canonical) signatures, so one checkpoint has
    /// exactly one valid signature per key.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), CheckpointError> {
        let seq = self.checkpoint.seq;
        let given = key_fingerprint(key);
        if given != self.key_fingerprint {
            return Err(CheckpointError::WrongKey {
                seq,
                claimed: self.key_fingerprint.clone(),
                given,
            });
        }
        let signature = Signature::from_bytes(&self.signature);
        key.verify_strict(&self.checkpoint.canonical_bytes(), &signature)
            .map_err(|_| CheckpointError::BadSignature { seq })
    }
}

/// The OpenSSH wire encoding of an Ed25519 public key: `string "ssh-ed25519"`, `string key`.
pub fn ssh_public_key_blob(key: &VerifyingKey) -> Vec<u8> {
    let mut blob = Vec::with_capacity(4 + SSH_ED25519.len() + 4 + 32);
    put_field(&mut blob, SSH_ED25519);
    put_field(&mut blob, key.as_bytes());
    blob
}

/// The OpenSSH SHA-256 fingerprint of a key, e.g. `SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s`.
pub fn key_fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(ssh_public_key_blob(key));
    format!("SHA256:{}", STANDARD_NO_PAD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            scope: "ws-1".into(),
            seq: 42,
            hash: [7; 32],
            time: "2026-11-27T13:00:00.000Z".into(),
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_its_key_only() {
        let signed = checkpoint().sign(&key(1));
        assert_eq!(signed.verify(&key(1).verifying_key()), Ok(()));
        assert!(matches!(
            signed.verify(&key(2).verifying_key()),
            Err(CheckpointError::WrongKey { seq: 42, .. })
        ));
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        let signed = checkpoint().sign(&key(1));
        type Mutation = Box<dyn Fn(&mut Checkpoint)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|c| c.scope.push('x')),
            Box::new(|c| c.seq += 1),
            Box::new(|c| c.hash[31] ^= 1),
            Box::new(|c| c.time.push('x')),
        ];
        for mutate in mutations {
            let mut altered = signed.clone();
            mutate(&mut altered.checkpoint);
            assert_eq!(
                altered.verify(&key(1).verifying_key()),
                Err(CheckpointError::BadSignature {
                    seq: altered.checkpoint.seq
                })
            );
        }
    }

    #[test]
    fn a_signature_claiming_another_key_is_rejected_even_if_the_fingerprint_is_forged() {
        let mut forged = checkpoint().sign(&key(2));
        forged.key_fingerprint = key_fingerprint(&key(1).verifying_key());
        assert_eq!(
            forged.verify(&key(1).verifying_key()),
            Err(CheckpointError::BadSignature { seq: 42 })
        );
    }

    #[test]
    fn the_fingerprint_matches_the_ssh_key_crate() {
        let signing = key(9);
        let public = ssh_key::PublicKey::from(ssh_key::public::Ed25519PublicKey::from(
            &signing.verifying_key(),
        ));
        assert_eq!(
            key_fingerprint(&signing.verifying_key()),
            public.fingerprint(ssh_key::HashAlg::Sha256).to_string()
        );
        assert_eq!(
            ssh_public_key_blob(&signing.verifying_key()),
            public.to_bytes().unwrap()
        );
    }
}
