//! Credential references: `{{credential:NAME}}` in configuration and arguments, substituted
//! only inside `execute`.
//!
//! Where a reference is allowed (everywhere else it is refused by `validate()`, so a reference is
//! either substituted or refused, never passed on as literal text):
//!
//! | action            | fields that may hold references                              |
//! |-------------------|---------------------------------------------------------------|
//! | `http.*`          | header values, the URL's query string, the request body       |
//! | `email.send`      | none in the arguments; the SMTP `username` and `password` in the configuration (the password must be a reference) |
//! | `file.*`          | none: file contents stay on disk in clear, so a secret must never be written there |
//!
//! Email bodies and subjects may not reference credentials: recipients are people outside the
//! boundary, and a secret in a message would leave the workspace with nobody able to scrub it.
//! The HTTP host is on an Admin's allowlist, which is what makes a header or query credential
//! acceptable there.
//!
//! The core supplies a [`CredentialResolver`] that returns [`SecretValue`]s (and audits each
//! use); [`substitute`] registers every value it inserts with the call's [`Scrubber`], which
//! then replaces those values in outputs and error messages with `[credential:NAME]`.

mod scrub;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

pub use scrub::Scrubber;

/// The literal that opens a reference.
pub const REFERENCE_PREFIX: &str = "{{credential:";
const REFERENCE_SUFFIX: &str = "}}";
const MAX_NAME_LEN: usize = 64;

/// A secret value handed over by the core for one execution.
///
/// Not `Clone`, not `Serialize`, no `Display`; `Debug` prints `SecretValue(***)`; the memory is
/// zeroized on drop. Read it only through [`SecretValue::expose_secret`].
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a secret; the caller's `String` is moved, not copied.
    pub fn new(value: String) -> Self {
        SecretValue(value)
    }

    /// The secret itself. Every call site is a place where the value leaves this wrapper.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Supplies credential values at execution time. Implemented by the core, which checks that
/// the workspace owns the credential and audits the use before returning it.
pub trait CredentialResolver: Send + Sync {
    /// Returns the value of the credential `name`, or why it is not available.
    fn resolve(&self, name: &str) -> Result<SecretValue, CredentialError>;
}

/// A resolver over values loaded in advance: the core can fetch exactly the credentials a call
/// references (see [`crate::ToolCall::credential_references`]) and hand them over in one set.
#[derive(Debug, Default)]
pub struct CredentialSet {
    values: HashMap<String, SecretValue>,
}

impl CredentialSet {
    /// An empty set: every reference resolves to [`CredentialError::Unavailable`].
    pub fn new() -> Self {
        CredentialSet::default()
    }

    /// Adds (or replaces) a credential.
    pub fn insert(&mut self, name: impl Into<String>, value: SecretValue) {
        self.values.insert(name.into(), value);
    }
}

impl CredentialResolver for CredentialSet {
    fn resolve(&self, name: &str) -> Result<SecretValue, CredentialError> {
        self.values
            .get(name)
            .map(|value| SecretValue::new(value.expose_secret().to_owned()))
            .ok_or_else(|| CredentialError::Unavailable {
                name: name.to_owned(),
                reason: "it is not among the credentials loaded for this call".to_owned(),
            })
    }
}

/// Why a credential reference could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Text starts a reference but does not finish it properly.
    #[error("malformed credential reference near `{excerpt}`: write `{{{{credential:NAME}}}}` where NAME is 1–64 characters of A–Z, a–z, 0–9, `_`, `.` or `-`, starting with a letter or digit")]
    Malformed {
        /// The text from the start of the broken reference (at most 80 characters).
        excerpt: String,
    },
    /// The resolver did not return a value.
    #[error("credential `{name}` is not available to this call: {reason}; an Admin can store it with `headmaster credential set {name}`")]
    Unavailable {
        /// The credential's name.
        name: String,
        /// Why, as the resolver put it (never the value).
        reason: String,
    },
    /// The credential exists but is empty, which could never be scrubbed from outputs.
    #[error("credential `{name}` is empty; an Admin must store a non-empty value")]
    Empty {
        /// The credential's name.
        name: String,
    },
    /// After substitution, the field is not valid where it is used (for example a header value
    /// with a line break). The value itself is never quoted.
    #[error("credential `{name}` cannot be used in {field}: {problem}")]
    UnfitValue {
        /// The credential's name.
        name: String,
        /// Where it was used.
        field: String,
        /// What is wrong with the value, described without quoting it.
        problem: String,
    },
}

