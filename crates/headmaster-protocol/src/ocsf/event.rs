//! Building the OCSF JSON object for one audit record.
//!
//! The attributes shared by every class (classification, status, metadata, actor, source) are
//! built once; each class then adds what it requires: Authentication a `user` and a `service`,
//! Account Change and User Access Management the target `user`, Role Management the `iam_role`,
//! API Activity the `api` operation and the affected `resources`.
//!
//! Fields the schema has no place for (the exact action and outcome strings, correlation ids,
//! the payload) go under `unmapped`, so nothing the log holds is lost on export and a bundle
//! verifier can match each OCSF line to its chain row.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::classify::{classify, OcsfClass};
use super::{Actor, AiAgent, AuditRecord, OcsfError, Source, ERASED, OCSF_VERSION};

/// The product name in `metadata.product` and the service name of authentication events.
const PRODUCT: &str = "Headmaster";

/// Maps one record to its OCSF event.
pub fn to_ocsf(record: &AuditRecord) -> Result<Value, OcsfError> {
    let time =
        chrono::DateTime::parse_from_rfc3339(&record.time).map_err(|_| OcsfError::BadTime {
            seq: record.seq,
            time: record.time.clone(),
        })?;
    let classification = classify(&record.action);
    let class = classification.class;
    let (status_id, status) = status(&record.outcome);
    let severity_id = severity_id(record);
    let mut event = json!({
        "category_uid": class.category_uid(),
        "category_name": class.category_name(),
        "class_uid": class.uid(),
        "class_name": class.name(),
        "activity_id": classification.activity_id,
        "activity_name": classification.activity_name,
        "type_uid": u64::from(class.uid()) * 100 + u64::from(classification.activity_id),
        "type_name": format!("{}: {}", class.name(), classification.activity_name),
        "severity_id": severity_id,
        "severity": severity_caption(severity_id),
        "status_id": status_id,
        "status": status,
        "time": time.timestamp_millis(),
        "timezone_offset": time.offset().local_minus_utc() / 60,
        "message": message(record),
        "metadata": metadata(record),
        "actor": actor(&record.actor, &record.source),
        "src_endpoint": src_endpoint(&record.source),
        "unmapped": unmapped(record),
    });
    let fields = event
        .as_object_mut()
        .expect("json! of an object literal is an object");
    if let Some(detail) = status_detail(record) {
        fields.insert("status_detail".into(), detail.into());
    }
    if let Some(agent) = non_empty(&record.source.user_agent) {
        fields.insert("http_request".into(), json!({ "user_agent": agent }));
    }
    if let Some(agent) = &record.ai_agent {
        fields.insert("ai_agent".into(), ai_agent(agent));
    }
    add_class_attributes(class, record, fields);
    Ok(event)
}

fn add_class_attributes(class: OcsfClass, record: &AuditRecord, fields: &mut Map<String, Value>) {
    match class {
        OcsfClass::Authentication => {
            let user = if record.actor.kind == "user" {
                entity(&record.actor.id, Some(&record.actor.name))
            } else {
                // A failed sign-in has no authenticated actor; the target is the account name
                // that was tried.
                entity("", Some(&record.target))
            };
            fields.insert("user".into(), user);
            fields.insert("service".into(), json!({ "name": PRODUCT }));
        }
        OcsfClass::AccountChange | OcsfClass::UserAccess => {
            let user = if record.action == "auth.locked_out" && record.target.is_empty() {
                entity(&record.actor.id, Some(&record.actor.name))
            } else {
                entity(&record.target, record.target_name.as_deref())
            };
            fields.insert("user".into(), user);
            // Only User Access Management has a place for the role a member was given.
            let role = record.payload.get("role").and_then(Value::as_str);
            if let (OcsfClass::UserAccess, Some(role)) = (class, role) {
                fields.insert("iam_role".into(), json!({ "name": role }));
            }
        }
        OcsfClass::RoleManagement => {
            let name = record
                .target_name
                .as_deref()
                .or_else(|| record.payload.get("name").and_then(Value::as_str));
            fields.insert("iam_role".into(), entity(&record.target, name));
        }
        OcsfClass::ApiActivity => {
            fields.insert(
                "api".into(),
                json!({ "operation": record.action, "service": { "name": PRODUCT } }),
            );
            if !record.target.is_empty() {
                let mut resource = entity(&record.target, record.target_name.as_deref());
                let kind = record.action.split('.').next().unwrap_or_default();
                resource["type"] = kind.into();
                fields.insert("resources".into(), json!([resource]));
            }
        }
    }
}

/// `status_id` and its caption. Pending decisions are neither success nor failure yet.
fn status(outcome: &str) -> (u32, &str) {
    match outcome {
        "allowed" => (1, "Success"),
        "denied" | "failed" => (2, "Failure"),
        "pending" => (99, "Pending"),
        _ => (0, "Unknown"),
    }
}

fn status_detail(record: &AuditRecord) -> Option<String> {
    let reason = record.payload.get("reason").and_then(Value::as_str);
    match (record.action.as_str(), reason) {
        (_, Some(reason)) => Some(reason.to_owned()),
        ("auth.session_expired", None) => Some("session expired".into()),
        (_, None) if record.outcome == "denied" => Some("denied".into()),
        _ => None,
    }
}

