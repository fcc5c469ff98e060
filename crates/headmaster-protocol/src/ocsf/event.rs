//! Building the OCSF event for one audit record.
//!
//! The attributes shared by every class (classification, status, metadata, actor, source) are
//! built once; each class then adds what it requires: Authentication a `user` and a `service`,
//! Account Change and User Access Management the target `user`, Role Management the `iam_role`,
//! API Activity the `api` operation and the affected `resources`.
//!
//! Fields the schema has no place for (the exact action and outcome strings, correlation ids,
//! the payload) go under `unmapped`, so nothing the log holds is lost on export and a bundle
//! verifier can match each OCSF line to its chain row.
//!
//! The event borrows everything from the record (see `shape.rs`); [`write_ocsf`] serialises it
//! straight into a byte buffer, which is what an export does a million times, and [`to_ocsf`]
//! gives the same event as a `serde_json::Value` for callers that inspect it.

use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::Value;

use super::classify::{classify_borrowed, OcsfClass};
use super::shape::{
    Agent, Api, Endpoint, Entity, Event, EventActor, EventUid, HttpRequest, Message, Metadata,
    Model, Named, Product, TypeName, Unmapped,
};
use super::{Actor, AiAgent, AuditRecord, OcsfError, Source, ERASED, OCSF_VERSION};

/// The product name in `metadata.product` and the service name of authentication events.
const PRODUCT: &str = "Headmaster";

/// Maps one record to its OCSF event.
pub fn to_ocsf(record: &AuditRecord<'_>) -> Result<Value, OcsfError> {
    let (_, event) = build(record)?;
    Ok(serde_json::to_value(&event).expect("an OCSF event always converts to a JSON value"))
}

/// Appends the OCSF event of `record` to `out` as one line of compact JSON (without the
/// newline) and returns the event's class. Nothing is written when the record cannot be mapped.
pub fn write_ocsf(record: &AuditRecord<'_>, out: &mut Vec<u8>) -> Result<OcsfClass, OcsfError> {
    let (class, event) = build(record)?;
    serde_json::to_writer(out, &event).expect("writing JSON to a Vec cannot fail");
    Ok(class)
}

fn build<'a>(record: &'a AuditRecord<'_>) -> Result<(OcsfClass, Event<'a>), OcsfError> {
    let time =
        chrono::DateTime::parse_from_rfc3339(&record.time).map_err(|_| OcsfError::BadTime {
            seq: record.seq,
            time: record.time.to_string(),
        })?;
    let (class, activity_id, activity_name) = classify_borrowed(&record.action);
    let (status_id, status) = status(&record.outcome);
    let severity_id = severity_id(record);
    let mut event = Event {
        category_uid: class.category_uid(),
        category_name: class.category_name(),
        class_uid: class.uid(),
        class_name: class.name(),
        activity_id,
        activity_name,
        type_uid: u64::from(class.uid()) * 100 + u64::from(activity_id),
        type_name: TypeName {
            class,
            activity: activity_name,
        },
        severity_id,
        severity: severity_caption(severity_id),
        status_id,
        status,
        status_detail: status_detail(record),
        time: time.timestamp_millis(),
        timezone_offset: time.offset().local_minus_utc() / 60,
        message: message(record),
        metadata: metadata(record),
        actor: actor(&record.actor, &record.source),
        src_endpoint: src_endpoint(&record.source),
        http_request: non_empty(&record.source.user_agent)
            .map(|user_agent| HttpRequest { user_agent }),
        ai_agent: record.ai_agent.as_ref().map(ai_agent),
        user: None,
        service: None,
        iam_role: None,
        api: None,
        resources: None,
        unmapped: unmapped(record),
    };
    add_class_attributes(class, record, &mut event);
    Ok((class, event))
}

fn add_class_attributes<'a>(class: OcsfClass, record: &'a AuditRecord<'_>, event: &mut Event<'a>) {
    match class {
        OcsfClass::Authentication => {
            event.user = Some(if record.actor.kind == "user" {
                Entity::of(&record.actor.id, Some(&record.actor.name))
            } else {
                // A failed sign-in has no authenticated actor; the target is the account name
                // that was tried.
                Entity::of("", Some(&record.target))
            });
            event.service = Some(Named { name: PRODUCT });
        }
        OcsfClass::AccountChange | OcsfClass::UserAccess => {
            event.user = Some(
                if record.action == "auth.locked_out" && record.target.is_empty() {
                    Entity::of(&record.actor.id, Some(&record.actor.name))
                } else {
                    Entity::of(&record.target, record.target_name.as_deref())
                },
            );
            // Only User Access Management has a place for the role a member was given.
            let role = record.payload.get("role").and_then(Value::as_str);
            if let (OcsfClass::UserAccess, Some(role)) = (class, role) {
                event.iam_role = Some(Entity {
                    name: Some(role),
                    ..Entity::default()
                });
            }
        }
        OcsfClass::RoleManagement => {
            let name = record
                .target_name
                .as_deref()
                .or_else(|| record.payload.get("name").and_then(Value::as_str));
            event.iam_role = Some(Entity::of(&record.target, name));
        }
        OcsfClass::ApiActivity => {
            event.api = Some(Api {
                operation: &record.action,
                service: Named { name: PRODUCT },
            });
            if !record.target.is_empty() {
                let kind = record.action.split('.').next().unwrap_or_default();
                event.resources = Some([Entity {
                    kind: Some(kind),
                    ..Entity::of(&record.target, record.target_name.as_deref())
                }]);
            }
        }
    }
}

