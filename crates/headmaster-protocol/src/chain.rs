//! The audit hash chain.
//!
//! An event is hashed exactly as it is stored: the personal and payload fields are the sealed
//! ciphertext bytes, not the plaintext. Erasing a data subject's key (crypto-shredding) therefore
//! never changes a hash, and a verifier needs no key at all.
//!
//! `hash(n) = SHA-256(hash(n-1) || canonical(event n))`, with the chain of a scope (a workspace or
//! the instance) starting from `genesis(scope)`. Binding the scope into the genesis value means a
//! chain copied from one workspace into another does not verify there.
//!
//! The canonical encoding is hand-written rather than, say, canonical JSON, because it must be
//! byte-stable across languages and library versions for the lifetime of an archive: every field
//! is written in a fixed order as a big-endian `u32` length followed by its bytes, and numbers as
//! fixed-width big-endian integers. There is nothing to escape and nothing to normalise.

use sha2::{Digest, Sha256};

/// A SHA-256 chain hash.
pub type Hash = [u8; 32];

/// Domain separator at the start of every canonical event encoding.
const EVENT_TAG: &[u8] = b"headmaster-audit-event-v1";
/// Domain separator for the genesis value of a chain.
const GENESIS_TAG: &[u8] = b"headmaster-audit-genesis-v1";

/// One audit event as stored: clear metadata used for querying and ordering, and the sealed
/// (encrypted) source and payload blobs exactly as they sit in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the chain, starting at 1 and increasing by exactly one.
    pub seq: u64,
    /// UTC time in RFC 3339 with millisecond precision, e.g. `2026-11-27T13:00:00.123Z`.
    pub time: String,
    /// `user`, `agent`, `system` or `anonymous`.
    pub actor_kind: String,
    /// The actor's stable pseudonymous id (a UUID), empty for anonymous actors.
    pub actor_id: String,
    /// Dotted action name, e.g. `auth.sign_in` or `tool.executed`.
    pub action: String,
    /// What the action was applied to (an id or a tool name), possibly empty.
    pub target: String,
    /// `allowed`, `denied`, `failed` or `pending`.
    pub outcome: String,
    /// Correlation: the agent run this event belongs to, or empty.
    pub run_id: String,
    /// Correlation: the step within the run, or empty.
    pub step_id: String,
    /// Correlation: the approval request, or empty.
    pub approval_id: String,
    /// Sealed source (host, OS user, IP, user agent, client), under the actor's subject key.
    pub source: Vec<u8>,
    /// Sealed payload (JSON before sealing).
    pub payload: Vec<u8>,
}

impl StoredEvent {
    /// The same event, borrowed.
    pub fn borrowed(&self) -> EventRef<'_> {
        EventRef {
            seq: self.seq,
            time: &self.time,
            actor_kind: &self.actor_kind,
            actor_id: &self.actor_id,
            action: &self.action,
            target: &self.target,
            outcome: &self.outcome,
            run_id: &self.run_id,
            step_id: &self.step_id,
            approval_id: &self.approval_id,
            source: &self.source,
            payload: &self.payload,
        }
    }

    /// The canonical byte encoding that the chain hashes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.borrowed().canonical_bytes()
    }

    /// The chain hash of this event given the hash of its predecessor.
    pub fn chain_hash(&self, prev: &Hash) -> Hash {
        self.borrowed().chain_hash(prev)
    }
}

/// A stored event borrowed from wherever it is being read (a database row, a bundle line), so
/// that checking a million rows does not copy every field of every row. Hashes exactly like the
/// [`StoredEvent`] it mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// See [`StoredEvent::seq`].
    pub seq: u64,
    /// See [`StoredEvent::time`].
    pub time: &'a str,
    /// See [`StoredEvent::actor_kind`].
    pub actor_kind: &'a str,
    /// See [`StoredEvent::actor_id`].
    pub actor_id: &'a str,
    /// See [`StoredEvent::action`].
    pub action: &'a str,
    /// See [`StoredEvent::target`].
    pub target: &'a str,
    /// See [`StoredEvent::outcome`].
    pub outcome: &'a str,
    /// See [`StoredEvent::run_id`].
    pub run_id: &'a str,
    /// See [`StoredEvent::step_id`].
    pub step_id: &'a str,
    /// See [`StoredEvent::approval_id`].
    pub approval_id: &'a str,
    /// See [`StoredEvent::source`].
    pub source: &'a [u8],
    /// See [`StoredEvent::payload`].
    pub payload: &'a [u8],
}

