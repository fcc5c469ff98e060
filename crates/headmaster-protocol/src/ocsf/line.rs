//! What an OCSF line must share with the chain row it describes.
//!
//! A bundle's `events.jsonl` and an uploaded segment's events both carry one OCSF event per chain
//! row. The event is built from the opened record, so nobody without the keys can recompute it;
//! what can be checked is that it names the same event as the row: the same sequence number and
//! scope (`metadata.uid`), time, action, actor and outcome. A verifier that accepts an event only
//! after this check cannot be fed an OCSF line about something the chain never recorded.

use serde::Deserialize;

use crate::chain::StoredEvent;

/// The fields of a Headmaster OCSF line that must agree with its chain row.
#[derive(Debug, Deserialize)]
pub struct EventLine {
    /// The OCSF class (`class_uid`).
    pub class_uid: u32,
    /// Event time in milliseconds since the epoch.
    pub time: i64,
    /// `metadata.uid` and `metadata.sequence`.
    pub metadata: EventMetadata,
    /// `unmapped`: the exact stored strings.
    pub unmapped: EventUnmapped,
}

/// The part of `metadata` that places an event in its chain.
#[derive(Debug, Deserialize)]
pub struct EventMetadata {
    /// `<scope>:<seq>`.
    pub uid: String,
    /// The chain sequence number.
    pub sequence: u64,
}

/// The part of `unmapped` that repeats the stored row's strings.
#[derive(Debug, Deserialize)]
pub struct EventUnmapped {
    /// The stored action.
    pub action: String,
    /// The stored outcome.
    pub outcome: String,
    /// The stored actor id.
    pub actor_id: String,
}

impl EventLine {
    /// Parses the fields this check needs from one OCSF line; other fields are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// How this event differs from the row `event` of the chain of `scope` (empty when it
    /// describes that row). `scope` is `None` where the scope is not known (older bundles are
    /// checked without it).
    pub fn differences(&self, event: &StoredEvent, scope: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        if self.metadata.sequence != event.seq {
            out.push(format!(
                "sequence {} vs seq {}",
                self.metadata.sequence, event.seq
            ));
        }
        if let Some(scope) = scope {
            let expected = format!("{scope}:{}", event.seq);
            if self.metadata.uid != expected {
                out.push(format!("uid {:?} vs {expected:?}", self.metadata.uid));
            }
        }
        let row_time =
            chrono::DateTime::parse_from_rfc3339(&event.time).map(|t| t.timestamp_millis());
        if row_time != Ok(self.time) {
            out.push(format!("time {} vs {}", self.time, event.time));
        }
        for (what, ocsf, stored) in [
            ("action", &self.unmapped.action, &event.action),
            ("actor", &self.unmapped.actor_id, &event.actor_id),
            ("outcome", &self.unmapped.outcome, &event.outcome),
        ] {
            if ocsf != stored {
                out.push(format!("{what} {ocsf:?} vs {stored:?}"));
            }
        }
        out
    }
}
