//! What an audit event says: who (actor), from where (source), what (action, target), how it
//! ended (outcome), what it belongs to (correlation) and the details (payload).

use serde::{Deserialize, Serialize};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The kind of actor.
    pub kind: ActorKind,
    /// A stable pseudonymous id (user id, agent id); empty for anonymous actors.
    pub id: String,
}

impl Actor {
    /// A user.
    pub fn user(id: impl ToString) -> Self {
        Self {
            kind: ActorKind::User,
            id: id.to_string(),
        }
    }

    /// The installation itself (scheduled work, automatic rotation, retention).
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: String::new(),
        }
    }

    /// Somebody not (yet) identified, e.g. a sign-in with an unknown username.
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            id: String::new(),
        }
    }

    /// An agent acting within a run.
    pub fn agent(id: impl ToString) -> Self {
        Self {
            kind: ActorKind::Agent,
            id: id.to_string(),
        }
    }
}

/// The kinds of actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum ActorKind {
    /// A person with an account.
    User,
    /// An AI agent.
    Agent,
    /// The installation.
    System,
    /// Not identified.
    Anonymous,
}

impl ActorKind {
    /// Stable stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(ActorKind::User),
            "agent" => Some(ActorKind::Agent),
            "system" => Some(ActorKind::System),
            "anonymous" => Some(ActorKind::Anonymous),
            _ => None,
        }
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum Outcome {
    /// It was allowed and happened.
    Allowed,
    /// It was refused.
    Denied,
    /// It was attempted and failed.
    Failed,
    /// It waits for a decision.
    Pending,
}

impl Outcome {
    /// Stable stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
            Outcome::Pending => "pending",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "allowed" => Some(Outcome::Allowed),
            "denied" => Some(Outcome::Denied),
            "failed" => Some(Outcome::Failed),
            "pending" => Some(Outcome::Pending),
            _ => None,
        }
    }
}

/// Where a request came from. Personal data (host, OS user, IP, user agent): sealed under the
/// actor's own subject key in the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Source {
    /// `desktop`, `cli`, `server`, `runtime`.
    pub client: String,
    /// Host name of the machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host: Option<String>,
    /// Operating-system account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub os_user: Option<String>,
    /// Network address, for network clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ip: Option<String>,
    /// User agent, for network clients; the client's version otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub user_agent: Option<String>,
}

impl Source {
    /// The local machine: host name and OS user, as the desktop app and CLI report them.
    pub fn local(client: &str, user_agent: &str) -> Self {
        Self {
            client: client.to_string(),
            host: whoami::fallible::hostname().ok(),
            os_user: Some(whoami::username()),
            ip: None,
            user_agent: Some(user_agent.to_string()),
        }
    }
}

/// Ids that tie an event to a run, a step and an approval request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correlation {
    /// Agent run.
    pub run_id: String,
    /// Step within the run.
    pub step_id: String,
    /// Approval request.
    pub approval_id: String,
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Who.
    pub actor: Actor,
    /// Dotted action name (`auth.sign_in`).
    pub action: String,
    /// What it applied to.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// From where.
    pub source: Source,
    /// Run / step / approval.
    pub correlation: Correlation,
    /// Details (sealed before storage). Refer to people by id, never by name, so that erasing a
    /// person leaves nothing readable about them in other people's events.
    pub payload: serde_json::Value,
}

impl NewEvent {
    /// An event with empty target, correlation and payload.
    pub fn new(actor: Actor, action: &str, outcome: Outcome, source: &Source) -> Self {
        Self {
            actor,
            action: action.to_string(),
            target: String::new(),
            outcome,
            source: source.clone(),
            correlation: Correlation::default(),
            payload: serde_json::Value::Null,
        }
    }

    /// Sets the target.
    pub fn target(mut self, target: impl ToString) -> Self {
        self.target = target.to_string();
        self
    }

    /// Sets the payload.
    pub fn payload(mut self, payload: serde_json::Value) -> Self {
        self.payload = payload;
        self
    }

    /// Sets the correlation ids.
    pub fn correlation(mut self, correlation: Correlation) -> Self {
        self.correlation = correlation;
        self
    }
}
