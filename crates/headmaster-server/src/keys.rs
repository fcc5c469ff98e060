//! The server's two secrets: the data key that seals what the database holds, and the Ed25519
//! signing key that signs receipts and the server's own checkpoints.
//!
//! Both live in files under `<data>/keys/` with mode 0600, never in the database: a copy of the
//! database (a backup, a PostgreSQL replica, a stolen disk image of the database volume) opens
//! nothing without the key directory. Replicas that share one PostgreSQL share the key directory.
//!
//! Sealed values are `version (1) || nonce (12) || AES-256-GCM ciphertext and tag`, with the
//! value's place (table, device, scope, seq) as associated data, so a ciphertext moved to
//! another row does not open there.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use rand::RngCore as _;
use zeroize::Zeroizing;

/// The format version byte at the start of every sealed value.
const SEALED_V1: u8 = 1;

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's permissions let others read it.
    #[error("key file {path} has mode {mode:o}; it must be readable by its owner only: run `chmod 600 {path}`")]
    Permissions {
        /// The file.
        path: String,
        /// Its mode bits.
        mode: u32,
    },
    /// The file does not hold a key in the expected format.
    #[error("key file {path} is not a Headmaster server key ({why}); restore it from the backup of the data directory")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
}

/// A sealed value that does not open: altered, moved to another row, or sealed under another key.
#[derive(Debug, thiserror::Error)]
#[error("a stored value does not open with the data key")]
pub struct OpenError;

/// The AES-256-GCM key that seals stored values.
pub struct DataKey {
    cipher: Aes256Gcm,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

impl DataKey {
    /// Makes a new random key and writes it to `path` (mode 0600), failing if the file exists.
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut *bytes);
        write_secret(path, STANDARD.encode(*bytes).as_bytes())?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Reads the key from `path`.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = read_secret(path)?;
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| format_error(path, "not 32 bytes of base64"))?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&bytes);
        Ok(Self::from_bytes(&key))
    }

    fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }

    /// Seals `plain`, bound to `place` (where the value is stored).
    pub fn seal(&self, place: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: place,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + 12 + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed for `place`.
    pub fn open(&self, place: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + 12 + 16 || sealed[0] != SEALED_V1 {
            return Err(OpenError);
        }
        self.cipher
            .decrypt(
                Nonce::from_slice(&sealed[1..13]),
                Payload {
                    msg: &sealed[13..],
                    aad: place,
                },
            )
            .map_err(|_| OpenError)
    }
}

/// The server's Ed25519 identity.
pub struct ServerKey {
    key: SigningKey,
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerKey({})", self.fingerprint())
    }
}

impl ServerKey {
    /// Makes a new key, writing the private half in OpenSSH format to `path` (0600) and the
    /// public line to `path.pub`.
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let private = ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from(&key));
        let pem = private
            .to_openssh(ssh_key::LineEnding::LF)
            .map_err(|e| format_error(path, &e.to_string()))?;
        write_secret(path, pem.as_bytes())?;
        let server = Self { key };
        let pub_path = path.with_extension("pub");
        fs::write(&pub_path, format!("{}\n", server.public_line())).map_err(|source| {
            KeyError::Io {
                path: pub_path.display().to_string(),
                source,
            }
        })?;
        Ok(server)
    }

    /// Reads the key from `path`.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = read_secret(path)?;
        let private = ssh_key::PrivateKey::from_openssh(text.as_bytes())
            .map_err(|e| format_error(path, &e.to_string()))?;
        let pair = private
            .key_data()
            .ed25519()
            .ok_or_else(|| format_error(path, "not an Ed25519 key"))?;
        Ok(Self {
            key: SigningKey::from_bytes(&pair.private.to_bytes()),
        })
    }

    /// The signing key, for receipts and checkpoints.
    pub fn signing(&self) -> &SigningKey {
        &self.key
    }

    /// The OpenSSH public key line, `ssh-ed25519 AAAA… headmaster-server`.
    pub fn public_line(&self) -> String {
        let public = ssh_key::PublicKey::new(
            ssh_key::public::KeyData::Ed25519(ssh_key::public::Ed25519PublicKey::from(
                &self.key.verifying_key(),
            )),
            "headmaster-server",
        );
        public
            .to_openssh()
            .expect("encoding an Ed25519 public key into a String cannot fail")
    }

    /// The OpenSSH fingerprint, `SHA256:…`.
    pub fn fingerprint(&self) -> String {
        headmaster_protocol::checkpoint::key_fingerprint(&self.key.verifying_key())
    }
}

/// Writes a secret file that only its owner may read, refusing to replace an existing one.
pub(crate) fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads a secret file after checking that nobody but its owner can read it.
pub(crate) fn read_secret(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.display().to_string(),
            mode,
        });
    }
    fs::read_to_string(path).map(Zeroizing::new).map_err(io)
}

fn format_error(path: &Path, why: &str) -> KeyError {
    KeyError::Format {
        path: path.display().to_string(),
        why: why.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_in_its_place_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::create(&dir.path().join("data.key")).unwrap();
        let sealed = key.seal(b"row|d|s|1", b"secret");
        assert_eq!(key.open(b"row|d|s|1", &sealed).unwrap(), b"secret");
        assert!(key.open(b"row|d|s|2", &sealed).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(key.open(b"row|d|s|1", &flipped).is_err());
        let reloaded = DataKey::load(&dir.path().join("data.key")).unwrap();
        assert_eq!(reloaded.open(b"row|d|s|1", &sealed).unwrap(), b"secret");
        let other = DataKey::create(&dir.path().join("other.key")).unwrap();
        assert!(other.open(b"row|d|s|1", &sealed).is_err());
        assert!(DataKey::create(&dir.path().join("data.key")).is_err());
    }

    #[test]
    fn key_files_readable_by_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let key = ServerKey::create(&path).unwrap();
        assert_eq!(
            ServerKey::load(&path).unwrap().fingerprint(),
            key.fingerprint()
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = ServerKey::load(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
