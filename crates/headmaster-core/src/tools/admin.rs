//! Tool and policy administration (Admins): the catalog with each action's state, enabling and
//! disabling, tiers, argument rules, own email domains, tool configuration, and the history of
//! every such change. Every change is audited as a `policy.*` event; the history is those events.

use std::sync::Arc;

use headmaster_policy::{default_policy, CompiledPolicy, Rule, Tier, WorkspacePolicy};
use serde::Serialize;

use super::catalog::catalog;
use super::config::{ToolConfig, TOOL_CONFIG};
use crate::access::{Capability, Scope};
use crate::audit::{Actor, AuditEntry, AuditFilter, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;

/// Setting key of the workspace policy.
pub(crate) const POLICY: &str = "policy";

/// One action with its state in a workspace.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ToolStatus {
    /// `tool.action`.
    pub name: String,
    /// Tool.
    pub tool: String,
    /// One sentence.
    pub summary: String,
    /// Crosses the trust boundary.
    pub crosses_boundary: bool,
    /// Enabled by an Admin.
    pub enabled: bool,
    /// Base risk tier.
    pub tier: headmaster_policy::Tier,
    /// Argument schema.
    pub args_schema: serde_json::Value,
}

/// The Tools / Policy screens' data.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ToolsOverview {
    /// Every action.
    pub actions: Vec<ToolStatus>,
    /// Argument rules, in order, with a description each.
    pub rules: Vec<RuleSummary>,
    /// The workspace's own email domains (mail elsewhere is "outside").
    pub own_domains: Vec<String>,
    /// Tool configuration (secrets appear only as `{{credential:NAME}}` references).
    pub config: ToolConfig,
}

/// A rule as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RuleSummary {
    /// Id.
    pub id: String,
    /// Human description.
    pub description: String,
    /// JSON form.
    pub rule: serde_json::Value,
}

impl Instance {
    /// The policy of a workspace (the default, all disabled, until an Admin changes it).
    pub(crate) async fn policy(&self, workspace: WorkspaceId) -> Result<WorkspacePolicy> {
        Ok(self
            .workspace_setting(workspace, POLICY)
            .await?
            .unwrap_or_else(|| default_policy(Vec::<String>::new())))
    }

    /// The compiled policy cached for a workspace and the change time it was built from,
    /// without checking that it is still current (the caller must check; see
    /// `propose_with`).
    pub(crate) fn cached_policy(
        &self,
        workspace: WorkspaceId,
    ) -> Option<(i64, Arc<CompiledPolicy>)> {
        self.policies
            .lock()
            .expect("policy cache lock")
            .get(&workspace)
            .cloned()
    }

    /// The compiled policy of a workspace, rebuilt only when the stored policy changed (its
    /// change time is one indexed read; decrypting and compiling is the work saved).
    pub(crate) async fn compiled_policy(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Arc<CompiledPolicy>> {
        let pool = self.workspace_pool(workspace).await?;
        let updated_at: i64 = sqlx::query_scalar("SELECT updated_at FROM settings WHERE id = ?")
            .bind(POLICY)
            .fetch_optional(&pool)
            .await?
            .unwrap_or(0);
        if let Some((at, compiled)) = self
            .policies
            .lock()
            .expect("policy cache lock")
            .get(&workspace)
        {
            if *at == updated_at {
                return Ok(compiled.clone());
            }
        }
        let policy = self.policy(workspace).await?;
        let compiled =
            Arc::new(CompiledPolicy::new(&policy).map_err(|e| {
                Error::Conflict(format!("the stored policy does not compile: {e}"))
            })?);
        self.policies
            .lock()
            .expect("policy cache lock")
            .insert(workspace, (updated_at, compiled.clone()));
        Ok(compiled)
    }

    /// The tool configuration of a workspace.
    pub(crate) async fn tool_config(&self, workspace: WorkspaceId) -> Result<ToolConfig> {
        Ok(self
            .workspace_setting(workspace, TOOL_CONFIG)
            .await?
            .unwrap_or_default())
    }

    /// The catalog with each action's state, the rules and the configuration.
    pub async fn list_tools(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<ToolsOverview> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "tool.list",
        )
        .await?;
        let policy = self.policy(workspace).await?;
        let rules = policy
            .rules
            .iter()
            .map(|r| {
                Ok(RuleSummary {
                    id: r.id.clone(),
                    description: r.describe(),
                    rule: body::to_value("policy rule", &r.id, r)?,
                })
            })
            .collect::<Result<_>>()?;
        let actions = catalog()
            .into_iter()
            .map(|entry| {
                let state = policy.actions.get(&entry.name);
                ToolStatus {
                    enabled: state.is_some_and(|s| s.enabled),
                    tier: state.map_or(headmaster_policy::Tier::High, |s| s.tier),
                    name: entry.name,
                    tool: entry.tool,
                    summary: entry.summary,
                    crosses_boundary: entry.crosses_boundary,
                    args_schema: entry.args_schema,
                }
            })
            .collect();
        Ok(ToolsOverview {
            actions,
            rules,
            own_domains: policy.own_domains.clone(),
            config: self.tool_config(workspace).await?,
        })
    }

