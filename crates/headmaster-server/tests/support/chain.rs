//! Chains of plausible audit events, as a desktop holds them, cut into upload segments.

use std::borrow::Cow;

use ed25519_dalek::SigningKey;
use headmaster_protocol::chain::{genesis, ChainRow, StoredEvent};
use headmaster_protocol::checkpoint::Checkpoint;
use headmaster_protocol::ocsf::{Actor, AuditRecord, Source};
use headmaster_protocol::segment::write_segment;

const ACTIONS: &[&str] = &[
    "auth.sign_in",
    "tool.executed",
    "approval.requested",
    "approval.approved",
    "credential.used",
    "member.added",
    "access.denied",
];

/// One chain of one device.
pub struct Chain {
    pub scope: String,
    pub rows: Vec<ChainRow>,
    /// Varies the events so two chains with the same scope differ (a fork).
    salt: u8,
}

impl Chain {
    /// An empty chain of `scope`.
    pub fn new(scope: &str) -> Self {
        Self::salted(scope, 0)
    }

    /// An empty chain whose events differ from another chain's of the same scope.
    pub fn salted(scope: &str, salt: u8) -> Self {
        Self {
            scope: scope.to_owned(),
            rows: Vec::new(),
            salt,
        }
    }

    /// Appends `n` events.
    pub fn extend(&mut self, n: u64) -> &mut Self {
        for _ in 0..n {
            let seq = self.rows.len() as u64 + 1;
            let prev = self
                .rows
                .last()
                .map(|r| r.hash)
                .unwrap_or_else(|| genesis(&self.scope));
            let event = event(seq, self.salt);
            let hash = event.chain_hash(&prev);
            self.rows.push(ChainRow { event, hash });
        }
        self
    }

    /// The wire form of rows `from..=to`, with a checkpoint over `to` signed by `key`.
    pub fn segment(&self, from: u64, to: u64, key: &SigningKey) -> Vec<u8> {
        let rows: Vec<(ChainRow, AuditRecord<'static>)> = self.rows
            [(from - 1) as usize..to as usize]
            .iter()
            .map(|r| (r.clone(), record(&self.scope, &r.event)))
            .collect();
        let last = &self.rows[(to - 1) as usize];
        let checkpoint = Checkpoint {
            scope: self.scope.clone(),
            seq: to,
            hash: last.hash,
            time: last.event.time.clone(),
        }
        .sign(key);
        write_segment(&self.scope, &rows, &checkpoint).unwrap()
    }
}

fn event(seq: u64, salt: u8) -> StoredEvent {
    let action = ACTIONS[(seq as usize - 1) % ACTIONS.len()];
    StoredEvent {
        seq,
        time: format!(
            "2026-12-04T05:{:02}:{:02}.{:03}Z",
            (seq / 60) % 60,
            seq % 60,
            seq % 1000
        ),
        actor_kind: if action.starts_with("tool.") {
            "agent"
        } else {
            "user"
        }
        .into(),
        actor_id: format!("actor-{}", seq % 3),
        action: action.into(),
        target: format!("target-{seq}"),
        outcome: if action == "access.denied" {
            "denied"
        } else {
            "allowed"
        }
        .into(),
        run_id: String::new(),
        step_id: String::new(),
        approval_id: String::new(),
        source: (0..64)
            .map(|i| (seq as u8).wrapping_mul(31).wrapping_add(i))
            .collect(),
        payload: (0..160)
            .map(|i| (seq as u8).wrapping_add(i).wrapping_add(salt))
            .collect(),
    }
}

fn record(scope: &str, e: &StoredEvent) -> AuditRecord<'static> {
    AuditRecord {
        scope: scope.to_owned().into(),
        seq: e.seq,
        time: e.time.clone().into(),
        actor: Actor {
            kind: e.actor_kind.clone().into(),
            id: e.actor_id.clone().into(),
            name: format!("person {}", e.actor_id).into(),
        },
        action: e.action.clone().into(),
        target: e.target.clone().into(),
        target_name: None,
        outcome: e.outcome.clone().into(),
        source: Source {
            client: Some("desktop".into()),
            host: Some("finance-laptop".into()),
            ..Source::default()
        },
        run_id: String::new().into(),
        step_id: String::new().into(),
        approval_id: String::new().into(),
        payload: Cow::Owned(serde_json::json!({ "n": e.seq })),
        ai_agent: None,
    }
}
