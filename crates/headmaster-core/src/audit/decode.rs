//! Turning stored rows into readable entries: opening the sealed source and payload, resolving
//! actor names. Personal data of an erased subject reads as `[erased]`.

use std::collections::HashMap;

use headmaster_protocol::chain::StoredEvent;
use headmaster_protocol::ocsf;
use serde::Serialize;

use super::event::Source;
use super::AuditError;
use crate::identity::{users, ERASED};
use crate::instance::Instance;
use crate::vault::seal::Aad;
use crate::vault::VaultError;

/// A decoded audit event, as `audit query` and the Audit screen show it.
#[derive(Debug, Clone, Serialize)]
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
    pub agent_model: Option<(String, String)>,
}

/// Decodes rows of one chain, caching actor names.
pub(crate) struct Decoder<'a> {
    instance: &'a Instance,
    scope: String,
    names: HashMap<String, String>,
    models: HashMap<String, Option<(String, String)>>,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(instance: &'a Instance, scope: &str) -> Self {
        Self {
            instance,
            scope: scope.to_string(),
            names: HashMap::new(),
            models: HashMap::new(),
        }
    }

    /// Decodes one stored event.
    pub(crate) async fn entry(&mut self, event: &StoredEvent) -> Result<AuditEntry, AuditError> {
        let row = event.seq.to_string();
        let vault = &self.instance.vault;
        let source = match vault
            .open(
                &Aad::new(&self.scope, "audit_events", "source", &row),
                &event.source,
            )
            .await
        {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(VaultError::Erased) => Source {
                client: ERASED.into(),
                host: Some(ERASED.into()),
                os_user: Some(ERASED.into()),
                ip: None,
                user_agent: None,
            },
            Err(e) => return Err(e.into()),
        };
        let payload = match vault
            .open(
                &Aad::new(&self.scope, "audit_events", "payload", &row),
                &event.payload,
            )
            .await
        {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            Err(e) => return Err(e.into()),
        };
        let agent_model = if event.actor_kind == "agent" {
            self.agent_model(&event.actor_id).await
        } else {
            None
        };
        Ok(AuditEntry {
            agent_model,
            seq: event.seq,
            time: event.time.clone(),
            actor_name: self.actor_name(&event.actor_kind, &event.actor_id).await?,
            actor_kind: event.actor_kind.clone(),
            actor_id: event.actor_id.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            outcome: event.outcome.clone(),
            source,
            run_id: event.run_id.clone(),
            step_id: event.step_id.clone(),
            approval_id: event.approval_id.clone(),
            payload,
        })
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

    async fn actor_name(&mut self, kind: &str, id: &str) -> Result<String, AuditError> {
        match kind {
            "system" => return Ok("system".into()),
            "anonymous" => return Ok("anonymous".into()),
            _ => {}
        }
        if let Some(name) = self.names.get(id) {
            return Ok(name.clone());
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
        self.names.insert(id.to_string(), name.clone());
        Ok(name)
    }
}

impl AuditEntry {
    /// The OCSF mapping input for this entry.
    pub(crate) fn to_record(&self, scope: &str) -> ocsf::AuditRecord {
        let personal = |v: &Option<String>| v.clone();
        ocsf::AuditRecord {
            scope: scope.to_string(),
            seq: self.seq,
            time: self.time.clone(),
            actor: ocsf::Actor {
                kind: self.actor_kind.clone(),
                id: self.actor_id.clone(),
                name: self.actor_name.clone(),
            },
            action: self.action.clone(),
            target: self.target.clone(),
            target_name: None,
            outcome: self.outcome.clone(),
            source: ocsf::Source {
                client: Some(self.source.client.clone()).filter(|c| !c.is_empty()),
                host: personal(&self.source.host),
                os_user: personal(&self.source.os_user),
                ip: personal(&self.source.ip),
                user_agent: personal(&self.source.user_agent),
            },
            run_id: self.run_id.clone(),
            step_id: self.step_id.clone(),
            approval_id: self.approval_id.clone(),
            payload: self.payload.clone(),
            ai_agent: (self.actor_kind == "agent").then(|| ocsf::AiAgent {
                uid: self.actor_id.clone(),
                instance_uid: self.run_id.clone(),
                name: self.actor_name.clone(),
                model: self
                    .agent_model
                    .as_ref()
                    .map(|(provider, name)| ocsf::AiModel {
                        name: name.clone(),
                        provider: provider.clone(),
                    }),
            }),
        }
    }
}
