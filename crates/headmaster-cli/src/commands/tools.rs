//! `headmaster tool|credential|call|approval|grant …` (in `--workspace`).

use std::collections::BTreeMap;

use clap::Subcommand;
use headmaster_core::approvals::{ApprovalDecision, GrantRequest};
use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
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

/// `approval` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApprovalCommand {
    /// Requests (default: pending).
    List {
        /// pending, decided or all.
        #[arg(long, default_value = "pending")]
        status: String,
    },
    /// One request with its reasoning, affected resources, tier and decisions.
    Show {
        /// Request id.
        id: String,
    },
    /// Approve (confirm, for medium) a request.
    Approve {
        /// Request id.
        id: String,
        /// Comment.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a request; the reason goes back to the proposer.
    Reject {
        /// Request id.
        id: String,
        /// Comment.
        #[arg(long)]
        comment: Option<String>,
    },
}

/// `grant` subcommands.
#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Allow an action for a user or agent for up to 24 h.
    Create {
        /// TOOL.ACTION.
        action: String,
        /// Username, or agent:<id>.
        #[arg(long)]
        principal: String,
        /// Argument patterns: name=value (exact JSON or text) or name=like:GLOB.
        #[arg(long = "arg")]
        args: Vec<String>,
        /// Lifetime in minutes (max 1440).
        #[arg(long, default_value_t = 60)]
        minutes: i64,
    },
    /// List grants.
    List,
    /// Revoke a grant.
    Revoke {
        /// Grant id.
        id: String,
    },
}

async fn workspace(
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

fn pairs(settings: &[String]) -> anyhow::Result<Vec<(String, String)>> {
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

/// `headmaster call TOOL.ACTION --args JSON`.
pub async fn call(
    ctx: &Context,
    action: String,
    args: String,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    let args: serde_json::Value = serde_json::from_str(&args)
        .map_err(|e| Error::InvalidInput(format!("--args is not valid JSON: {e}")))?;
    let outcome = instance
        .propose_call(
            &session,
            ws,
            CallRequest {
                action,
                args,
                reasoning: reason,
                proposer: Proposer::User,
            },
        )
        .await?;
    if ctx.json {
        print_json(&outcome)?;
    } else {
        match &outcome {
            CallOutcome::Executed { output, .. } => println!("{}", serde_json::to_string_pretty(output)?),
            CallOutcome::Pending {
                approval_id,
                tier,
                quorum,
                expires_at,
                ..
            } => println!("Waiting for approval {approval_id} ({tier}, {quorum} approval(s) needed, expires {expires_at})."),
            CallOutcome::Denied { reasons } => println!("Denied: {}", reasons.join("; ")),
        }
    }
    if let CallOutcome::Denied { reasons } = outcome {
        anyhow::bail!("the policy denied this call: {}", reasons.join("; "));
    }
    Ok(())
}

/// Runs an `approval` subcommand.
pub async fn approval(ctx: &Context, command: ApprovalCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    match command {
        ApprovalCommand::List { status } => {
            let list = instance.list_approvals(&session, ws, Some(&status)).await?;
            if ctx.json {
                return print_json(&list);
            }
            for a in list {
                println!(
                    "{} {:<9} {:<8} {}/{} {:<12} by {}{}",
                    a.id,
                    a.status,
                    a.tier,
                    a.approvals,
                    a.quorum,
                    a.action,
                    a.on_behalf_of_name,
                    if a.can_decide {
                        "  [you can decide]"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        ApprovalCommand::Show { id } => {
            let detail = instance.show_approval(&session, ws, &id).await?;
            print_json(&detail)
        }
        ApprovalCommand::Approve { id, comment } => {
            decide(
                ctx,
                &instance,
                &session,
                ws,
                &id,
                ApprovalDecision::Approve,
                comment,
            )
            .await
        }
        ApprovalCommand::Reject { id, comment } => {
            decide(
                ctx,
                &instance,
                &session,
                ws,
                &id,
                ApprovalDecision::Reject,
                comment,
            )
            .await
        }
    }
}

async fn decide(
    ctx: &Context,
    instance: &Instance,
    session: &Session,
    ws: headmaster_core::ids::WorkspaceId,
    id: &str,
    decision: ApprovalDecision,
    comment: Option<String>,
) -> anyhow::Result<()> {
    let result = instance
        .decide_approval(session, ws, id, decision, comment.as_deref())
        .await?;
    ctx.done(
        &result,
        &format!(
            "Request {id} is {} ({}/{} approvals).",
            result.status, result.approvals, result.quorum
        ),
    )
}

/// Runs a `grant` subcommand.
pub async fn grant(ctx: &Context, command: GrantCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    match command {
        GrantCommand::Create {
            action,
            principal,
            args,
            minutes,
        } => {
            let args: BTreeMap<String, String> = pairs(&args)?.into_iter().collect();
            let grant = instance
                .create_grant(
                    &session,
                    ws,
                    GrantRequest {
                        action,
                        principal,
                        args,
                        minutes,
                    },
                )
                .await?;
            ctx.done(
                &grant,
                &format!("Created grant {} (expires {}).", grant.id, grant.expires_at),
            )
        }
        GrantCommand::List => {
            let list = instance.list_grants(&session, ws).await?;
            if ctx.json {
                return print_json(&list);
            }
            for g in list {
                println!(
                    "{} {:<12} {} {} until {}",
                    g.id,
                    g.action,
                    g.principal,
                    if g.active { "active" } else { "inactive" },
                    g.expires_at
                );
            }
            Ok(())
        }
        GrantCommand::Revoke { id } => {
            instance.revoke_grant(&session, ws, &id).await?;
            ctx.done(
                &serde_json::json!({ "revoked": id }),
                &format!("Revoked grant {id}."),
            )
        }
    }
}
