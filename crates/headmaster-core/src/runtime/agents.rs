//! Agents: define (Admins), list, show, delete.

use serde::Serialize;
use sqlx::Row;

use super::{AgentDefinition, Playbook, ProviderConfig};
use crate::access::{Capability, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;
use crate::vault::seal::Aad;

const NAME_FIELD: &str = "agents.name";

/// An agent as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AgentSummary {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `playbook` or `openai`.
    pub provider: String,
    /// Model, for model agents.
    pub model: Option<String>,
    /// Actions it may propose.
    pub tools: Vec<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// The full definition.
    pub definition: AgentDefinition,
}

impl Instance {
    /// Defines an agent from a playbook (TOML text).
    pub async fn create_playbook_agent(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        playbook_toml: &str,
    ) -> Result<AgentSummary> {
        let playbook =
            Playbook::parse(playbook_toml).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let definition = AgentDefinition {
            name: playbook.name.clone(),
            instructions: playbook.instructions.clone().unwrap_or_default(),
            tools: playbook.tools.clone(),
            memory_scope: String::new(),
            limits: super::Limits {
                max_steps: playbook.limits.max_steps,
                wall_seconds: playbook.limits.wall_seconds,
                ..super::Limits::default()
            },
            provider: ProviderConfig::Playbook { playbook },
        };
        self.create_agent(session, workspace, definition).await
    }

    /// Defines an agent.
    pub async fn create_agent(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        definition: AgentDefinition,
    ) -> Result<AgentSummary> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::AgentManage,
            "agent.create",
        )
        .await?;
        let name = crate::instance::validate_name("agent name", &definition.name)?;
        for tool in &definition.tools {
            if crate::tools::catalog::executor(tool).is_none() {
                return Err(Error::InvalidInput(format!(
                    "agent tool {tool:?} is not in the catalog; see `headmaster tool list`"
                )));
            }
        }
        if let ProviderConfig::OpenAi {
            base_url, model, ..
        } = &definition.provider
        {
            let url = url_ok(base_url)?;
            if model.trim().is_empty() {
                return Err(Error::InvalidInput("a model agent needs --model".into()));
            }
            drop(url);
        }
        let scope = workspace.to_string();
        let idx = self
            .vault
            .blind_index(&scope, NAME_FIELD, &name.to_lowercase())
            .await?;
        let id = uuid::Uuid::now_v7().to_string();
        let sealed_name = self
            .vault
            .seal(&Aad::new(&scope, "agents", "name", &id), name.as_bytes())
            .await?;
        let json =
            serde_json::to_vec(&definition).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let sealed_def = self
            .vault
            .seal(&Aad::new(&scope, "agents", "definition", &id), &json)
            .await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "agent.created",
            Outcome::Allowed,
            &session.source,
        )
        .target(&id)
        .payload(serde_json::json!({ "agent_id": id, "name": name, "tools": definition.tools }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        let inserted = sqlx::query("INSERT INTO agents (id, name_idx, name, definition, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&id)
            .bind(&idx)
            .bind(&sealed_name)
            .bind(&sealed_def)
            .bind(session.user_id.to_string())
            .bind(self.now())
            .execute(&mut *tx)
            .await;
        match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::AlreadyExists {
                    kind: "agent",
                    name,
                })
            }
            other => {
                other?;
            }
        }
        tx.commit().await?;
        self.agent_summary(workspace, &id).await
    }

    /// Lists agents.
    pub async fn list_agents(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<AgentSummary>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "agent.list",
        )
        .await?;
        let pool = self.workspace_pool(workspace).await?;
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM agents ORDER BY created_at")
            .fetch_all(&pool)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.agent_summary(workspace, &id).await?);
        }
        Ok(out)
    }

    /// One agent, by name or id.
    pub async fn show_agent(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        name: &str,
    ) -> Result<AgentSummary> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "agent.show",
        )
        .await?;
        let id = self.agent_id(workspace, name).await?;
        self.agent_summary(workspace, &id).await
    }

    /// Deletes an agent (its past runs stay).
    pub async fn delete_agent(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        name: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::AgentManage,
            "agent.delete",
        )
        .await?;
        let id = self.agent_id(workspace, name).await?;
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "agent.deleted",
            Outcome::Allowed,
            &session.source,
        )
        .target(&id)
        .payload(serde_json::json!({ "agent_id": id }));
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        let deleted = sqlx::query("DELETE FROM agents WHERE id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 1 {
            tx.commit().await?;
        }
        Ok(())
    }

    /// An agent's id from its name (case-insensitive) or id.
    pub(crate) async fn agent_id(&self, workspace: WorkspaceId, name: &str) -> Result<String> {
        let pool = self.workspace_pool(workspace).await?;
        let by_id: Option<String> = sqlx::query_scalar("SELECT id FROM agents WHERE id = ?")
            .bind(name.trim())
            .fetch_optional(&pool)
            .await?;
        if let Some(id) = by_id {
            return Ok(id);
        }
        let idx = self
            .vault
            .blind_index(
                &workspace.to_string(),
                NAME_FIELD,
                &name.trim().to_lowercase(),
            )
            .await?;
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM agents WHERE name_idx = ?")
            .bind(idx)
            .fetch_optional(&pool)
            .await?;
        id.ok_or_else(|| Error::NotFound {
            kind: "agent",
            name: name.to_string(),
            hint: "; `headmaster agent list` shows the workspace's agents".into(),
        })
    }

    /// An agent's definition.
    pub(crate) async fn agent_definition(
        &self,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<AgentDefinition> {
        let pool = self.workspace_pool(workspace).await?;
        let sealed: Vec<u8> = sqlx::query_scalar("SELECT definition FROM agents WHERE id = ?")
            .bind(id)
            .fetch_optional(&pool)
            .await?
            .ok_or_else(|| Error::not_found("agent", id))?;
        let scope = workspace.to_string();
        Ok(body::decode(
            "agent definition",
            id,
            &self
                .vault
                .open(&Aad::new(&scope, "agents", "definition", id), &sealed)
                .await?,
        )?)
    }

    async fn agent_summary(&self, workspace: WorkspaceId, id: &str) -> Result<AgentSummary> {
        let pool = self.workspace_pool(workspace).await?;
        let row = sqlx::query("SELECT created_at FROM agents WHERE id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await?;
        let definition = self.agent_definition(workspace, id).await?;
        let (provider, model) = match &definition.provider {
            ProviderConfig::Playbook { .. } => ("playbook".to_string(), None),
            ProviderConfig::OpenAi { model, .. } => ("openai".to_string(), Some(model.clone())),
        };
        Ok(AgentSummary {
            id: id.to_string(),
            name: definition.name.clone(),
            provider,
            model,
            tools: definition.tools.clone(),
            created_at: rfc3339_ms(row.get(0)),
            definition,
        })
    }

    /// The display name of an agent for audit views (its id if unknown).
    pub(crate) async fn agent_display_name(&self, scope: &str, id: &str) -> String {
        let Ok(workspace) = scope.parse::<WorkspaceId>() else {
            return id.to_string();
        };
        match self.agent_definition(workspace, id).await {
            Ok(def) => def.name,
            Err(_) => id.to_string(),
        }
    }
}

fn url_ok(base_url: &str) -> Result<url::Url> {
    let url = url::Url::parse(base_url)
        .map_err(|e| Error::InvalidInput(format!("base URL {base_url:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::InvalidInput(
            "the model base URL must be http or https".into(),
        ));
    }
    Ok(url)
}