impl CredentialError {
    /// A stable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            CredentialError::Malformed { .. } => "credential_malformed",
            CredentialError::Unavailable { .. } => "credential_unavailable",
            CredentialError::Empty { .. } => "credential_empty",
            CredentialError::UnfitValue { .. } => "credential_unfit",
        }
    }

    pub(crate) fn visit_text(&mut self, visit: &mut dyn FnMut(&mut String)) {
        match self {
            CredentialError::Malformed { excerpt } => visit(excerpt),
            CredentialError::Unavailable { reason, .. } => visit(reason),
            CredentialError::Empty { .. } => {}
            CredentialError::UnfitValue { problem, .. } => visit(problem),
        }
    }
}

/// The names of every well-formed reference in any string (or object key) of `value`, sorted
/// and without duplicates. Malformed references are ignored here; `validate()` reports them.
pub fn references(value: &Value) -> Vec<String> {
    let mut names = BTreeSet::new();
    collect_references(value, &mut names);
    names.into_iter().collect()
}

/// The names referenced in `text`, in order of appearance, or the first malformed reference.
pub fn references_in(text: &str) -> Result<Vec<String>, CredentialError> {
    let mut names = Vec::new();
    for part in split(text) {
        if let Part::Reference(name) = part? {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// Whether `text` contains anything that starts a reference, well-formed or not.
pub fn mentions_reference(text: &str) -> bool {
    text.contains(REFERENCE_PREFIX)
}

/// Replaces every reference in `text` with its value from `resolver` and registers each value
/// with `scrubber`. The result holds secrets: it is zeroized on drop and must go straight into
/// the request being built.
pub fn substitute(
    text: &str,
    resolver: &dyn CredentialResolver,
    scrubber: &mut Scrubber,
) -> Result<Zeroizing<String>, CredentialError> {
    substitute_with(text, resolver, scrubber, |value, out| out.push_str(value))
}

/// Like [`substitute`], but each value is written by `encode` (for example percent-encoded for
/// a URL query).
pub(crate) fn substitute_with(
    text: &str,
    resolver: &dyn CredentialResolver,
    scrubber: &mut Scrubber,
    encode: impl Fn(&str, &mut String),
) -> Result<Zeroizing<String>, CredentialError> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    for part in split(text) {
        match part? {
            Part::Literal(literal) => out.push_str(literal),
            Part::Reference(name) => {
                let value = resolver.resolve(name)?;
                if value.expose_secret().is_empty() {
                    return Err(CredentialError::Empty {
                        name: name.to_owned(),
                    });
                }
                scrubber.register(name, &value);
                encode(value.expose_secret(), &mut out);
            }
        }
    }
    Ok(out)
}

enum Part<'a> {
    Literal(&'a str),
    Reference(&'a str),
}

/// Splits `text` into literal runs and reference names.
fn split(text: &str) -> impl Iterator<Item = Result<Part<'_>, CredentialError>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(start) = rest.find(REFERENCE_PREFIX) else {
            let literal = rest;
            rest = "";
            return Some(Ok(Part::Literal(literal)));
        };
        if start > 0 {
            let literal = &rest[..start];
            rest = &rest[start..];
            return Some(Ok(Part::Literal(literal)));
        }
        let after = &rest[REFERENCE_PREFIX.len()..];
        let malformed = || CredentialError::Malformed {
            excerpt: rest.chars().take(80).collect(),
        };
        let Some(end) = after.find(REFERENCE_SUFFIX) else {
            let error = malformed();
            rest = "";
            return Some(Err(error));
        };
        let name = &after[..end];
        if !is_valid_name(name) {
            let error = malformed();
            rest = "";
            return Some(Err(error));
        }
        rest = &after[end + REFERENCE_SUFFIX.len()..];
        Some(Ok(Part::Reference(name)))
    })
}

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(first) if first.is_ascii_alphanumeric())
        && name.len() <= MAX_NAME_LEN
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn collect_references(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => add_references(text, names),
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_references(item, names)),
        Value::Object(map) => {
            for (key, item) in map {
                add_references(key, names);
                collect_references(item, names);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn add_references(text: &str, names: &mut BTreeSet<String>) {
    for part in split(text) {
        match part {
            Ok(Part::Reference(name)) => {
                names.insert(name.to_owned());
            }
            Ok(Part::Literal(_)) => {}
            // Past a malformed reference nothing is parsed; validation reports it.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(pairs: &[(&str, &str)]) -> CredentialSet {
        let mut set = CredentialSet::new();
        for (name, value) in pairs {
            set.insert(*name, SecretValue::new((*value).to_owned()));
        }
        set
    }

    #[test]
    fn references_walks_strings_and_keys_sorted_and_deduplicated() {
        let value = json!({
            "url": "https://x.test/?k={{credential:B}}",
            "headers": {"Authorization": "Bearer {{credential:A}}", "{{credential:C}}": "v"},
            "list": ["{{credential:A}}", 3, null],
            "broken": "{{credential:bad name}}"
        });
        assert_eq!(references(&value), vec!["A", "B", "C"]);
    }

    #[test]
    fn malformed_references_are_reported_with_an_excerpt() {
        for text in [
            "x {{credential:}}",
            "{{credential:a b}}",
            "{{credential:open",
            "{{credential:-x}}",
        ] {
            let error = references_in(text).unwrap_err();
            assert_eq!(error.code(), "credential_malformed", "{text}");
        }
        assert_eq!(
            references_in("a {{credential:TOKEN_1}} b {{credential:x.y-z}}").unwrap(),
            vec!["TOKEN_1", "x.y-z"]
        );
    }

    #[test]
    fn substitute_inserts_values_and_registers_them_for_scrubbing() {
        let credentials = set(&[("TOKEN", "s3cret-value")]);
        let mut scrubber = Scrubber::new();
        let out = substitute("Bearer {{credential:TOKEN}}!", &credentials, &mut scrubber).unwrap();
        assert_eq!(out.as_str(), "Bearer s3cret-value!");
        assert_eq!(
            scrubber.scrub_str("echo: Bearer s3cret-value"),
            "echo: Bearer [credential:TOKEN]"
        );
    }

    #[test]
    fn substitute_refuses_missing_and_empty_credentials() {
        let credentials = set(&[("EMPTY", "")]);
        let mut scrubber = Scrubber::new();
        let missing = substitute("{{credential:NOPE}}", &credentials, &mut scrubber).unwrap_err();
        assert_eq!(missing.code(), "credential_unavailable");
        let empty = substitute("{{credential:EMPTY}}", &credentials, &mut scrubber).unwrap_err();
        assert_eq!(
            empty,
            CredentialError::Empty {
                name: "EMPTY".to_owned()
            }
        );
    }

    #[test]
    fn secret_value_debug_is_redacted() {
        let secret = SecretValue::new("do-not-print".to_owned());
        assert_eq!(format!("{secret:?}"), "SecretValue(***)");
        let credentials = set(&[("A", "do-not-print")]);
        let printed = format!("{credentials:?}");
        assert!(!printed.contains("do-not-print"), "{printed}");
        assert!(printed.contains("SecretValue(***)"), "{printed}");
    }
}
