//! Turning stored rows into readable entries: opening the sealed source and payload, resolving
//! actor names. Personal data of an erased subject reads as `[erased]`.
//!
//! [`Decoder::open`] does the work once per row; the result becomes an [`AuditEntry`] for
//! queries, or lends its fields (and the stored row's) to an OCSF record for export without
//! copying them, which matters when an export walks a million rows.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use headmaster_protocol::chain::StoredEvent;
use headmaster_protocol::ocsf;
use serde::Serialize;

use super::event::Source;
use super::AuditError;
use crate::error::Result;
use crate::identity::{users, ERASED};
use crate::instance::Instance;
use crate::store::body;
use crate::vault::seal::Aad;
use crate::vault::VaultError;

/// A decoded audit event, as `audit query` and the Audit screen show it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AuditEntry {
    /// Position in the chain.
    pub seq: u64,
    /// RFC 3339 UTC.
    pub time: String,
    /// `user`, `agent`, `system`, `anonymous`.
    pub actor_kind: String,
    /// Actor id.
    pub actor_id: String,
    /// Actor name (`[erased]` after erasure).
    pub actor_name: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: String,
    /// Outcome.
    pub outcome: String,
    /// Source (personal fields `[erased]` after erasure).
    pub source: Source,
    /// Run correlation.
    pub run_id: String,
    /// Step correlation.
    pub step_id: String,
    /// Approval correlation.
    pub approval_id: String,
    /// Details.
    pub payload: serde_json::Value,
    /// The model behind an agent actor (`provider`, `name`), if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub agent_model: Option<(String, String)>,
}

/// Decodes rows of one chain, caching actor names.
pub(crate) struct Decoder<'a> {
    instance: &'a Instance,
    scope: String,
    names: HashMap<String, Arc<str>>,
    /// The names of the actors without an id, made once.
    system: Arc<str>,
    anonymous: Arc<str>,
    models: HashMap<String, Option<(String, String)>>,
}

/// What opening one stored event yields beyond the stored row itself.
pub(crate) struct Opened {
    source: Source,
    payload: serde_json::Value,
    /// Shared with the decoder's name cache, so resolving a known actor copies nothing.
    actor_name: Arc<str>,
    agent_model: Option<(String, String)>,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(instance: &'a Instance, scope: &str) -> Self {
        Self {
            instance,
            scope: scope.to_string(),
            names: HashMap::new(),
            system: Arc::from("system"),
            anonymous: Arc::from("anonymous"),
            models: HashMap::new(),
        }
    }

    /// Decodes one stored event.
    pub(crate) async fn entry(&mut self, event: &StoredEvent) -> Result<AuditEntry> {
        let opened = self.open(event).await?;
        Ok(AuditEntry {
            seq: event.seq,
            time: event.time.clone(),
            actor_kind: event.actor_kind.clone(),
            actor_id: event.actor_id.clone(),
            actor_name: opened.actor_name.to_string(),
            action: event.action.clone(),
            target: event.target.clone(),
            outcome: event.outcome.clone(),
            source: opened.source,
            run_id: event.run_id.clone(),
            step_id: event.step_id.clone(),
            approval_id: event.approval_id.clone(),
            payload: opened.payload,
            agent_model: opened.agent_model,
        })
    }

    /// Opens the sealed source and payload of one stored event and resolves its actor. Either
    /// one failing to decode is damage the chain verifier also reports, so it fails the read
    /// (naming the event) rather than showing an empty source or a null payload.
    pub(crate) async fn open(&mut self, event: &StoredEvent) -> Result<Opened> {
        let row = event.seq.to_string();
        let vault = &self.instance.vault;
        let source = match vault
            .open(
                &Aad::new(&self.scope, "audit_events", "source", &row),
                &event.source,
            )
            .await
        {
            Ok(bytes) => body::decode("audit event source", &self.event_id(event), &bytes)?,
            Err(VaultError::Erased) => Source {
                client: ERASED.into(),
                host: Some(ERASED.into()),
                os_user: Some(ERASED.into()),
                ip: None,
                user_agent: None,
            },
            Err(e) => return Err(AuditError::from(e).into()),
        };
        let payload = match vault
            .open(
                &Aad::new(&self.scope, "audit_events", "payload", &row),
                &event.payload,
            )
            .await
        {
            Ok(bytes) => body::decode("audit event payload", &self.event_id(event), &bytes)?,
            Err(e) => return Err(AuditError::from(e).into()),
        };
        let agent_model = if event.actor_kind == "agent" {
            self.agent_model(&event.actor_id).await
        } else {
            None
        };
        Ok(Opened {
            source,
            payload,
            actor_name: self.actor_name(&event.actor_kind, &event.actor_id).await?,
            agent_model,
        })
    }

