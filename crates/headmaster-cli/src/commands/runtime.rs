//! `headmaster agent|run|draft|memory …` (in `--workspace`).

use std::path::PathBuf;

use clap::Subcommand;
use headmaster_core::runtime::{AgentDefinition, Limits, ProviderConfig};
use headmaster_core::{Error, Instance, Session};

use crate::context::Context;
use crate::output::print_json;

/// `agent` subcommands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Define an agent from a playbook file, or a model agent.
    Create {
        /// Playbook (TOML) file.
        #[arg(long, conflicts_with_all = ["provider", "model"])]
        playbook: Option<PathBuf>,
        /// `openai` for an OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM, OpenAI).
        #[arg(long)]
        provider: Option<String>,
        /// Model name.
        #[arg(long)]
        model: Option<String>,
        /// Base URL of the endpoint, e.g. http://127.0.0.1:11434/v1.
        #[arg(long)]
        base_url: Option<String>,
        /// Credential holding the API key.
        #[arg(long)]
        api_key_credential: Option<String>,
        /// Agent name (model agents).
        #[arg(long)]
        name: Option<String>,
        /// Instructions (model agents).
        #[arg(long, default_value = "")]
        instructions: String,
        /// Tools it may propose, comma-separated (model agents).
        #[arg(long, value_delimiter = ',')]
        tools: Vec<String>,
        /// Step limit (model agents; a playbook sets its own in [limits]).
        #[arg(long, conflicts_with = "playbook")]
        max_steps: Option<u32>,
        /// Per-request timeout of the model endpoint, seconds.
        #[arg(long, default_value_t = 60)]
        timeout_seconds: u64,
    },
    /// List agents.
    List,
    /// Show an agent's definition.
    Show {
        /// Name or id.
        name: String,
    },
    /// Delete an agent.
    Delete {
        /// Name or id.
        name: String,
    },
}

/// `run` subcommands.
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Start a run and drive it until it finishes or waits for a decision.
    Start {
        /// Agent name.
        agent: String,
        /// The task.
        #[arg(long)]
        task: String,
    },
    /// List runs.
    List,
    /// A run's timeline, sub-runs and drafts.
    Show {
        /// Run id.
        id: String,
    },
    /// Cancel a run.
    Cancel {
        /// Run id.
        id: String,
    },
    /// Continue a run (after a decision, a restart, or a stall).
    Resume {
        /// Run id.
        id: String,
    },
}

/// `draft` subcommands.
#[derive(Debug, Subcommand)]
pub enum DraftCommand {
    /// Drafts (latest version of each).
    List,
    /// A draft with all versions.
    Show {
        /// Draft key or version id.
        id: String,
    },
}

/// `memory` subcommands.
#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Memory entries.
    List,
    /// Write an entry.
    Set {
        /// Key.
        key: String,
        /// Value.
        value: String,
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

/// Runs an `agent` subcommand.
pub async fn agent(ctx: &Context, command: AgentCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    match command {
        AgentCommand::Create {
            playbook,
            provider,
            model,
            base_url,
            api_key_credential,
            name,
            instructions,
            tools,
            max_steps,
            timeout_seconds,
        } => {
            let agent = match (playbook, provider.as_deref()) {
                (Some(path), _) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        Error::InvalidInput(format!("cannot read {}: {e}", path.display()))
                    })?;
                    instance.create_playbook_agent(&session, ws, &text).await?
                }
                (None, Some("openai")) => {
                    let definition = AgentDefinition {
                        name: name.ok_or_else(|| {
                            Error::InvalidInput("a model agent needs --name".into())
                        })?,
                        instructions,
                        provider: ProviderConfig::OpenAi {
                            base_url: base_url.ok_or_else(|| {
                                Error::InvalidInput("a model agent needs --base-url".into())
                            })?,
                            model: model.ok_or_else(|| {
                                Error::InvalidInput("a model agent needs --model".into())
                            })?,
                            api_key_credential,
                            timeout_seconds,
                        },
                        tools,
                        memory_scope: String::new(),
                        limits: Limits {
                            max_steps: max_steps.unwrap_or(Limits::default().max_steps),
                            ..Limits::default()
                        },
                    };
                    instance.create_agent(&session, ws, definition).await?
                }
                (None, Some(other)) => {
                    return Err(Error::InvalidInput(format!(
                        "unknown provider {other:?}; use --playbook FILE or --provider openai"
                    ))
                    .into())
                }
                (None, None) => {
                    return Err(Error::InvalidInput(
                        "give --playbook FILE or --provider openai".into(),
                    )
                    .into())
                }
            };
            ctx.done(
                &agent,
                &format!("Created agent {} ({}).", agent.name, agent.provider),
            )
        }
        AgentCommand::List => {
            let agents = instance.list_agents(&session, ws).await?;
            if ctx.json {
                return print_json(&agents);
            }
            for a in agents {
                println!("{:<28} {:<9} {}", a.name, a.provider, a.tools.join(","));
            }
            Ok(())
        }
        AgentCommand::Show { name } => print_json(&instance.show_agent(&session, ws, &name).await?),
        AgentCommand::Delete { name } => {
            instance.delete_agent(&session, ws, &name).await?;
            ctx.done(
                &serde_json::json!({ "deleted": name }),
                &format!("Deleted agent {name}."),
            )
        }
    }
}

