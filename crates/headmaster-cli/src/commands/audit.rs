//! `headmaster audit …` and `headmaster subject …`.
//!
//! `--workspace W` selects a workspace's chain; without it, the instance chain (sign-ins,
//! users, workspaces, keys). `verify-bundle` needs no instance at all: an auditor can run it on
//! any machine.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Subcommand;
use headmaster_core::access::Scope;
use headmaster_core::audit::AuditFilter;
use headmaster_core::{Instance, Session};
use headmaster_protocol::bundle::{verify_bundle, Trust};
use indicatif::{ProgressBar, ProgressStyle};

use crate::context::Context;
use crate::output::print_json;

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Query events, newest first.
    Query {
        /// At or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Actor username or id.
        #[arg(long)]
        actor: Option<String>,
        /// Action (`auth.sign_in`) or prefix (`auth.` / `tool.*`).
        #[arg(long)]
        action: Option<String>,
        /// allowed, denied, failed or pending.
        #[arg(long)]
        outcome: Option<String>,
        /// Run id.
        #[arg(long)]
        run: Option<String>,
        /// Page size (default 100, max 1000).
        #[arg(long)]
        limit: Option<u32>,
        /// Only events with seq below this (paging).
        #[arg(long)]
        before: Option<u64>,
    },
    /// Verify the chain (archive and hot rows) and its signed checkpoints.
    Verify,
    /// Export the chain as a signed OCSF bundle (a directory, or PATH ending in .tar.gz).
    Export {
        /// Output path.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a bundle: signature, SHA256SUMS, chain. Needs no instance.
    VerifyBundle {
        /// Bundle directory or .tar.gz.
        path: PathBuf,
        /// Trust only this OpenSSH public key (e.g. a device.pub pinned out of band).
        #[arg(long)]
        pin: Option<PathBuf>,
    },
    /// Move events older than the retention period into sealed archive segments.
    Archive,
    /// Set how many days events stay in the hot table before archiving (default 90).
    Retention {
        /// Days.
        days: i64,
    },
}

/// `subject` subcommands.
#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// Erase a data subject (a user) by destroying their key.
    Erase {
        /// Username.
        username: String,
        /// Confirm (required; it cannot be undone).
        #[arg(long)]
        yes: bool,
    },
    /// Export everything stored about a data subject.
    Export {
        /// Username.
        username: String,
    },
}

/// Runs an `audit` subcommand.
pub async fn run(ctx: &Context, command: AuditCommand) -> anyhow::Result<()> {
    if let AuditCommand::VerifyBundle { path, pin } = command {
        return verify_bundle_command(ctx, &path, pin.as_deref());
    }
    let (instance, session) = ctx.signed_in().await?;
    let scope = scope(ctx, &instance, &session).await?;
    match command {
        AuditCommand::Query {
            since,
            until,
            actor,
            action,
            outcome,
            run,
            limit,
            before,
        } => {
            let filter = AuditFilter {
                since,
                until,
                actor,
                action,
                outcome,
                run,
                limit,
                before_seq: before,
            };
            let page = instance.query_audit(&session, scope, &filter).await?;
            if ctx.json {
                return print_json(&page);
            }
            for e in &page.entries {
                println!(
                    "{:>7} {} {:<10} {:<22} {:<8} {}",
                    e.seq, e.time, e.actor_name, e.action, e.outcome, e.target
                );
            }
            if let Some(next) = page.next_before {
                println!("… more: --before {next}");
            }
            Ok(())
        }
        AuditCommand::Verify => {
            let bar = bar(ctx, "verifying");
            let progress = progress(&bar);
            let outcome = instance.verify_audit(&session, scope, &progress).await?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            if ctx.json {
                print_json(&outcome)?;
            } else {
                println!(
                    "{} events checked, {} checkpoints",
                    outcome.events_checked, outcome.checkpoints_checked
                );
                for (a, b) in &outcome.valid_ranges {
                    println!("valid: seq {a}–{b}");
                }
                for b in &outcome.breaks {
                    println!("BREAK at seq {}: {} — {}", b.seq, b.kind, b.detail);
                }
                for p in &outcome.segment_problems {
                    println!("ARCHIVE: {p}");
                }
                println!(
                    "{}",
                    if outcome.valid {
                        "chain valid"
                    } else {
                        "CHAIN INVALID"
                    }
                );
            }
            if outcome.valid {
                Ok(())
            } else {
                let first = outcome
                    .breaks
                    .first()
                    .map(|b| format!("first break at seq {} ({})", b.seq, b.kind))
                    .or_else(|| outcome.segment_problems.first().cloned())
                    .unwrap_or_default();
                anyhow::bail!("audit chain does not verify: {first}")
            }
        }
        AuditCommand::Export { out } => {
            let bar = bar(ctx, "exporting");
            let progress = progress(&bar);
            let report = instance
                .export_audit(&session, scope, &out, &progress)
                .await?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            ctx.done(
                &report,
                &format!(
                    "Exported {} events to {} (signed by {}).",
                    report.events, report.path, report.device_key_fingerprint
                ),
            )
        }
        AuditCommand::Archive => {
            let report = instance.archive_audit(&session, scope).await?;
            ctx.done(
                &report,
                &format!(
                    "Archived {} events in {} segments (before {}).",
                    report.events, report.segments, report.cutoff
                ),
            )
        }
        AuditCommand::Retention { days } => {
            instance.set_audit_retention(&session, days).await?;
            ctx.done(
                &serde_json::json!({ "retention_days": days }),
                &format!("Audit events are archived after {days} days."),
            )
        }
        AuditCommand::VerifyBundle { .. } => unreachable!("handled above"),
    }
}