/// `status_id` and its caption. Pending decisions are neither success nor failure yet.
fn status(outcome: &str) -> (u32, &'static str) {
    match outcome {
        "allowed" => (1, "Success"),
        "denied" | "failed" => (2, "Failure"),
        "pending" => (99, "Pending"),
        _ => (0, "Unknown"),
    }
}

fn status_detail<'a>(record: &'a AuditRecord<'_>) -> Option<&'a str> {
    let reason = record.payload.get("reason").and_then(Value::as_str);
    match (&*record.action, reason) {
        (_, Some(reason)) => Some(reason),
        ("auth.session_expired", None) => Some("session expired"),
        (_, None) if record.outcome == "denied" => Some("denied"),
        _ => None,
    }
}

/// Denials and lockouts need a look; failures may; everything else is informational.
fn severity_id(record: &AuditRecord<'_>) -> u32 {
    match (&*record.action, &*record.outcome) {
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

fn message<'a>(record: &'a AuditRecord<'_>) -> Message<'a> {
    Message {
        who: if record.actor.name.is_empty() {
            "anonymous"
        } else {
            &record.actor.name
        },
        action: &record.action,
        target: record.target_name.as_deref().unwrap_or(&record.target),
        outcome: &record.outcome,
    }
}

fn metadata<'a>(record: &'a AuditRecord<'_>) -> Metadata<'a> {
    Metadata {
        version: OCSF_VERSION,
        product: Product {
            name: PRODUCT,
            vendor_name: PRODUCT,
            version: env!("CARGO_PKG_VERSION"),
        },
        uid: EventUid {
            scope: &record.scope,
            seq: record.seq,
        },
        sequence: record.seq,
        log_name: "audit",
        tenant_uid: Some(&*record.scope).filter(|s| *s != "instance"),
        correlation_uid: [&record.run_id, &record.approval_id]
            .into_iter()
            .find(|id| !id.is_empty())
            .map(|id| &**id),
        profiles: record.ai_agent.is_some().then_some(["ai_operation"]),
    }
}

fn actor<'a>(actor: &'a Actor<'_>, source: &'a Source<'_>) -> EventActor<'a> {
    let (type_id, type_name) = match &*actor.kind {
        "user" => (1, "User"),
        "system" => (3, "System"),
        "agent" => (99, "AI Agent"),
        _ => (0, "Unknown"),
    };
    let name = if actor.name.is_empty() {
        &*actor.kind
    } else {
        &*actor.name
    };
    EventActor {
        user: Entity {
            type_id: Some(type_id),
            kind: Some(type_name),
            ..Entity::of(&actor.id, Some(name))
        },
        app_name: non_empty(&source.client),
    }
}

/// The source endpoint. The schema requires at least one identifying attribute, so a source
/// with nothing recorded is named `unknown`. An IP that does not parse (an erased one) is left
/// out rather than written where an IP address must be.
fn src_endpoint<'a>(source: &'a Source<'_>) -> Endpoint<'a> {
    let mut endpoint = Endpoint {
        hostname: non_empty(&source.host),
        ..Endpoint::default()
    };
    if let Some(ip) = non_empty(&source.ip) {
        if ip.parse::<IpAddr>().is_ok() {
            endpoint.ip = Some(ip);
        } else if ip == ERASED && endpoint.hostname.is_none() {
            endpoint.name = Some(ERASED);
        }
    }
    endpoint.owner = non_empty(&source.os_user).map(|name| Named { name });
    let identified =
        endpoint.hostname.is_some() || endpoint.ip.is_some() || endpoint.name.is_some();
    if !identified {
        endpoint.name = Some(non_empty(&source.client).unwrap_or("unknown"));
    }
    endpoint
}

fn ai_agent<'a>(agent: &'a AiAgent<'_>) -> Agent<'a> {
    let entity = Entity::of(&agent.uid, Some(&agent.name));
    Agent {
        uid: entity.uid,
        name: entity.name,
        type_id: 1,
        kind: "Native",
        instance_uid: Some(&*agent.instance_uid).filter(|uid| !uid.is_empty()),
        ai_model: agent.model.as_ref().map(|model| Model {
            name: &model.name,
            ai_provider: &model.provider,
        }),
    }
}

fn unmapped<'a>(record: &'a AuditRecord<'_>) -> Unmapped<'a> {
    Unmapped {
        action: &record.action,
        outcome: &record.outcome,
        actor_kind: &record.actor.kind,
        actor_id: &record.actor.id,
        target: &record.target,
        run_id: &record.run_id,
        step_id: &record.step_id,
        approval_id: &record.approval_id,
        payload: &record.payload,
    }
}

fn non_empty<'a>(value: &'a Option<Cow<'_, str>>) -> Option<&'a str> {
    value.as_deref().filter(|v| !v.is_empty())
}
