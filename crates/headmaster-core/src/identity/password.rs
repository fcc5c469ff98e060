//! Password and username rules, and Argon2id password hashing.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), so the parameters
//! travel with each hash and can be raised later without breaking existing accounts. The
//! parameters are OWASP's recommended minimum for Argon2id (19 MiB, 2 passes, 1 lane).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::vault::keys::SecretBytes;

/// Minimum password length.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Maximum password length (Argon2 accepts more; this bounds the work an attacker can ask for).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Argon2id memory cost in KiB.
pub const ARGON2_M_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const ARGON2_T: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 1;

/// Why a username or password is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialRuleError {
    /// The username breaks the naming rule.
    #[error("invalid username {0:?}: use 3–32 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter")]
    Username(String),
    /// The password is too short.
    #[error("password too short: use at least {MIN_PASSWORD_LEN} characters (a passphrase of several words works well)")]
    TooShort,
    /// The password is too long.
    #[error("password too long: at most {MAX_PASSWORD_LEN} characters")]
    TooLong,
    /// The password is a single repeated character.
    #[error("password too weak: it repeats a single character; choose a passphrase")]
    Repetitive,
}

/// Normalises and validates a username (lowercased; the stored and indexed form).
pub fn normalize_username(raw: &str) -> Result<String, CredentialRuleError> {
    let name = raw.trim().to_lowercase();
    let valid_len = (3..=32).contains(&name.chars().count());
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if valid_len && starts_with_letter && valid_chars {
        Ok(name)
    } else {
        Err(CredentialRuleError::Username(raw.to_string()))
    }
}

/// Checks a new password against the rules.
pub fn check_password(password: &SecretBytes) -> Result<(), CredentialRuleError> {
    let text = String::from_utf8_lossy(password.dangerously_expose());
    let chars = text.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(CredentialRuleError::TooShort);
    }
    if chars > MAX_PASSWORD_LEN {
        return Err(CredentialRuleError::TooLong);
    }
    let mut it = text.chars();
    let first = it.next();
    if it.all(|c| Some(c) == first) {
        return Err(CredentialRuleError::Repetitive);
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).expect("valid constant parameters"),
    )
}

/// Hashes a password (blocking, about 30–60 ms; run it off the async executor).
pub fn hash_password(password: &SecretBytes) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.dangerously_expose(), &salt)
        .expect("Argon2id hashing with valid parameters cannot fail")
        .to_string()
}

/// Verifies a password against a stored PHC hash, using the parameters stored in the hash.
pub fn verify_password(password: &SecretBytes, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.dangerously_expose(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the username is unknown so that the
/// response time does not tell which usernames exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&SecretBytes::from("decoy-password-never-used".to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretBytes {
        SecretBytes::from(text.to_string())
    }

    #[test]
    fn hash_records_argon2id_parameters_and_verifies() {
        let hash = hash_password(&secret("correct horse battery staple"));
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(
            &secret("correct horse battery staple"),
            &hash
        ));
        assert!(!verify_password(
            &secret("correct horse battery stapl"),
            &hash
        ));
        assert!(!verify_password(
            &secret("correct horse battery staple"),
            "not a hash"
        ));
    }

    #[test]
    fn same_password_hashes_differently() {
        let a = hash_password(&secret("correct horse battery staple"));
        let b = hash_password(&secret("correct horse battery staple"));
        assert_ne!(a, b, "salts are random");
    }

    #[test]
    fn verifies_hashes_made_with_other_parameters() {
        let params = Params::new(8 * 1024, 1, 1, None).unwrap();
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let hash = other
            .hash_password(b"older password 1", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password(&secret("older password 1"), &hash));
    }

    #[test]
    fn password_rules() {
        assert_eq!(
            check_password(&secret("short")),
            Err(CredentialRuleError::TooShort)
        );
        assert_eq!(
            check_password(&secret("aaaaaaaaaaaaaaa")),
            Err(CredentialRuleError::Repetitive)
        );
        assert_eq!(
            check_password(&secret(&"x1".repeat(600))),
            Err(CredentialRuleError::TooLong)
        );
        assert!(check_password(&secret("twelve chars")).is_ok());
    }

    #[test]
    fn username_rules() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert_eq!(normalize_username("bob.smith-2").unwrap(), "bob.smith-2");
        for bad in [
            "al",
            "1alice",
            "alice smith",
            "alice@example",
            "",
            &"a".repeat(33),
            "ålice",
        ] {
            assert!(normalize_username(bad).is_err(), "{bad:?} accepted");
        }
    }
}
