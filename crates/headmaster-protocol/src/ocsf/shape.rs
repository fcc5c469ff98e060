//! The shape of an OCSF event as typed structs that borrow from the [`AuditRecord`] they
//! describe.
//!
//! An export writes a million of these, so they are serialised straight to bytes instead of
//! being assembled as `serde_json::Value` trees first: a tree costs a map insertion and a few
//! allocations per attribute, which used to be most of an export's time. Attributes that are
//! absent for a record are `None` and skipped, so the output carries exactly the attributes the
//! mapping in `event.rs` decides on. Composite strings (`type_name`, `message`, `metadata.uid`)
//! are written through `Display` without an intermediate `String`.
//!
//! [`AuditRecord`]: super::AuditRecord

use std::fmt;

use serde::{Serialize, Serializer};

use super::classify::OcsfClass;

/// One OCSF event: the attributes every class shares, then the class-specific ones.
#[derive(Debug, Serialize)]
pub(super) struct Event<'a> {
    pub(super) category_uid: u32,
    pub(super) category_name: &'static str,
    pub(super) class_uid: u32,
    pub(super) class_name: &'static str,
    pub(super) activity_id: u32,
    pub(super) activity_name: &'a str,
    pub(super) type_uid: u64,
    pub(super) type_name: TypeName<'a>,
    pub(super) severity_id: u32,
    pub(super) severity: &'static str,
    pub(super) status_id: u32,
    pub(super) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) status_detail: Option<&'a str>,
    pub(super) time: i64,
    pub(super) timezone_offset: i32,
    pub(super) message: Message<'a>,
    pub(super) metadata: Metadata<'a>,
    pub(super) actor: EventActor<'a>,
    pub(super) src_endpoint: Endpoint<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) http_request: Option<HttpRequest<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ai_agent: Option<Agent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<Entity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) service: Option<Named<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) iam_role: Option<Entity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) api: Option<Api<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) resources: Option<[Entity<'a>; 1]>,
    pub(super) unmapped: Unmapped<'a>,
}

/// `type_name`: "<class caption>: <activity caption>".
#[derive(Debug)]
pub(super) struct TypeName<'a> {
    pub(super) class: OcsfClass,
    pub(super) activity: &'a str,
}

/// `message`: "<who>: <action> [<target> ](<outcome>)".
#[derive(Debug)]
pub(super) struct Message<'a> {
    pub(super) who: &'a str,
    pub(super) action: &'a str,
    pub(super) target: &'a str,
    pub(super) outcome: &'a str,
}

/// `metadata`: schema version, product, the event's place in its chain, correlation.
#[derive(Debug, Serialize)]
pub(super) struct Metadata<'a> {
    pub(super) version: &'static str,
    pub(super) product: Product,
    pub(super) uid: EventUid<'a>,
    pub(super) sequence: u64,
    pub(super) log_name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tenant_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) correlation_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) profiles: Option<[&'static str; 1]>,
}

/// `metadata.product`: always Headmaster itself.
#[derive(Debug, Serialize)]
pub(super) struct Product {
    pub(super) name: &'static str,
    pub(super) vendor_name: &'static str,
    pub(super) version: &'static str,
}

/// `metadata.uid`: "<scope>:<seq>", unique across every chain of an installation.
#[derive(Debug)]
pub(super) struct EventUid<'a> {
    pub(super) scope: &'a str,
    pub(super) seq: u64,
}

/// `actor`: who acted, and through which client.
#[derive(Debug, Serialize)]
pub(super) struct EventActor<'a> {
    pub(super) user: Entity<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) app_name: Option<&'a str>,
}

/// `src_endpoint`: where the action came from.
#[derive(Debug, Default, Serialize)]
pub(super) struct Endpoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) owner: Option<Named<'a>>,
}

/// `http_request`: only the user agent is known.
#[derive(Debug, Serialize)]
pub(super) struct HttpRequest<'a> {
    pub(super) user_agent: &'a str,
}

/// `ai_agent` of the `ai_operation` profile.
#[derive(Debug, Serialize)]
pub(super) struct Agent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<&'a str>,
    pub(super) type_id: u32,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) instance_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ai_model: Option<Model<'a>>,
}

/// `ai_agent.ai_model`.
#[derive(Debug, Serialize)]
pub(super) struct Model<'a> {
    pub(super) name: &'a str,
    pub(super) ai_provider: &'a str,
}

/// An object known by `uid` and `name` (a user, a role, a resource, an agent), optionally
/// typed.
#[derive(Debug, Default, Serialize)]
pub(super) struct Entity<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) type_id: Option<u32>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub(super) kind: Option<&'a str>,
}

/// An object known only by its name (a service, an OS account, a role by name).
#[derive(Debug, Serialize)]
pub(super) struct Named<'a> {
    pub(super) name: &'a str,
}

/// `api` of API Activity.
#[derive(Debug, Serialize)]
pub(super) struct Api<'a> {
    pub(super) operation: &'a str,
    pub(super) service: Named<'a>,
}

/// `unmapped`: what the schema has no place for, kept so nothing the log holds is lost.
#[derive(Debug, Serialize)]
pub(super) struct Unmapped<'a> {
    pub(super) action: &'a str,
    pub(super) outcome: &'a str,
    pub(super) actor_kind: &'a str,
    pub(super) actor_id: &'a str,
    pub(super) target: &'a str,
    pub(super) run_id: &'a str,
    pub(super) step_id: &'a str,
    pub(super) approval_id: &'a str,
    pub(super) payload: &'a serde_json::Value,
}

impl Entity<'_> {
    /// An object with `uid` and `name`, each only when non-empty, and `name: unknown` when
    /// neither is (every entity in the schema needs at least one of them).
    pub(super) fn of<'a>(uid: &'a str, name: Option<&'a str>) -> Entity<'a> {
        let name = name.filter(|n| !n.is_empty());
        Entity {
            uid: Some(uid).filter(|u| !u.is_empty()),
            name: if name.is_none() && uid.is_empty() {
                Some("unknown")
            } else {
                name
            },
            type_id: None,
            kind: None,
        }
    }
}

impl fmt::Display for TypeName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class.name(), self.activity)
    }
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.target.is_empty() {
            write!(f, "{}: {} ({})", self.who, self.action, self.outcome)
        } else {
            write!(
                f,
                "{}: {} {} ({})",
                self.who, self.action, self.target, self.outcome
            )
        }
    }
}

impl fmt::Display for EventUid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scope, self.seq)
    }
}

/// Serialises a `Display` type as a JSON string, written piece by piece.
macro_rules! serialize_as_display {
    ($($ty:ident),*) => {$(
        impl Serialize for $ty<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    )*};
}

serialize_as_display!(TypeName, Message, EventUid);
