//! Builders shared by the integration tests: chains of plausible events, keys, checkpoints and
//! decoded records.

use std::borrow::Cow;

use ed25519_dalek::SigningKey;
use headmaster_protocol::chain::{Anchor, ChainRow, StoredEvent};
use headmaster_protocol::checkpoint::{Checkpoint, SignedCheckpoint};
use headmaster_protocol::ocsf::{Actor, AiAgent, AiModel, AuditRecord, Source};
use headmaster_protocol::verify::{verify_chain, VerifyInput, VerifyReport};

pub const SCOPE: &str = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

/// Every action kind the core emits, so a chain of them exercises every class mapping.
pub const ACTIONS: &[&str] = &[
    "auth.sign_in",
    "auth.sign_in_failed",
    "auth.sign_out",
    "auth.session_expired",
    "auth.locked_out",
    "user.created",
    "user.disabled",
    "user.password_changed",
    "member.added",
    "member.role_changed",
    "member.removed",
    "role.created",
    "role.deleted",
    "tool.executed",
    "approval.requested",
    "approval.approved",
    "grant.revoked",
    "credential.used",
    "workspace.created",
    "key.rotated",
    "audit.exported",
    "subject.erased",
    "policy.changed",
    "run.started",
    "access.denied",
];

pub fn device_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

pub fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[8; 32])
}

/// A stored event at `seq` with blobs about the size of real sealed ones.
pub fn event(seq: u64) -> StoredEvent {
    let action = ACTIONS[(seq as usize - 1) % ACTIONS.len()];
    let actor_kind = if action.starts_with("tool.") || action.starts_with("run.") {
        "agent"
    } else if action == "auth.sign_in_failed" {
        "anonymous"
    } else {
        "user"
    };
    StoredEvent {
        seq,
        time: format!(
            "2026-11-27T13:{:02}:{:02}.{:03}Z",
            (seq / 60) % 60,
            seq % 60,
            seq % 1000
        ),
        actor_kind: actor_kind.into(),
        actor_id: if actor_kind == "anonymous" {
            String::new()
        } else {
            format!("actor-{}", seq % 3)
        },
        action: action.into(),
        target: format!("target-{seq}"),
        outcome: if action == "access.denied" {
            "denied"
        } else {
            "allowed"
        }
        .into(),
        run_id: if actor_kind == "agent" {
            "run-1".into()
        } else {
            String::new()
        },
        step_id: String::new(),
        approval_id: String::new(),
        source: (0..100)
            .map(|i| (seq as u8).wrapping_mul(31).wrapping_add(i))
            .collect(),
        payload: (0..200).map(|i| (seq as u8).wrapping_add(i)).collect(),
    }
}

/// Rows `1..=n` of a chain from genesis.
pub fn chain(n: u64) -> Vec<ChainRow> {
    let mut rows = Vec::new();
    let mut prev = Anchor::genesis(SCOPE).hash;
    for seq in 1..=n {
        let event = event(seq);
        let hash = event.chain_hash(&prev);
        prev = hash;
        rows.push(ChainRow { event, hash });
    }
    rows
}

/// Recomputes every stored hash from `from` (an index) on, as an attacker with write access
/// would after editing a row.
pub fn rehash_from(rows: &mut [ChainRow], from: usize) {
    let mut prev = if from == 0 {
        Anchor::genesis(SCOPE).hash
    } else {
        rows[from - 1].hash
    };
    for row in &mut rows[from..] {
        row.hash = row.event.chain_hash(&prev);
        prev = row.hash;
    }
}

/// A checkpoint over the row with sequence number `seq`, signed by `key`.
pub fn checkpoint(rows: &[ChainRow], seq: u64, key: &SigningKey) -> SignedCheckpoint {
    let row = rows
        .iter()
        .find(|r| r.event.seq == seq)
        .expect("row exists");
    Checkpoint {
        scope: SCOPE.into(),
        seq,
        hash: row.hash,
        time: "2026-11-27T14:00:00.000Z".into(),
    }
    .sign(key)
}

/// Verifies a whole chain against `checkpoints`, trusting only the device key.
pub fn verify(rows: &[ChainRow], checkpoints: &[SignedCheckpoint]) -> VerifyReport {
    let keys = [device_key().verifying_key()];
    let input = VerifyInput {
        scope: SCOPE,
        anchor: Anchor::genesis(SCOPE),
        checkpoints,
        trusted_keys: &keys,
    };
    verify_chain(input, rows.iter().cloned(), &mut |_| {})
}

/// The decoded record of a stored event, as the core would produce it (owned, so that it can
/// outlive the event it was made from).
pub fn record(event: &StoredEvent) -> AuditRecord<'static> {
    let agent = event.actor_kind == "agent";
    AuditRecord {
        scope: SCOPE.into(),
        seq: event.seq,
        time: event.time.clone().into(),
        actor: Actor {
            kind: event.actor_kind.clone().into(),
            id: event.actor_id.clone().into(),
            name: if agent {
                "Invoice drafter".into()
            } else {
                format!("user {}", event.actor_id).into()
            },
        },
        action: event.action.clone().into(),
        target: event.target.clone().into(),
        target_name: None,
        outcome: event.outcome.clone().into(),
        source: Source {
            client: Some("desktop".into()),
            host: Some("finance-laptop".into()),
            os_user: Some("alice".into()),
            ip: Some("192.0.2.10".into()),
            user_agent: None,
        },
        run_id: event.run_id.clone().into(),
        step_id: event.step_id.clone().into(),
        approval_id: event.approval_id.clone().into(),
        payload: Cow::Owned(
            serde_json::json!({ "role": "approver", "bytes": event.payload.len() }),
        ),
        ai_agent: agent.then(|| AiAgent {
            uid: event.actor_id.clone().into(),
            instance_uid: event.run_id.clone().into(),
            name: "Invoice drafter".into(),
            model: Some(AiModel {
                name: "llama3.1:8b".into(),
                provider: "ollama".into(),
            }),
        }),
    }
}