    /// Enables a tool (all its actions) or one `tool.action`, optionally setting its tier.
    pub async fn enable_tool(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        target: &str,
        tier: Option<&str>,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::ToolManage,
            "tool.enable",
        )
        .await?;
        let tier = tier.map(parse_tier).transpose()?;
        self.change_policy(
            session,
            workspace,
            "policy.tool_enabled",
            serde_json::json!({ "target": target, "tier": tier.map(|t| t.as_str()) }),
            |p| {
                p.set_enabled(target, true)?;
                if let Some(tier) = tier {
                    p.set_tier(target, tier)?;
                }
                Ok(())
            },
        )
        .await
    }

    /// Disables a tool or one action.
    pub async fn disable_tool(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        target: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::ToolManage,
            "tool.disable",
        )
        .await?;
        self.change_policy(
            session,
            workspace,
            "policy.tool_disabled",
            serde_json::json!({ "target": target }),
            |p| p.set_enabled(target, false).map(|_| ()),
        )
        .await
    }

    /// Sets the base tier of a tool or action.
    pub async fn set_tool_tier(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        target: &str,
        tier: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::PolicyManage,
            "tool.set_tier",
        )
        .await?;
        let tier = parse_tier(tier)?;
        self.change_policy(
            session,
            workspace,
            "policy.tier_set",
            serde_json::json!({ "target": target, "tier": tier.as_str() }),
            |p| p.set_tier(target, tier).map(|_| ()),
        )
        .await
    }

    /// Adds an argument rule (JSON, or the compact syntax).
    pub async fn add_rule(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        text: &str,
    ) -> Result<RuleSummary> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::PolicyManage,
            "tool.add_rule",
        )
        .await?;
        let rule =
            Rule::parse(text).map_err(|e| Error::InvalidInput(format!("invalid rule: {e}")))?;
        let summary = RuleSummary {
            id: rule.id.clone(),
            description: rule.describe(),
            rule: body::to_value("policy rule", &rule.id, &rule)?,
        };
        let payload =
            serde_json::json!({ "rule": summary.rule, "description": summary.description });
        self.change_policy(session, workspace, "policy.rule_added", payload, |p| {
            p.add_rule(rule)
        })
        .await?;
        Ok(summary)
    }

    /// Removes a rule by id.
    pub async fn remove_rule(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::PolicyManage,
            "tool.remove_rule",
        )
        .await?;
        self.change_policy(
            session,
            workspace,
            "policy.rule_removed",
            serde_json::json!({ "rule_id": id }),
            |p| p.remove_rule(id).map(|_| ()),
        )
        .await
    }

    /// Sets the workspace's own email domains.
    pub async fn set_own_domains(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        domains: &[String],
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::PolicyManage,
            "tool.set_domains",
        )
        .await?;
        let domains: Vec<String> = domains
            .iter()
            .map(|d| d.trim().to_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        if let Some(bad) = domains
            .iter()
            .find(|d| !d.contains('.') || d.contains('@') || d.contains(' '))
        {
            return Err(Error::InvalidInput(format!(
                "{bad:?} is not a domain name; use e.g. example.com"
            )));
        }
        let payload = serde_json::json!({ "own_domains": domains });
        self.change_policy(session, workspace, "policy.domains_set", payload, |p| {
            p.own_domains = domains.clone();
            Ok(())
        })
        .await
    }

    /// Applies `key=value` settings to one tool's configuration.
    pub async fn configure_tool(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        tool: &str,
        pairs: &[(String, String)],
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::ToolManage,
            "tool.configure",
        )
        .await?;
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        self.update_workspace_setting(workspace, TOOL_CONFIG, |stored: Option<ToolConfig>| {
            let mut config = stored.unwrap_or_default();
            config.apply(tool, pairs)?;
            let summary = serde_json::to_value(&config).map_err(|e| {
                Error::Conflict(format!("the tool configuration cannot be recorded: {e}"))
            })?;
            let event = NewEvent::new(
                Actor::user(session.user_id),
                "policy.tool_configured",
                Outcome::Allowed,
                &session.source,
            )
            .target(tool)
            .payload(serde_json::json!({ "tool": tool, "keys": keys, "config": summary }));
            Ok((config, event))
        })
        .await
    }

    /// Every policy and tool change, newest first.
    pub async fn policy_history(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<AuditEntry>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "tool.history",
        )
        .await?;
        let page = self
            .query_audit(
                session,
                Scope::Workspace(workspace),
                &AuditFilter {
                    action: Some("policy.".into()),
                    limit: Some(1000),
                    ..AuditFilter::default()
                },
            )
            .await?;
        Ok(page.entries)
    }

    /// Changes the policy: edit a copy, check it compiles, audit, store.
    async fn change_policy(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        action: &str,
        payload: serde_json::Value,
        edit: impl FnOnce(
            &mut WorkspacePolicy,
        ) -> std::result::Result<(), headmaster_policy::PolicyError>,
    ) -> Result<()> {
        self.update_workspace_setting(workspace, POLICY, |stored: Option<WorkspacePolicy>| {
            let mut policy = stored.unwrap_or_else(|| default_policy(Vec::<String>::new()));
            edit(&mut policy).map_err(|e| Error::InvalidInput(e.to_string()))?;
            CompiledPolicy::new(&policy)
                .map_err(|e| Error::InvalidInput(format!("the policy would not compile: {e}")))?;
            let event = NewEvent::new(
                Actor::user(session.user_id),
                action,
                Outcome::Allowed,
                &session.source,
            )
            .payload(payload);
            Ok((policy, event))
        })
        .await
    }
}

fn parse_tier(text: &str) -> Result<Tier> {
    text.trim().to_lowercase().parse::<Tier>().map_err(|_| {
        Error::InvalidInput(format!(
            "unknown tier {text:?}; use low, medium, high or critical"
        ))
    })
}
