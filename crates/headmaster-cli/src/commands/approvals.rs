//! `headmaster call`, `approval …` and `grant …` (in `--workspace`).

use std::collections::BTreeMap;

use clap::Subcommand;
use headmaster_core::approvals::{ApprovalDecision, GrantRequest, PageRequest};
use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
use headmaster_core::{Error, Instance, Session};

use super::tools::{pairs, workspace};
use crate::context::Context;
use crate::output::print_json;

/// `approval` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApprovalCommand {
    /// Requests (default: pending).
    List {
        /// pending, decided or all.
        #[arg(long, default_value = "pending")]
        status: String,
        /// Requests per page (1–200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue after this cursor (printed at the end of the page before).
        #[arg(long)]
        cursor: Option<String>,
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
    /// List grants, newest first.
    List {
        /// Grants per page (1–200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue after this cursor (printed at the end of the page before).
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Revoke a grant.
    Revoke {
        /// Grant id.
        id: String,
    },
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
        ApprovalCommand::List {
            status,
            limit,
            cursor,
        } => {
            let page = PageRequest {
                cursor,
                limit: Some(limit),
            };
            let page = instance
                .list_approvals(&session, ws, Some(&status), &page)
                .await?;
            if ctx.json {
                return print_json(&page);
            }
            let shown = page.items.len();
            for a in page.items {
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
            if let Some(next) = page.next_cursor {
                println!(
                    "{shown} of {} shown; the next page: --cursor {next}",
                    page.total
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
        GrantCommand::List { limit, cursor } => {
            let page = PageRequest {
                cursor,
                limit: Some(limit),
            };
            let page = instance.list_grants(&session, ws, &page).await?;
            if ctx.json {
                return print_json(&page);
            }
            let shown = page.items.len();
            for g in page.items {
                println!(
                    "{} {:<12} {} {} until {}",
                    g.id,
                    g.action,
                    g.principal,
                    if g.active { "active" } else { "inactive" },
                    g.expires_at
                );
            }
            if let Some(next) = page.next_cursor {
                println!(
                    "{shown} of {} shown; the next page: --cursor {next}",
                    page.total
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