impl EventRef<'_> {
    /// The canonical byte encoding that the chain hashes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            EVENT_TAG.len() + 12 * 4 + 8 + self.source.len() + self.payload.len() + 160,
        );
        self.encode(|bytes| out.extend_from_slice(bytes));
        out
    }

    /// Feeds the canonical encoding, piece by piece, to `sink` (hashing needs no buffer).
    fn encode(&self, mut sink: impl FnMut(&[u8])) {
        put_into(&mut sink, EVENT_TAG);
        // The sequence number is fixed-width and carries no length prefix.
        sink(&self.seq.to_be_bytes());
        for bytes in [
            self.time.as_bytes(),
            self.actor_kind.as_bytes(),
            self.actor_id.as_bytes(),
            self.action.as_bytes(),
            self.target.as_bytes(),
            self.outcome.as_bytes(),
            self.run_id.as_bytes(),
            self.step_id.as_bytes(),
            self.approval_id.as_bytes(),
            self.source,
            self.payload,
        ] {
            put_into(&mut sink, bytes);
        }
    }

    /// The chain hash of this event given the hash of its predecessor.
    pub fn chain_hash(&self, prev: &Hash) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(prev);
        self.encode(|bytes| hasher.update(bytes));
        hasher.finalize().into()
    }
}

/// One row of a chain as stored: the event and the hash that was recorded for it when it was
/// appended. The verifier recomputes the hash from the event and compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    /// The event exactly as stored.
    pub event: StoredEvent,
    /// The chain hash stored beside the event.
    pub hash: Hash,
}

impl ChainRow {
    /// The same row, borrowed.
    pub fn borrowed(&self) -> RowRef<'_> {
        RowRef {
            event: self.event.borrowed(),
            hash: &self.hash,
        }
    }
}

/// A chain row borrowed from where it is being read; see [`EventRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef<'a> {
    /// The event exactly as stored.
    pub event: EventRef<'a>,
    /// The chain hash stored beside the event.
    pub hash: &'a Hash,
}

/// Where a verification starts: the sequence number and hash of the row just before the first
/// row to check. A whole chain starts from [`Anchor::genesis`]; an archive segment or the hot
/// rows after an archive start from the last hash of what came before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// Sequence number of the row before the first checked row (0 for a whole chain).
    pub seq: u64,
    /// Chain hash of that row (the genesis value for a whole chain).
    pub hash: Hash,
}

impl Anchor {
    /// The anchor of a whole chain of `scope`: sequence 0 and the genesis value.
    pub fn genesis(scope: &str) -> Self {
        Self {
            seq: 0,
            hash: genesis(scope),
        }
    }
}

/// The value that precedes event 1 of the chain of `scope` (a workspace id, or `instance`).
pub fn genesis(scope: &str) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(GENESIS_TAG);
    hasher.update((scope.len() as u32).to_be_bytes());
    hasher.update(scope.as_bytes());
    hasher.finalize().into()
}

/// Writes one field to a sink as a big-endian `u32` length followed by the bytes themselves.
fn put_into(sink: &mut impl FnMut(&[u8]), bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("audit field larger than 4 GiB");
    sink(&len.to_be_bytes());
    sink(bytes);
}

/// Appends one field to a buffer the same way. Shared with the checkpoint encoding so both
/// formats follow one rule.
pub(crate) fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
    put_into(&mut |b: &[u8]| out.extend_from_slice(b), bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StoredEvent {
        StoredEvent {
            seq: 1,
            time: "2026-11-27T13:00:00.000Z".into(),
            actor_kind: "user".into(),
            actor_id: "0193-aa".into(),
            action: "auth.sign_in".into(),
            target: String::new(),
            outcome: "allowed".into(),
            run_id: String::new(),
            step_id: String::new(),
            approval_id: String::new(),
            source: vec![1, 2, 3],
            payload: vec![4, 5, 6],
        }
    }

    #[test]
    fn moving_bytes_between_adjacent_fields_changes_the_encoding() {
        let a = sample();
        let mut b = sample();
        b.action = "auth.sign_i".into();
        b.target = "n".into();
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = sample();
        let prev = genesis("instance");
        let h = base.chain_hash(&prev);
        type Mutation = Box<dyn Fn(&mut StoredEvent)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|e| e.seq = 2),
            Box::new(|e| e.time.push('x')),
            Box::new(|e| e.actor_kind.push('x')),
            Box::new(|e| e.actor_id.push('x')),
            Box::new(|e| e.action.push('x')),
            Box::new(|e| e.target.push('x')),
            Box::new(|e| e.outcome.push('x')),
            Box::new(|e| e.run_id.push('x')),
            Box::new(|e| e.step_id.push('x')),
            Box::new(|e| e.approval_id.push('x')),
            Box::new(|e| e.source.push(0)),
            Box::new(|e| e.payload.push(0)),
        ];
        for mutate in mutations {
            let mut e = base.clone();
            mutate(&mut e);
            assert_ne!(e.chain_hash(&prev), h);
        }
        assert_ne!(base.chain_hash(&genesis("other")), h);
    }
}