/// Runs a `run` subcommand.
pub async fn run(ctx: &Context, command: RunCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    let summary = match command {
        RunCommand::Start { agent, task } => {
            instance
                .start_run(&session, ws, &agent, &task, true)
                .await?
        }
        RunCommand::Resume { id } => instance.resume_run(&session, ws, &id).await?,
        RunCommand::Cancel { id } => instance.cancel_run(&session, ws, &id).await?,
        RunCommand::List => {
            let runs = instance.list_runs(&session, ws).await?;
            if ctx.json {
                return print_json(&runs);
            }
            for r in runs {
                println!(
                    "{} {:<22} {:<20}{} {}",
                    r.id,
                    r.status,
                    r.agent_name,
                    if r.stalled { " STALLED" } else { "" },
                    r.task
                );
            }
            return Ok(());
        }
        RunCommand::Show { id } => {
            let detail = instance.show_run(&session, ws, &id).await?;
            if ctx.json {
                return print_json(&detail);
            }
            println!(
                "{} {} — {}",
                detail.summary.agent_name, detail.summary.status, detail.summary.task
            );
            for step in &detail.timeline {
                println!("  {:>3} {:<10} {}", step.seq, step.kind, step.body);
            }
            for child in &detail.children {
                println!(
                    "  sub-run {} {} ({})",
                    child.id, child.status, child.agent_name
                );
            }
            for d in &detail.drafts {
                println!("  draft {} v{}: {}", d.key, d.version, d.title);
            }
            return Ok(());
        }
    };
    let ended_badly = matches!(summary.status.as_str(), "failed" | "expired");
    ctx.done(
        &summary,
        &format!(
            "Run {} is {}{}{}",
            summary.id,
            summary.status,
            summary
                .waiting_on
                .as_ref()
                .map(|w| format!(" (waiting on {w})"))
                .unwrap_or_default(),
            summary
                .outcome
                .as_ref()
                .map(|o| format!(": {o}"))
                .unwrap_or_default()
        ),
    )?;
    if ended_badly {
        anyhow::bail!(
            "run {} {}: {}",
            summary.id,
            summary.status,
            summary.outcome.unwrap_or_default()
        );
    }
    Ok(())
}

/// Runs a `draft` subcommand.
pub async fn draft(ctx: &Context, command: DraftCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    match command {
        DraftCommand::List => {
            let drafts = instance.list_drafts(&session, ws).await?;
            if ctx.json {
                return print_json(&drafts);
            }
            for d in drafts {
                println!("{:<24} v{:<3} {}", d.key, d.version, d.title);
            }
            Ok(())
        }
        DraftCommand::Show { id } => {
            let draft = instance.show_draft(&session, ws, &id).await?;
            if ctx.json {
                return print_json(&draft);
            }
            for (summary, body) in &draft.versions {
                println!(
                    "== {} v{} ({})\n{}\n",
                    summary.title, summary.version, summary.created_at, body
                );
            }
            Ok(())
        }
    }
}

/// Runs a `memory` subcommand.
pub async fn memory(ctx: &Context, command: MemoryCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let ws = workspace(ctx, &instance, &session).await?;
    match command {
        MemoryCommand::List => {
            let entries = instance.list_memory(&session, ws).await?;
            if ctx.json {
                return print_json(&entries);
            }
            for e in entries {
                println!("{:<24} {}", e.key, e.value);
            }
            Ok(())
        }
        MemoryCommand::Set { key, value } => {
            instance.write_memory(&session, ws, &key, &value).await?;
            ctx.done(
                &serde_json::json!({ "written": key }),
                &format!("Remembered {key}."),
            )
        }
    }
}
