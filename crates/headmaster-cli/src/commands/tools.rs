//! `headmaster tool …` and `credential …` (in `--workspace`).

use clap::Subcommand;
use headmaster_core::{Error, Instance, Session};

use crate::context::{read_secret, Context};
use crate::output::print_json;

/// `tool` subcommands.
#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// The catalog with each action's state, tier, rules and configuration.
    List,
    /// Enable a tool (all actions) or one TOOL.ACTION.
    Enable {
        /// `email`, `file.write`, …
        target: String,
        /// Set its tier too: low, medium, high or critical.
        #[arg(long)]
        tier: Option<String>,
    },
    /// Disable a tool or one action.
    Disable {
        /// Target.
        target: String,
    },
    /// Set the base tier of a tool or action.
    SetTier {
        /// Target.
        target: String,
        /// low, medium, high or critical.
        tier: String,
    },
    /// Configure a tool: `email host=… port=… tls=starttls from=… password={{credential:smtp}}`.
    Config {
        /// email, http, file or shell.
        tool: String,
        /// key=value settings.
        settings: Vec<String>,
    },
    /// Add an argument rule (JSON or the compact syntax, e.g.
    /// `r1: on email.send when recipients > 10 then raise critical`).
    AddRule {
        /// The rule.
        rule: String,
    },
    /// Remove a rule by id.
    RemoveRule {
        /// Rule id.
        id: String,
    },
    /// Set the workspace's own email domains (mail elsewhere counts as outside).
    Domains {
        /// Domains.
        domains: Vec<String>,
    },
    /// Every policy and tool change, newest first.
    History,
}

/// `credential` subcommands.
#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Store a secret (value from --value, or stdin / a prompt without echo).
    Set {
        /// Name, referenced as {{credential:NAME}}.
        name: String,
        /// The value (prefer stdin: command lines end up in shell history).
        #[arg(long)]
        value: Option<String>,
    },
    /// Names and last use; never values.
    List,
    /// Delete a secret.
    Delete {
        /// Name.
        name: String,
    },
}

pub(crate) async fn workspace(
    ctx: &Context,
    instance: &Instance,
    session: &Session,
) -> anyhow::Result<headmaster_core::ids::WorkspaceId> {
    Ok(instance
        .resolve_workspace(session, ctx.workspace.as_deref())
        .await?
        .id
        .parse()?)
}

pub(crate) fn pairs(settings: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    settings
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| Error::InvalidInput(format!("{s:?} is not key=value")).into())
        })
        .collect()
}

/// Runs a `tool` subcommand.
pub async fn tool(ctx: &Context, command: ToolCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    match command {
        ToolCommand::List => {
            let overview = instance.list_tools(&session, ws).await?;
            if ctx.json {
                return print_json(&overview);
            }
            for a in &overview.actions {
                println!(
                    "{:<14} {:<9} {:<8} {}{}",
                    a.name,
                    if a.enabled { "enabled" } else { "disabled" },
                    a.tier,
                    a.summary,
                    if a.crosses_boundary {
                        " [crosses boundary]"
                    } else {
                        ""
                    }
                );
            }
            for r in &overview.rules {
                println!("rule {}: {}", r.id, r.description);
            }
            Ok(())
        }
        ToolCommand::Enable { target, tier } => {
            instance
                .enable_tool(&session, ws, &target, tier.as_deref())
                .await?;
            ctx.done(
                &serde_json::json!({ "enabled": target }),
                &format!("Enabled {target}."),
            )
        }
        ToolCommand::Disable { target } => {
            instance.disable_tool(&session, ws, &target).await?;
            ctx.done(
                &serde_json::json!({ "disabled": target }),
                &format!("Disabled {target}."),
            )
        }
        ToolCommand::SetTier { target, tier } => {
            instance.set_tool_tier(&session, ws, &target, &tier).await?;
            ctx.done(
                &serde_json::json!({ "target": target, "tier": tier }),
                &format!("{target} is now {tier}."),
            )
        }
        ToolCommand::Config { tool, settings } => {
            instance
                .configure_tool(&session, ws, &tool, &pairs(&settings)?)
                .await?;
            ctx.done(
                &serde_json::json!({ "configured": tool }),
                &format!("Configured {tool}."),
            )
        }
        ToolCommand::AddRule { rule } => {
            let added = instance.add_rule(&session, ws, &rule).await?;
            ctx.done(
                &added,
                &format!("Added rule {}: {}", added.id, added.description),
            )
        }
        ToolCommand::RemoveRule { id } => {
            instance.remove_rule(&session, ws, &id).await?;
            ctx.done(
                &serde_json::json!({ "removed": id }),
                &format!("Removed rule {id}."),
            )
        }
        ToolCommand::Domains { domains } => {
            instance.set_own_domains(&session, ws, &domains).await?;
            ctx.done(
                &serde_json::json!({ "own_domains": domains }),
                "Set the workspace's own domains.",
            )
        }
        ToolCommand::History => {
            let history = instance.policy_history(&session, ws).await?;
            if ctx.json {
                return print_json(&history);
            }
            for e in history {
                println!(
                    "{} {:<10} {:<22} {}",
                    e.time, e.actor_name, e.action, e.payload
                );
            }
            Ok(())
        }
    }
}

/// Runs a `credential` subcommand.
pub async fn credential(ctx: &Context, command: CredentialCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    match command {
        CredentialCommand::Set { name, value } => {
            let value = match value {
                Some(v) => v,
                None => {
                    let secret =
                        read_secret("HEADMASTER_CREDENTIAL_VALUE", &format!("Value of {name}: "))
                            .or_else(|_| read_stdin())?;
                    String::from_utf8(secret.dangerously_expose().to_vec())?
                }
            };
            instance
                .set_credential(&session, ws, &name, value.trim_end_matches('\n'))
                .await?;
            ctx.done(
                &serde_json::json!({ "stored": name }),
                &format!("Stored credential {name}."),
            )
        }
        CredentialCommand::List => {
            let list = instance.list_credentials(&session, ws).await?;
            if ctx.json {
                return print_json(&list);
            }
            for c in list {
                println!(
                    "{:<24} updated {} last used {}",
                    c.name,
                    c.updated_at,
                    c.last_used_at.as_deref().unwrap_or("never")
                );
            }
            Ok(())
        }
        CredentialCommand::Delete { name } => {
            instance.delete_credential(&session, ws, &name).await?;
            ctx.done(
                &serde_json::json!({ "deleted": name }),
                &format!("Deleted credential {name}."),
            )
        }
    }
}

fn read_stdin() -> anyhow::Result<headmaster_core::vault::keys::SecretBytes> {
    use std::io::Read;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    if text.is_empty() {
        anyhow::bail!(
            "no value given: pass --value, pipe it on stdin, or set HEADMASTER_CREDENTIAL_VALUE"
        );
    }
    Ok(headmaster_core::vault::keys::SecretBytes::from(text))
}
