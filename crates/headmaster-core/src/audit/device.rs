//! The installation's Ed25519 device key: signs audit checkpoints and export bundles.
//!
//! The private key is created at `init`, stored wrapped by the KEK in the instance database and
//! only ever held unwrapped in memory.

use ed25519_dalek::{SigningKey, VerifyingKey};
use headmaster_protocol::checkpoint::key_fingerprint;

use crate::vault::keys::Key256;

/// The unwrapped device key.
pub struct DeviceKey {
    signing: SigningKey,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey({})", self.fingerprint())
    }
}

impl DeviceKey {
    /// The device key whose Ed25519 seed is `seed`.
    pub fn from_seed(seed: &Key256) -> Self {
        Self {
            signing: SigningKey::from_bytes(seed.dangerously_expose()),
        }
    }

    /// The signing half. Only checkpoint and bundle signing call this.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// OpenSSH fingerprint (`SHA256:…`) of the public key.
    pub fn fingerprint(&self) -> String {
        key_fingerprint(&self.verifying_key())
    }
}