    /// How an error names an event: its position in this chain.
    fn event_id(&self, event: &StoredEvent) -> String {
        format!("{} of chain {}", event.seq, self.scope)
    }

    async fn agent_model(&mut self, id: &str) -> Option<(String, String)> {
        if let Some(model) = self.models.get(id) {
            return model.clone();
        }
        let model = match self.scope.parse() {
            Ok(workspace) => match self.instance.agent_definition(workspace, id).await {
                Ok(def) => match def.provider {
                    crate::runtime::ProviderConfig::OpenAi { model, .. } => {
                        Some(("openai".to_string(), model))
                    }
                    crate::runtime::ProviderConfig::Playbook { .. } => None,
                },
                Err(_) => None,
            },
            Err(_) => None,
        };
        self.models.insert(id.to_string(), model.clone());
        model
    }

    async fn actor_name(&mut self, kind: &str, id: &str) -> Result<Arc<str>, AuditError> {
        match kind {
            "system" => return Ok(Arc::clone(&self.system)),
            "anonymous" => return Ok(Arc::clone(&self.anonymous)),
            _ => {}
        }
        if let Some(name) = self.names.get(id) {
            return Ok(Arc::clone(name));
        }
        let name = match kind {
            "user" => match id.parse() {
                Ok(user_id) => {
                    let mut conn = self.instance.pool.acquire().await?;
                    match users::find_by_id(&mut conn, user_id).await {
                        Ok(Some(user)) => {
                            drop(conn);
                            users::username(&self.instance.vault, &user)
                                .await
                                .map_err(|e| AuditError::Invalid(e.to_string()))?
                        }
                        _ => ERASED.to_string(),
                    }
                }
                Err(_) => id.to_string(),
            },
            _ => self.instance.agent_display_name(&self.scope, id).await,
        };
        let name: Arc<str> = name.into();
        self.names.insert(id.to_string(), Arc::clone(&name));
        Ok(name)
    }
}

impl Opened {
    /// The OCSF mapping input for `event` (the row this was opened from), borrowing from both.
    pub(crate) fn record<'a>(
        &'a self,
        scope: &'a str,
        event: &'a StoredEvent,
    ) -> ocsf::AuditRecord<'a> {
        let text = |v: &'a str| Cow::Borrowed(v);
        let personal = |v: &'a Option<String>| v.as_deref().map(Cow::Borrowed);
        let agent = event.actor_kind == "agent";
        ocsf::AuditRecord {
            scope: text(scope),
            seq: event.seq,
            time: text(&event.time),
            actor: ocsf::Actor {
                kind: text(&event.actor_kind),
                id: text(&event.actor_id),
                name: text(&self.actor_name),
            },
            action: text(&event.action),
            target: text(&event.target),
            target_name: None,
            outcome: text(&event.outcome),
            source: ocsf::Source {
                client: Some(text(&self.source.client)).filter(|c| !c.is_empty()),
                host: personal(&self.source.host),
                os_user: personal(&self.source.os_user),
                ip: personal(&self.source.ip),
                user_agent: personal(&self.source.user_agent),
            },
            run_id: text(&event.run_id),
            step_id: text(&event.step_id),
            approval_id: text(&event.approval_id),
            payload: Cow::Borrowed(&self.payload),
            ai_agent: agent.then(|| ocsf::AiAgent {
                uid: text(&event.actor_id),
                instance_uid: text(&event.run_id),
                name: text(&self.actor_name),
                model: self
                    .agent_model
                    .as_ref()
                    .map(|(provider, name)| ocsf::AiModel {
                        name: text(name),
                        provider: text(provider),
                    }),
            }),
        }
    }
}
