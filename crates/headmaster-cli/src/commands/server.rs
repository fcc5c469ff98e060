//! `headmaster server …`: join the shared server, sync the audit chains to it, show the sync
//! state, leave. Joining and leaving are for Admins and are audited.

use clap::Subcommand;

use crate::commands::audit::{bar, progress};
use crate::context::Context;

/// `server` subcommands.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Join a shared server: checks its certificate pin before sending anything, then
    /// registers this installation's device key with a one-time enrollment token.
    Join {
        /// The server, as https://HOST:PORT.
        url: String,
        /// The server certificate's SPKI pin (`sha256//…`, from `headmaster-server status`);
        /// give it twice while the certificate rolls over.
        #[arg(long = "pin", required = true)]
        pins: Vec<String>,
        /// The token from `headmaster-server enroll create`.
        #[arg(long, env = "HEADMASTER_ENROLL_TOKEN")]
        token: String,
        /// How the server lists this device (default: the host name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Per chain: what the server receipted, what is pending, the last success and error.
    Status,
    /// Uploads every chain's new events now.
    Sync {
        /// Rows per uploaded segment (1–10000); smaller segments lose less to a flaky link.
        #[arg(long, default_value_t = headmaster_core::sync::DEFAULT_SEGMENT_ROWS)]
        segment_rows: u64,
    },
    /// Stops syncing: revokes this device on the server if reachable; local data stays.
    Leave,
    /// Pins the server's new certificate key(s) after its certificate was replaced on purpose.
    Repin {
        /// The new SPKI pin (`sha256//…`); give two while both certificates are in service.
        #[arg(long = "pin", required = true)]
        pins: Vec<String>,
    },
    /// Lets a chain whose sync was stopped (a fork, a rollback, a server copy that differs)
    /// sync again, after comparing it with the server.
    Resume {
        /// The chain: `instance` or a workspace id, as `server status` lists them.
        scope: String,
    },
}

/// Runs a `server` subcommand.
pub async fn run(ctx: &Context, command: ServerCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    match command {
        ServerCommand::Join {
            url,
            pins,
            token,
            name,
        } => {
            let name = name.unwrap_or_else(|| {
                whoami::fallible::hostname().unwrap_or_else(|_| "headmaster".into())
            });
            let report = instance
                .join_server(&session, &url, &pins, &token, &name)
                .await?;
            ctx.done(
                &report,
                &format!(
                    "Joined {} as device {}.\n  this device's key: {}\n  server's key:      {}\nCompare both with `headmaster-server device list` and `status` on the server.",
                    report.url, report.device_id, report.device_fingerprint, report.server_fingerprint
                ),
            )
        }
        ServerCommand::Status => {
            let status = instance.server_status(&session).await?;
            let mut text = format!(
                "{} ({})\n  this device's key: {}\n  server's key:      {}\n",
                status.url,
                if status.online { "online" } else { "offline" },
                status.device_fingerprint,
                status.server_fingerprint
            );
            for chain in &status.chains {
                text.push_str(&format!(
                    "  {:<36} local {:>8}  receipted {:>8}  pending {:>8}  last success {}{}\n",
                    chain.scope,
                    chain.local_seq,
                    chain.receipted_seq,
                    chain.pending,
                    chain.last_success.as_deref().unwrap_or("never"),
                    chain
                        .last_error
                        .as_deref()
                        .map(|e| format!("\n      last error: {e}"))
                        .unwrap_or_default()
                ));
            }
            ctx.done(&status, text.trim_end())
        }
        ServerCommand::Sync { segment_rows } => {
            let bar = bar(ctx, "uploading");
            let progress = progress(&bar);
            let report = instance
                .sync_server(&session, segment_rows, &progress)
                .await?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let problems: Vec<String> = report
                .chains
                .iter()
                .filter_map(|c| c.error.as_ref().map(|e| format!("{}: {e}", c.scope)))
                .collect();
            ctx.done(
                &report,
                &format!(
                    "Uploaded {} events over {} chains.{}",
                    report.uploaded,
                    report.chains.len(),
                    problems
                        .iter()
                        .map(|p| format!("\n  {p}"))
                        .collect::<String>()
                ),
            )?;
            if problems.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("sync did not finish for {} chain(s)", problems.len())
            }
        }
        ServerCommand::Repin { pins } => {
            instance.repin_server(&session, &pins).await?;
            ctx.done(
                &serde_json::json!({ "pins": pins }),
                &format!("Pinned {}.", pins.join(" and ")),
            )
        }
        ServerCommand::Resume { scope } => {
            instance.resume_chain(&session, &scope).await?;
            ctx.done(
                &serde_json::json!({ "resumed": scope }),
                &format!("Chain {scope} syncs again from the next sync."),
            )
        }
        ServerCommand::Leave => {
            let report = instance.leave_server(&session).await?;
            let text = match &report.server_error {
                None => format!("Left {}; the server revoked this device.", report.url),
                Some(e) => format!(
                    "Left {}; the server could not be told ({e}): revoke this device there with `headmaster-server device revoke`.",
                    report.url
                ),
            };
            ctx.done(&report, &text)
        }
    }
}
