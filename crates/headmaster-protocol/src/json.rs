//! JSON forms of chain rows and signed checkpoints: the lines of a bundle's `chain.jsonl`, the
//! entries of its `checkpoints.json`, and what the server ingests.
//!
//! The domain types stay free of serde; these DTOs are the boundary. Byte fields travel as
//! standard base64 (the sealed blobs) or lowercase hex (hashes, as `sha256sum` prints them), and
//! unknown fields are rejected so a row cannot smuggle data past the hash.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::chain::{Anchor, ChainRow, Hash, StoredEvent};
use crate::checkpoint::{Checkpoint, SignedCheckpoint};

/// One line of `chain.jsonl`: a stored event with its sealed blobs and its stored hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainRowJson {
    pub seq: u64,
    pub time: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub run_id: String,
    pub step_id: String,
    pub approval_id: String,
    /// Sealed source, base64.
    pub source: String,
    /// Sealed payload, base64.
    pub payload: String,
    /// Stored chain hash, hex.
    pub hash: String,
}

/// Appends `row` to `out` as one `chain.jsonl` line of compact JSON (without the newline),
/// without building a [`ChainRowJson`]: the text fields go through serde_json's string
/// escaping, and the blobs and the hash, whose alphabets need no escaping, are encoded straight
/// into `out`. The line has the fields of [`ChainRowJson`] in its order and parses back into it.
pub fn write_chain_row(row: &ChainRow, out: &mut Vec<u8>) {
    let e = &row.event;
    out.extend_from_slice(b"{\"seq\":");
    serde_json::to_writer(&mut *out, &e.seq).expect("writing JSON to a Vec cannot fail");
    for (name, value) in [
        ("time", &e.time),
        ("actor_kind", &e.actor_kind),
        ("actor_id", &e.actor_id),
        ("action", &e.action),
        ("target", &e.target),
        ("outcome", &e.outcome),
        ("run_id", &e.run_id),
        ("step_id", &e.step_id),
        ("approval_id", &e.approval_id),
    ] {
        put_key(out, name);
        serde_json::to_writer(&mut *out, value).expect("writing JSON to a Vec cannot fail");
    }
    for (name, blob) in [("source", &e.source), ("payload", &e.payload)] {
        put_key(out, name);
        out.push(b'"');
        let start = out.len();
        let len = base64::encoded_len(blob.len(), true).expect("a stored blob fits in memory");
        out.resize(start + len, 0);
        STANDARD
            .encode_slice(blob, &mut out[start..])
            .expect("the buffer was sized by encoded_len");
        out.push(b'"');
    }
    put_key(out, "hash");
    out.push(b'"');
    let start = out.len();
    out.resize(start + 64, 0);
    hex::encode_to_slice(row.hash, &mut out[start..]).expect("64 hex digits for 32 bytes");
    out.extend_from_slice(b"\"}");
}

/// Appends `,"name":` (every key follows `seq`, so every key needs the comma).
fn put_key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// One entry of `checkpoints.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointJson {
    pub scope: String,
    pub seq: u64,
    /// Chain hash at `seq`, hex.
    pub hash: String,
    pub time: String,
    /// OpenSSH fingerprint of the signing key.
    pub key_fingerprint: String,
    /// Ed25519 signature, base64.
    pub signature: String,
}

/// An anchor: where a chain piece starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorJson {
    pub seq: u64,
    /// Chain hash at `seq` (the genesis value for seq 0), hex.
    pub hash: String,
}

/// A JSON value that does not decode into its domain type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonError {
    /// A base64 field does not decode.
    #[error("field `{field}` is not valid base64; the value was altered or truncated")]
    Base64 {
        /// The field's name.
        field: &'static str,
    },
    /// A hash field is not 64 hex digits.
    #[error("field `{field}` is not a 64-digit hex SHA-256; the value was altered or truncated")]
    Hash {
        /// The field's name.
        field: &'static str,
    },
    /// A signature field is not 64 bytes of base64.
    #[error("field `signature` is not a 64-byte Ed25519 signature in base64")]
    Signature,
}

impl From<&ChainRow> for ChainRowJson {
    fn from(row: &ChainRow) -> Self {
        let e = &row.event;
        Self {
            seq: e.seq,
            time: e.time.clone(),
            actor_kind: e.actor_kind.clone(),
            actor_id: e.actor_id.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            outcome: e.outcome.clone(),
            run_id: e.run_id.clone(),
            step_id: e.step_id.clone(),
            approval_id: e.approval_id.clone(),
            source: STANDARD.encode(&e.source),
            payload: STANDARD.encode(&e.payload),
            hash: hex::encode(row.hash),
        }
    }
}

impl TryFrom<ChainRowJson> for ChainRow {
    type Error = JsonError;

