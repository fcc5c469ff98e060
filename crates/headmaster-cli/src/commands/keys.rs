//! `headmaster keys status|rotate|rotate-kek|retire|maintain`.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Subcommand;
use headmaster_core::maintenance::{MaintenanceReport, Work};
use headmaster_core::vault::rotation::Progress;
use headmaster_core::vault::{KeyScope, Protection, RETIRE_GRACE_MS};
use headmaster_core::{Instance, Session};
use indicatif::{ProgressBar, ProgressStyle};

use crate::context::{read_secret, Context};
use crate::output::print_json;

/// `keys` subcommands. `--workspace W` targets a workspace's keys; without it, the
/// organisation's (instance) keys.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Key protection, KEK, and per-scope key versions with row counts.
    Status,
    /// Create new data and audit keys and re-encrypt every row onto the new data key.
    Rotate,
    /// Re-wrap every key under a new key-encryption key.
    RotateKek,
    /// Destroy old data-key versions that no row uses any more.
    Retire,
    /// Do the maintenance that re-encrypts: finish interrupted rotations and rotate every data
    /// key older than the rotation period (all scopes; `--workspace` is ignored).
    Maintain,
}

/// Runs a `keys` subcommand.
pub async fn run(ctx: &Context, command: KeysCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let scope = scope(ctx, &instance, &session).await?;
    match command {
        KeysCommand::Maintain => maintain(ctx, &instance).await,
        KeysCommand::Status => {
            let workspace = match scope {
                KeyScope::Workspace(w) => Some(w),
                KeyScope::Instance => None,
            };
            let status = instance.keys_status(&session, workspace).await?;
            if ctx.json {
                return print_json(&status);
            }
            println!(
                "protection: {}{}",
                status.protection,
                match status.keychain_available {
                    Some(true) => " (keychain available)",
                    Some(false) => " (KEYCHAIN UNAVAILABLE)",
                    None => "",
                }
            );
            println!(
                "KEK version {} (rotated {})",
                status.kek_version, status.kek_rotated_at
            );
            println!(
                "automatic rotation every {} days",
                status.rotation_period_days
            );
            for s in status.scopes {
                println!(
                    "\n{} [{}]{}{}  last rotation: {}",
                    s.name,
                    s.scope,
                    if s.rotation_due { " ROTATION DUE" } else { "" },
                    if s.rotation_pending {
                        " ROTATION UNFINISHED"
                    } else {
                        ""
                    },
                    s.last_rotation.as_deref().unwrap_or("never")
                );
                for v in s.versions {
                    println!(
                        "  {:<5} v{:<3} {:<8} rows {:<8} encryptions {:<10} created {}",
                        v.purpose,
                        v.version,
                        v.state,
                        v.rows.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                        v.encryptions,
                        v.created_at
                    );
                }
            }
            Ok(())
        }
        KeysCommand::Rotate => {
            let bar = progress_bar(ctx);
            let report = instance.rotate_keys(&session, scope, &follow(&bar)).await?;
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            let mut retired = report.retired.clone();
            if !report.awaiting_retirement.is_empty() {
                // Old versions are destroyed only after a grace period, so that another process
                // (the desktop app) that cached the old key re-reads the keys first. Waiting here
                // lets the command finish the job it was asked to do.
                if !ctx.json {
                    eprintln!(
                        "waiting {} s before destroying the old key…",
                        RETIRE_GRACE_MS / 1000
                    );
                }
                tokio::time::sleep(Duration::from_millis(RETIRE_GRACE_MS as u64 + 100)).await;
                retired.extend(instance.retire_unused_keys(&session, scope).await?);
            }
            if ctx.json {
                return print_json(&serde_json::json!({
                    "scope": report.scope,
                    "data_version": report.data_version,
                    "rows_reencrypted": report.rows_reencrypted,
                    "retired": retired,
                }));
            }
            println!(
                "Rotated {}: data key v{}, {} rows re-encrypted, retired versions {:?}.",
                report.scope, report.data_version, report.rows_reencrypted, retired
            );
            Ok(())
        }
        KeysCommand::Retire => {
            let retired = instance.retire_unused_keys(&session, scope).await?;
            ctx.done(
                &serde_json::json!({ "retired": retired }),
                &format!("Retired versions {retired:?}."),
            )
        }
        KeysCommand::RotateKek => {
            let passphrase = match instance.protection() {
                Protection::Passphrase => Some(read_secret(
                    "HEADMASTER_NEW_PASSPHRASE",
                    "New passphrase: ",
                )?),
                Protection::Keychain => None,
            };
            let version = instance.rotate_kek(&session, passphrase).await?;
            ctx.done(
                &serde_json::json!({ "kek_version": version }),
                &format!("Every key is now wrapped by KEK version {version}."),
            )
        }
    }
}

/// `keys maintain`: a full maintenance pass with a progress bar. Maintenance is the system's
/// work (the desktop app runs it for whoever is signed in), so any signed-in person may start
/// it; every change it makes is audited with the system as the actor.
async fn maintain(ctx: &Context, instance: &Instance) -> anyhow::Result<()> {
    let due = instance.rotations_due().await?;
    let bar = progress_bar(ctx);
    let report = instance
        .maintain(&ctx.source(), Work::Full, &follow(&bar))
        .await?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if ctx.json {
        print_json(&report)?;
    } else {
        describe(&due, &report);
    }
    if let Some(p) = report.problems.first() {
        anyhow::bail!(
            "maintenance could not finish {} ({}): {}{}",
            p.step,
            p.scope,
            p.message,
            match report.problems.len() {
                1 => String::new(),
                n => format!(" (and {} more problems)", n - 1),
            }
        );
    }
    Ok(())
}

/// What a full pass did, for people.
fn describe(due: &[headmaster_core::vault::RotationDue], report: &MaintenanceReport) {
    if due.is_empty() && report.rotations.is_empty() {
        println!("Nothing was due: every data key is younger than the rotation period.");
    }
    for r in &report.rotations {
        println!(
            "Rotated {}: data key v{}, {} rows re-encrypted, retired versions {:?}.",
            r.scope, r.data_version, r.rows_reencrypted, r.retired
        );
    }
    for d in &report.due {
        println!(
            "{} is still due: another process is rotating it (or was, until its lease lapses).",
            d.scope
        );
    }
}

async fn scope(ctx: &Context, instance: &Instance, session: &Session) -> anyhow::Result<KeyScope> {
    Ok(match &ctx.workspace {
        Some(name) => {
            let w = instance.resolve_workspace(session, Some(name)).await?;
            KeyScope::Workspace(w.id.parse()?)
        }
        None => KeyScope::Instance,
    })
}

/// A progress callback for the core that moves `bar` (nothing without one).
fn follow(bar: &Option<ProgressBar>) -> impl Fn(Progress) + Send + Sync {
    let bar = bar.clone();
    move |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
        }
    }
}

fn progress_bar(ctx: &Context) -> Option<ProgressBar> {
    if ctx.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("re-encrypting {bar:40} {pos}/{len} rows ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}
