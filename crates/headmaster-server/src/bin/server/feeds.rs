//! The feed-side commands: API tokens for the SIEM, push sinks, the access-log export.

use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;
use headmaster_server::admin;
use headmaster_server::data::DataDir;
use headmaster_server::sink::{self, SinkSpec};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Prints a new token (shown once).
    Create {
        /// What the token may do: siem.read (read the OCSF feed).
        #[arg(long)]
        scope: String,
        /// A name to recognise it by, e.g. the SIEM's.
        #[arg(long, default_value = "siem")]
        name: String,
    },
    /// Lists tokens (never the tokens themselves).
    List,
    /// Revokes a token by id.
    Revoke {
        /// The token's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Exports the access log as a signed bundle; check it with `headmaster audit verify-bundle
    /// PATH --pin <data>/keys/signing.pub`.
    Export {
        /// Output directory, or a path ending in .tar.gz.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SinkCommand {
    /// Adds a sink: syslog+tls://HOST:PORT (RFC 5424 over TLS, RFC 5425 framing) or
    /// hec+https://HOST:PORT[/PATH] (Splunk HTTP Event Collector). It starts at the beginning of
    /// the feed unless --from-now.
    Add {
        /// Where to push.
        target: String,
        /// A name to recognise it by.
        #[arg(long)]
        name: Option<String>,
        /// PEM certificates the receiver's certificate must chain to (default: the Mozilla roots).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// A file holding the HEC token (HEC only; kept sealed with the data key).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Push only events that arrive from now on.
        #[arg(long)]
        from_now: bool,
    },
    /// Lists sinks with their cursor, pending events, counters and last error.
    List,
    /// Stops pushing a sink (its counters and dead letters stay on record).
    Remove {
        /// The sink's id.
        id: String,
    },
    /// The events a sink's receiver refused for good.
    DeadLetters {
        /// The sink's id.
        id: String,
    },
}

/// `token create|list|revoke`.
pub async fn token(
    command: TokenCommand,
    data: &DataDir,
    database: &str,
    json: bool,
) -> anyhow::Result<()> {
    let (store, _) = data.open_store(database).await?;
    match command {
        TokenCommand::Create { scope, name } => {
            let token = admin::create_api_token(&*store, &scope, &name)
                .await
                .map_err(anyhow::Error::msg)?;
            if json {
                println!("{}", serde_json::to_string(&token)?);
            } else {
                println!("{}", token.token);
                eprintln!(
                    "API token {} ({}); it is shown only now",
                    token.id, token.scope
                );
            }
            Ok(())
        }
        TokenCommand::List => {
            let tokens = store.api_tokens().await?;
            let views: Vec<_> = tokens
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "id": t.id, "name": t.name, "scope": t.scope,
                        "created": headmaster_server::clock::rfc3339(t.created_ms),
                        "last_used": t.last_used_ms.map(headmaster_server::clock::rfc3339),
                        "revoked": t.revoked_ms.map(headmaster_server::clock::rfc3339),
                    })
                })
                .collect();
            if json {
                println!("{}", serde_json::Value::Array(views));
            } else {
                for v in views {
                    println!(
                        "{}  {}  {}  created {}  last used {}  {}",
                        v["id"],
                        v["name"],
                        v["scope"],
                        v["created"],
                        v["last_used"],
                        if v["revoked"].is_null() {
                            "".to_owned()
                        } else {
                            format!("revoked {}", v["revoked"])
                        }
                    );
                }
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            if !store
                .revoke_api_token(&id, headmaster_server::clock::now_ms())
                .await?
            {
                bail!("no unrevoked token {id:?}; `headmaster-server token list` shows them");
            }
            println!("revoked token {id}");
            Ok(())
        }
    }
}

/// `access export`.
pub async fn access(
    command: AccessCommand,
    data: &DataDir,
    database: &str,
    json: bool,
) -> anyhow::Result<()> {
    let AccessCommand::Export { out } = command;
    let (store, key) = data.open_store(database).await?;
    let server_key = data.server_key()?;
    let summary = headmaster_server::access::export(&*store, &key, &server_key, &out, &mut |n| {
        if !json {
            eprint!("\rexported {n} entries");
        }
    })
    .await?;
    if json {
        println!(
            "{}",
            serde_json::json!({"path": summary.path, "events": summary.event_count, "key": summary.device_key_fingerprint})
        );
    } else {
        eprintln!();
        println!(
            "exported {} access-log entries to {}, signed by {}",
            summary.event_count,
            summary.path.display(),
            summary.device_key_fingerprint
        );
    }
    Ok(())
}

/// `sink add|list|remove|dead-letters`.
pub async fn sink(
    command: SinkCommand,
    data: &DataDir,
    database: &str,
    json: bool,
) -> anyhow::Result<()> {
    let (store, key) = data.open_store(database).await?;
    match command {
        SinkCommand::Add {
            target,
            name,
            ca,
            token_file,
            from_now,
        } => {
            let read = |path: &PathBuf, what: &str| {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the {what} {}: {e}", path.display()))
            };
            let spec = SinkSpec {
                target,
                name,
                ca_pem: ca.as_ref().map(|p| read(p, "CA file")).transpose()?,
                token: token_file
                    .as_ref()
                    .map(|p| read(p, "token file"))
                    .transpose()?,
                from_now,
            };
            let id = sink::add(&*store, &key, spec)
                .await
                .map_err(anyhow::Error::msg)?;
            if json {
                println!("{}", serde_json::json!({ "id": id }));
            } else {
                println!("added sink {id}; running servers start pushing it within seconds");
            }
        }
        SinkCommand::List => {
            let views = sink::views(&*store).await?;
            if json {
                println!("{}", serde_json::to_string(&views)?);
            } else if views.is_empty() {
                println!(
                    "no sinks; add one with `headmaster-server sink add syslog+tls://HOST:PORT`"
                );
            } else {
                for v in &views {
                    print_sink(v);
                }
            }
        }
        SinkCommand::Remove { id } => {
            if !store
                .remove_sink(&id, headmaster_server::clock::now_ms())
                .await?
            {
                bail!("no sink {id:?} in service; `headmaster-server sink list` shows them");
            }
            println!("removed sink {id}");
        }
        SinkCommand::DeadLetters { id } => {
            let rows = store.dead_letters(&id).await?;
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "event_uid": r.event_uid, "reason": r.reason,
                            "time": headmaster_server::clock::rfc3339(r.time_ms),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for r in rows {
                    let time = headmaster_server::clock::rfc3339(r.time_ms);
                    println!("{time}  {}  {}", r.event_uid, r.reason);
                }
            }
        }
    }
    Ok(())
}

/// One sink, as `sink list` and `status` print it.
pub fn print_sink(v: &sink::SinkView) {
    let pending = v
        .pending
        .map(|n| n.to_string())
        .unwrap_or_else(|| "?".into());
    println!(
        "  {} {} {}  delivered {}  pending {pending}  dead letters {}",
        v.id, v.kind, v.target, v.delivered, v.dead_letters
    );
    if let Some(error) = &v.last_error.as_ref().filter(|_| v.failures > 0) {
        println!(
            "    failing ({} in a row) since {}: {error}",
            v.failures,
            v.last_error_at.as_deref().unwrap_or("?")
        );
    }
}