    fn try_from(j: ChainRowJson) -> Result<Self, JsonError> {
        let source = STANDARD
            .decode(&j.source)
            .map_err(|_| JsonError::Base64 { field: "source" })?;
        let payload = STANDARD
            .decode(&j.payload)
            .map_err(|_| JsonError::Base64 { field: "payload" })?;
        Ok(ChainRow {
            hash: parse_hash(&j.hash, "hash")?,
            event: StoredEvent {
                seq: j.seq,
                time: j.time,
                actor_kind: j.actor_kind,
                actor_id: j.actor_id,
                action: j.action,
                target: j.target,
                outcome: j.outcome,
                run_id: j.run_id,
                step_id: j.step_id,
                approval_id: j.approval_id,
                source,
                payload,
            },
        })
    }
}

impl From<&SignedCheckpoint> for CheckpointJson {
    fn from(s: &SignedCheckpoint) -> Self {
        Self {
            scope: s.checkpoint.scope.clone(),
            seq: s.checkpoint.seq,
            hash: hex::encode(s.checkpoint.hash),
            time: s.checkpoint.time.clone(),
            key_fingerprint: s.key_fingerprint.clone(),
            signature: STANDARD.encode(s.signature),
        }
    }
}

impl TryFrom<CheckpointJson> for SignedCheckpoint {
    type Error = JsonError;

    fn try_from(j: CheckpointJson) -> Result<Self, JsonError> {
        let signature = STANDARD
            .decode(&j.signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .ok_or(JsonError::Signature)?;
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint {
                hash: parse_hash(&j.hash, "hash")?,
                scope: j.scope,
                seq: j.seq,
                time: j.time,
            },
            key_fingerprint: j.key_fingerprint,
            signature,
        })
    }
}

impl From<&Anchor> for AnchorJson {
    fn from(a: &Anchor) -> Self {
        Self {
            seq: a.seq,
            hash: hex::encode(a.hash),
        }
    }
}

impl TryFrom<&AnchorJson> for Anchor {
    type Error = JsonError;

    fn try_from(j: &AnchorJson) -> Result<Self, JsonError> {
        Ok(Anchor {
            seq: j.seq,
            hash: parse_hash(&j.hash, "anchor.hash")?,
        })
    }
}

/// Parses a 64-digit hex SHA-256.
pub fn parse_hash(text: &str, field: &'static str) -> Result<Hash, JsonError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| JsonError::Hash { field })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ChainRow {
        ChainRow {
            event: StoredEvent {
                seq: 3,
                time: "2026-11-27T13:00:00.000Z".into(),
                actor_kind: "user".into(),
                actor_id: "u1".into(),
                action: "auth.sign_in".into(),
                target: String::new(),
                outcome: "allowed".into(),
                run_id: String::new(),
                step_id: String::new(),
                approval_id: String::new(),
                source: vec![0, 255, 7],
                payload: vec![],
            },
            hash: [9; 32],
        }
    }

    #[test]
    fn a_chain_row_round_trips_through_json() {
        let json = serde_json::to_string(&ChainRowJson::from(&row())).unwrap();
        let back: ChainRowJson = serde_json::from_str(&json).unwrap();
        assert_eq!(ChainRow::try_from(back).unwrap(), row());
    }

    #[test]
    fn written_rows_parse_as_chain_row_json() {
        let mut first = row();
        first.event.target = "quote \" backslash \\ newline \n \u{1} é".into();
        let mut second = row();
        second.event.source = vec![1; 40];
        second.event.seq = u64::MAX;
        for row in [first, second] {
            let mut line = Vec::new();
            write_chain_row(&row, &mut line);
            assert_eq!(
                line,
                serde_json::to_vec(&ChainRowJson::from(&row)).unwrap(),
                "the same bytes as serialising a ChainRowJson"
            );
            let parsed: ChainRowJson = serde_json::from_slice(&line).unwrap();
            assert_eq!(ChainRow::try_from(parsed).unwrap(), row);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_row_writes_as_its_chain_row_json(
            seq in proptest::prelude::any::<u64>(),
            text in "\\PC{0,12}|[\\x00-\\x1f\"\\\\]{0,4}",
            source in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            hash in proptest::prelude::any::<[u8; 32]>(),
        ) {
            let mut row = row();
            row.event.seq = seq;
            row.event.actor_id = text.clone();
            row.event.approval_id = text;
            row.event.source = source;
            row.event.payload = payload;
            row.hash = hash;
            let mut line = Vec::new();
            write_chain_row(&row, &mut line);
            proptest::prop_assert_eq!(
                line,
                serde_json::to_vec(&ChainRowJson::from(&row)).unwrap()
            );
        }
    }

    #[test]
    fn unknown_fields_and_bad_encodings_are_rejected() {
        let mut value = serde_json::to_value(ChainRowJson::from(&row())).unwrap();
        value["extra"] = 1.into();
        assert!(serde_json::from_value::<ChainRowJson>(value).is_err());

        let mut j = ChainRowJson::from(&row());
        j.hash.pop();
        assert_eq!(
            ChainRow::try_from(j),
            Err(JsonError::Hash { field: "hash" })
        );
        let mut j = ChainRowJson::from(&row());
        j.payload = "not base64!".into();
        assert_eq!(
            ChainRow::try_from(j),
            Err(JsonError::Base64 { field: "payload" })
        );
    }
}