/// Denials and lockouts need a look; failures may; everything else is informational.
fn severity_id(record: &AuditRecord) -> u32 {
    match (record.action.as_str(), record.outcome.as_str()) {
        ("auth.locked_out", _) | (_, "denied") => 3,
        (_, "failed") => 2,
        _ => 1,
    }
}

fn severity_caption(id: u32) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        _ => "Unknown",
    }
}

fn message(record: &AuditRecord) -> String {
    let who = if record.actor.name.is_empty() {
        "anonymous"
    } else {
        &record.actor.name
    };
    let target = record.target_name.as_deref().unwrap_or(&record.target);
    if target.is_empty() {
        format!("{who}: {} ({})", record.action, record.outcome)
    } else {
        format!("{who}: {} {target} ({})", record.action, record.outcome)
    }
}

fn metadata(record: &AuditRecord) -> Value {
    let mut metadata = json!({
        "version": OCSF_VERSION,
        "product": {
            "name": PRODUCT,
            "vendor_name": PRODUCT,
            "version": env!("CARGO_PKG_VERSION"),
        },
        "uid": format!("{}:{}", record.scope, record.seq),
        "sequence": record.seq,
        "log_name": "audit",
    });
    if record.scope != "instance" {
        metadata["tenant_uid"] = record.scope.clone().into();
    }
    let correlation = [&record.run_id, &record.approval_id]
        .into_iter()
        .find(|id| !id.is_empty());
    if let Some(id) = correlation {
        metadata["correlation_uid"] = id.clone().into();
    }
    if record.ai_agent.is_some() {
        metadata["profiles"] = json!(["ai_operation"]);
    }
    metadata
}

fn actor(actor: &Actor, source: &Source) -> Value {
    let (type_id, type_name) = match actor.kind.as_str() {
        "user" => (1, "User"),
        "system" => (3, "System"),
        "agent" => (99, "AI Agent"),
        _ => (0, "Unknown"),
    };
    let name = if actor.name.is_empty() {
        actor.kind.as_str()
    } else {
        actor.name.as_str()
    };
    let mut user = entity(&actor.id, Some(name));
    user["type_id"] = type_id.into();
    user["type"] = type_name.into();
    let mut out = json!({ "user": user });
    if let Some(client) = non_empty(&source.client) {
        out["app_name"] = client.into();
    }
    out
}

/// The source endpoint. The schema requires at least one identifying attribute, so a source
/// with nothing recorded is named `unknown`. An IP that does not parse (an erased one) is left
/// out rather than written where an IP address must be.
fn src_endpoint(source: &Source) -> Value {
    let mut endpoint = Map::new();
    if let Some(host) = non_empty(&source.host) {
        endpoint.insert("hostname".into(), host.into());
    }
    if let Some(ip) = non_empty(&source.ip) {
        if ip.parse::<IpAddr>().is_ok() {
            endpoint.insert("ip".into(), ip.into());
        } else if ip == ERASED && !endpoint.contains_key("hostname") {
            endpoint.insert("name".into(), ERASED.into());
        }
    }
    if let Some(os_user) = non_empty(&source.os_user) {
        endpoint.insert("owner".into(), json!({ "name": os_user }));
    }
    let identified = ["hostname", "ip", "name"]
        .iter()
        .any(|k| endpoint.contains_key(*k));
    if !identified {
        let name = non_empty(&source.client).unwrap_or("unknown");
        endpoint.insert("name".into(), name.into());
    }
    Value::Object(endpoint)
}

fn ai_agent(agent: &AiAgent) -> Value {
    let mut out = entity(&agent.uid, Some(&agent.name));
    out["type_id"] = 1.into();
    out["type"] = "Native".into();
    if !agent.instance_uid.is_empty() {
        out["instance_uid"] = agent.instance_uid.clone().into();
    }
    if let Some(model) = &agent.model {
        out["ai_model"] = json!({ "name": model.name, "ai_provider": model.provider });
    }
    out
}

fn unmapped(record: &AuditRecord) -> Value {
    json!({
        "action": record.action,
        "outcome": record.outcome,
        "actor_kind": record.actor.kind,
        "actor_id": record.actor.id,
        "target": record.target,
        "run_id": record.run_id,
        "step_id": record.step_id,
        "approval_id": record.approval_id,
        "payload": record.payload,
    })
}

/// An object with `uid` and `name`, each only when non-empty, and `name: unknown` when neither
/// is (every entity in the schema needs at least one of them).
fn entity(uid: &str, name: Option<&str>) -> Value {
    let mut out = Map::new();
    if !uid.is_empty() {
        out.insert("uid".into(), uid.into());
    }
    match name.filter(|n| !n.is_empty()) {
        Some(name) => {
            out.insert("name".into(), name.into());
        }
        None if uid.is_empty() => {
            out.insert("name".into(), "unknown".into());
        }
        None => {}
    }
    Value::Object(out)
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}
