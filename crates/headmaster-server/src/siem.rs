//! The SIEM feed: what a `siem.read` token may ask for, and the events as it gets them.
//!
//! `GET /api/v1/events` pages through every stored OCSF event in a stable order with an opaque
//! cursor (sent back in `x-next-cursor`), as NDJSON. Each event's `metadata.uid` is made unique
//! across the whole server (`<device id>:<scope>:<seq>`, the same on every page and every
//! replica), so a SIEM that receives an event twice can drop the copy, and the event names the
//! `device` it came from.
//!
//! The order is the database's commit order. On SQLite that is the row id (one writer at a
//! time). On PostgreSQL concurrent transactions commit out of id order, so the cursor is
//! (transaction id, row id) and a page only reaches up to the oldest transaction still open:
//! a row that commits later can never land behind a cursor a reader already holds.

use std::collections::HashMap;

use serde_json::Value;

use crate::api::devices::device_name_place;
use crate::ingest::row_place;
use crate::keys::DataKey;
use crate::store::{DeviceRow, SiemRow};

/// The most events one page may hold.
pub const MAX_PAGE: i64 = 10_000;
/// Events per page when the client does not say.
pub const DEFAULT_PAGE: i64 = 1_000;

/// What a SIEM asks for. Every field narrows the feed; none is required.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events at or after this time (ms).
    pub since_ms: Option<i64>,
    /// Events before this time (ms).
    pub until_ms: Option<i64>,
    /// One chain scope (a workspace id, or `instance`).
    pub scope: Option<String>,
    /// One device (its id).
    pub device_id: Option<String>,
    /// One OCSF class.
    pub class_uid: Option<i32>,
    /// One actor (the pseudonymous actor id).
    pub actor_id: Option<String>,
}

/// The stable, server-wide uid of an event.
pub fn event_uid(device_id: &str, scope: &str, seq: i64) -> String {
    format!("{device_id}:{scope}:{seq}")
}

/// Writes the NDJSON lines of `rows` into `out` (see [`feed_events`]).
pub fn write_page(
    rows: &[SiemRow],
    devices: &[DeviceRow],
    key: &DataKey,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    for event in feed_events(rows, devices, key)? {
        serde_json::to_writer(&mut *out, &event).expect("writing JSON to a Vec cannot fail");
        out.push(b'\n');
    }
    Ok(())
}

/// The events of `rows` as the feed gives them: opened, with the server-wide `metadata.uid`
/// and the `device` they came from. A row that does not open is reported as an error rather
/// than skipped, so a feed never silently loses an event.
pub fn feed_events(
    rows: &[SiemRow],
    devices: &[DeviceRow],
    key: &DataKey,
) -> Result<Vec<Value>, String> {
    let mut names: HashMap<&str, String> = HashMap::new();
    for d in devices {
        let name = key
            .open(device_name_place(&d.id).as_bytes(), &d.name_sealed)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        names.insert(&d.id, name);
    }
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let uid = event_uid(&row.device_id, &row.scope, row.seq);
        let place = row_place("event", &row.device_id, &row.scope, row.seq as u64);
        let plain = key
            .open(place.as_bytes(), &row.event_sealed)
            .map_err(|_| format!("stored event {uid} does not open with the data key"))?;
        let mut event: Value =
            serde_json::from_slice(&plain).map_err(|e| format!("stored event is not JSON: {e}"))?;
        if let Some(metadata) = event.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("uid".into(), uid.into());
        }
        if let Some(object) = event.as_object_mut() {
            let mut device = serde_json::Map::new();
            device.insert("uid".into(), row.device_id.clone().into());
            device.insert("type_id".into(), 2.into());
            device.insert("type".into(), "Desktop".into());
            if let Some(name) = names.get(row.device_id.as_str()).filter(|n| !n.is_empty()) {
                device.insert("name".into(), name.clone().into());
            }
            object.insert("device".into(), Value::Object(device));
        }
        events.push(event);
    }
    Ok(events)
}
