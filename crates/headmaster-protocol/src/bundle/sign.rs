//! The OpenSSH side of a bundle: `device.pub` and the SSHSIG over `manifest.json`.
//!
//! SSHSIG is what `ssh-keygen -Y sign` makes, so an auditor verifies a bundle with nothing of
//! ours installed:
//! `ssh-keygen -Y verify -f allowed_signers -I headmaster -n headmaster-audit -s manifest.json.sig < manifest.json`.

use ed25519_dalek::{SigningKey, VerifyingKey};
use ssh_key::private::Ed25519Keypair;
use ssh_key::public::{Ed25519PublicKey, KeyData};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

/// The SSHSIG namespace of bundle signatures (`ssh-keygen -n`). A namespace keeps a signature
/// made for one purpose from being replayed for another.
pub const SIGNATURE_NAMESPACE: &str = "headmaster-audit";
/// The comment written after the key in `device.pub`.
const KEY_COMMENT: &str = "headmaster-device";

/// The OpenSSH public key line for `device.pub`, ending in a newline.
pub fn device_pub_line(key: &VerifyingKey) -> String {
    let public = PublicKey::new(KeyData::Ed25519(Ed25519PublicKey::from(key)), KEY_COMMENT);
    let mut line = public
        .to_openssh()
        .expect("encoding an Ed25519 public key into a String cannot fail");
    line.push('\n');
    line
}

/// Signs `message` as SSHSIG (SHA-512) and returns the armored PEM text.
pub(crate) fn sign(key: &SigningKey, message: &[u8]) -> Result<String, ssh_key::Error> {
    let private = PrivateKey::from(Ed25519Keypair::from(key));
    let signature = private.sign(SIGNATURE_NAMESPACE, HashAlg::Sha512, message)?;
    signature.to_pem(LineEnding::LF)
}

/// Parses an OpenSSH `ssh-ed25519` public key line (`device.pub`, a server's key).
pub fn parse_ed25519_pub(text: &str) -> Result<VerifyingKey, String> {
    let public = PublicKey::from_openssh(text.trim()).map_err(|e| e.to_string())?;
    match public.key_data() {
        KeyData::Ed25519(key) => VerifyingKey::try_from(key).map_err(|e| e.to_string()),
        other => Err(format!(
            "expected an ssh-ed25519 key, found {}",
            other.algorithm()
        )),
    }
}

/// What checking an SSHSIG against a set of keys found.
#[derive(Debug)]
pub(crate) enum SignatureCheck {
    /// The signature verifies with this key.
    Valid(VerifyingKey),
    /// The signature is not parseable SSHSIG PEM, or is for another namespace.
    Malformed(String),
    /// The signature is made by a key not among those given.
    OtherKey(String),
    /// The signature is by a given key but does not verify: the message was altered.
    Invalid,
}

/// Checks the PEM signature `pem` over `message` against `keys`.
pub(crate) fn check(pem: &str, message: &[u8], keys: &[VerifyingKey]) -> SignatureCheck {
    let signature = match SshSig::from_pem(pem) {
        Ok(signature) => signature,
        Err(e) => return SignatureCheck::Malformed(e.to_string()),
    };
    if signature.namespace() != SIGNATURE_NAMESPACE {
        return SignatureCheck::Malformed(format!(
            "the signature is for namespace {:?}, not {SIGNATURE_NAMESPACE:?}",
            signature.namespace()
        ));
    }
    let signer = match signature.public_key() {
        KeyData::Ed25519(key) => key,
        other => return SignatureCheck::OtherKey(format!("a {} key", other.algorithm())),
    };
    let Some(key) = keys.iter().find(|k| k.as_bytes() == &signer.0) else {
        return SignatureCheck::OtherKey(
            PublicKey::from(*signer)
                .fingerprint(HashAlg::Sha256)
                .to_string(),
        );
    };
    let public = PublicKey::from(Ed25519PublicKey::from(key));
    match public.verify(SIGNATURE_NAMESPACE, message, &signature) {
        Ok(()) => SignatureCheck::Valid(*key),
        Err(_) => SignatureCheck::Invalid,
    }
}
