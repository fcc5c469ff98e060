//! Encoding and decoding the JSON bodies Headmaster stores: run checkpoints and timeline steps,
//! approval requests and results, grants, agent definitions, settings, audit sources and
//! payloads, tool outputs.
//!
//! Every body decoded here was written by Headmaster itself and sealed with authenticated
//! encryption, so one that opens but does not decode is damage or a bug, never a person's
//! mistake: it is reported as [`StoreError::Corrupt`], naming the row, instead of being
//! replaced by a default that would hide it. Encoding an in-memory value cannot normally fail;
//! if it does, the same error stops the write rather than storing an empty body.
//!
//! The error says where the JSON breaks (line and column), never what it contains: a body may
//! hold a credential-bearing argument or personal data, and error messages reach logs.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::StoreError;

/// Decodes a stored body; `what` and `id` name it in the error ("run checkpoint", the run id).
pub(crate) fn decode<T: DeserializeOwned>(
    what: &str,
    id: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let at = format!("at line {} column {}", e.line(), e.column());
        corrupt(what, id, format!("{} {at}", problem(&e)))
    })
}

/// Encodes a value to be stored.
pub(crate) fn encode<T: Serialize + ?Sized>(
    what: &str,
    id: &str,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| unencodable(what, id, &e))
}

/// Converts an in-memory value to JSON (a tool's output, a rule summary).
pub(crate) fn to_value<T: Serialize>(what: &str, id: &str, value: T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|e| unencodable(what, id, &e))
}

/// The error for a body that decodes as JSON but lacks what it always has: a field every
/// stored body of its kind carries, say.
pub(crate) fn corrupt(what: &str, id: &str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
        id: id.to_string(),
        detail: detail.into(),
    }
}

/// Serialisation errors name the rule broken ("key must be a string"), not the value, so the
/// message keeps them: they are what a bug report needs.
fn unencodable(what: &str, id: &str, e: &serde_json::Error) -> StoreError {
    corrupt(what, id, format!("it cannot be encoded as JSON: {e}"))
}

/// What kind of failure `e` is, without the content it quotes.
fn problem(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax => "it is not valid JSON",
        Category::Eof => "its JSON ends early",
        Category::Data => "its JSON has the wrong shape",
        Category::Io => "reading it failed",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::error::Error;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Shape {
        n: u32,
    }

    #[test]
    fn a_body_that_does_not_decode_is_corrupt_data_naming_the_row() {
        for (bytes, expected) in [
            (&b"{\"n\": 1"[..], "its JSON ends early"),
            (&b"not json"[..], "it is not valid JSON"),
            (
                &b"{\"n\": \"secret words\"}"[..],
                "its JSON has the wrong shape",
            ),
        ] {
            let error = Error::from(decode::<Shape>("run step", "0190-abc", bytes).unwrap_err());
            assert_eq!(error.code(), "corrupt_data", "{error}");
            let message = error.to_string();
            assert!(
                message.starts_with("run step 0190-abc is corrupt ("),
                "{message}"
            );
            assert!(message.contains(expected), "{message}");
            assert!(message.contains("headmaster audit verify"), "{message}");
            assert!(
                message.contains("restore the data directory from a backup"),
                "{message}"
            );
            assert!(
                !message.contains("secret words"),
                "the content leaked: {message}"
            );
        }
        assert_eq!(
            decode::<Shape>("run step", "x", b"{\"n\": 7}").unwrap(),
            Shape { n: 7 }
        );
    }

    #[test]
    fn a_value_that_cannot_be_encoded_is_refused_not_stored_empty() {
        // JSON object keys must be strings; a map keyed by a non-string cannot be encoded.
        let unencodable: BTreeMap<Vec<u8>, u32> = [(vec![1u8], 1)].into();
        let error = Error::from(encode("run checkpoint", "r1", &unencodable).unwrap_err());
        assert_eq!(error.code(), "corrupt_data");
        assert!(
            error.to_string().contains("cannot be encoded as JSON"),
            "{error}"
        );
        let error =
            Error::from(to_value("output of tool call", "shell.exec", &unencodable).unwrap_err());
        assert_eq!(error.code(), "corrupt_data");
        assert_eq!(encode("run checkpoint", "r1", &[1, 2]).unwrap(), b"[1,2]");
    }
}