/// Runs a `subject` subcommand.
pub async fn subject(ctx: &Context, command: SubjectCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    match command {
        SubjectCommand::Erase { username, yes } => {
            if !yes {
                anyhow::bail!("erasure destroys {username}'s personal data everywhere and cannot be undone; repeat with --yes");
            }
            let report = instance.erase_subject(&session, &username).await?;
            ctx.done(
                &report,
                &format!(
                    "Erased subject {} at {}.",
                    report.subject_id, report.erased_at
                ),
            )
        }
        SubjectCommand::Export { username } => {
            let export = instance.export_subject(&session, &username).await?;
            print_json(&export)
        }
    }
}

fn verify_bundle_command(
    ctx: &Context,
    path: &std::path::Path,
    pin: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let pinned = match pin {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read pinned key {}: {e}", file.display()))?;
            let key = ssh_key::PublicKey::from_openssh(text.trim()).map_err(|e| {
                anyhow::anyhow!("{} is not an OpenSSH public key: {e}", file.display())
            })?;
            let ed = key
                .key_data()
                .ed25519()
                .ok_or_else(|| anyhow::anyhow!("{} is not an Ed25519 key", file.display()))?;
            Some(ed25519_dalek::VerifyingKey::from_bytes(&ed.0)?)
        }
        None => None,
    };
    let pinned_keys: Vec<_> = pinned.into_iter().collect();
    let trust = if pinned_keys.is_empty() {
        Trust::BundleKey
    } else {
        Trust::Pinned(&pinned_keys)
    };
    let report = verify_bundle(path, trust)?;
    let valid = report.problems.is_empty();
    if ctx.json {
        print_json(&serde_json::json!({
            "valid": valid,
            "signer": report.signer,
            "signer_pinned": report.signer_pinned,
            "events": report.manifest.as_ref().map(|m| m.event_count),
            "problems": report.problems.iter().map(|p| serde_json::json!({
                "file": p.file, "line": p.line, "seq": p.seq, "kind": format!("{:?}", p.kind), "detail": p.detail,
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        for p in &report.problems {
            println!(
                "PROBLEM {}{}: {}",
                p.file,
                p.line.map(|l| format!(":{l}")).unwrap_or_default(),
                p.detail
            );
        }
        println!(
            "{}",
            if valid {
                "bundle valid"
            } else {
                "BUNDLE INVALID"
            }
        );
    }
    if valid {
        Ok(())
    } else {
        anyhow::bail!(
            "bundle does not verify: {} problem(s)",
            report.problems.len()
        )
    }
}

async fn scope(ctx: &Context, instance: &Instance, session: &Session) -> anyhow::Result<Scope> {
    Ok(match &ctx.workspace {
        Some(name) => Scope::Workspace(
            instance
                .resolve_workspace(session, Some(name))
                .await?
                .id
                .parse()?,
        ),
        None => Scope::Org,
    })
}

/// A `progress(done, total)` callback that moves `bar`, if there is one.
pub(crate) fn progress(bar: &Option<ProgressBar>) -> impl Fn(u64, u64) + Send + Sync {
    let bar = bar.clone();
    move |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }
}

pub(crate) fn bar(ctx: &Context, what: &str) -> Option<ProgressBar> {
    if ctx.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} events ({{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}
