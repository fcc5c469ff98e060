//! The `headmaster-server` binary: parse the command line, call one function, print the result.

mod feeds;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use headmaster_server::admin;
use headmaster_server::data::DataDir;
use headmaster_server::tls::CertFiles;

/// The shared on-prem Headmaster server.
#[derive(Debug, Parser)]
#[command(name = "headmaster-server", version)]
struct Cli {
    /// Data directory (keys, certificate, default database).
    #[arg(long, env = "HEADMASTER_SERVER_DATA", global = true)]
    data: Option<PathBuf>,
    /// Database URL: sqlite://PATH (default: server.db in the data directory) or
    /// postgres://USER@HOST/DB.
    #[arg(long, env = "HEADMASTER_SERVER_DATABASE", global = true)]
    database: Option<String>,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Makes the data directory, the keys and a self-signed certificate; prints the SPKI pin.
    Init(CertArgs),
    /// Serves the API over TLS 1.3 (initialising the data directory on first start).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// How long to wait for the database at start before giving up, in seconds.
        #[arg(long, default_value_t = 30)]
        database_wait: u64,
        #[command(flatten)]
        cert: CertArgs,
    },
    /// Enrollment tokens.
    #[command(subcommand)]
    Enroll(EnrollCommand),
    /// Enrolled devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Devices, their chains, quarantined uploads, recent refusals and sinks.
    Status,
    /// Read-only API tokens (for the SIEM).
    #[command(subcommand)]
    Token(feeds::TokenCommand),
    /// The server's own access log.
    #[command(subcommand)]
    Access(feeds::AccessCommand),
    /// Push sinks: the SIEM feed forwarded over syslog+TLS or to Splunk HEC.
    #[command(subcommand)]
    Sink(feeds::SinkCommand),
}

#[derive(Debug, clap::Args)]
struct CertArgs {
    /// PEM certificate chain to serve instead of the self-signed one (with --key).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Extra host names or IP addresses for the self-signed certificate.
    #[arg(long = "name")]
    names: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum EnrollCommand {
    /// Prints a one-time enrollment token.
    Create {
        /// How long the token works: 30m, 24h, 7d.
        #[arg(long, default_value = "24h")]
        expires: String,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Lists enrolled devices.
    List,
    /// Revokes a device (by id or fingerprint): it is refused from the next request on.
    Revoke {
        /// Device id or `SHA256:` fingerprint.
        id: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HEADMASTER_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let json = cli.json;
    let runtime = tokio::runtime::Runtime::new().expect("the tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if json {
                let error = serde_json::json!({"error": {"code": "server.error", "message": format!("{e:#}")}});
                eprintln!("{error}");
            } else {
                eprintln!("error: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let data = DataDir::new(cli.data.clone().unwrap_or_else(DataDir::default_root));
    let database = cli
        .database
        .clone()
        .unwrap_or_else(|| data.default_database_url());
    match cli.command {
        Command::Init(cert) => {
            let identity = data.init(&cert_names(&cert.names), own_cert(&cert).as_ref())?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "data": data.root(), "created": identity.created,
                        "fingerprint": identity.fingerprint, "public_key": identity.public_key,
                        "pin": identity.pin,
                    })
                );
            } else {
                if identity.created.is_empty() {
                    println!("{} was initialised already", data.root().display());
                } else {
                    println!(
                        "made {} in {}",
                        identity.created.join(", "),
                        data.root().display()
                    );
                }
                println!("server key  {}", identity.fingerprint);
                println!("pin         {}", identity.pin);
                println!("desktops join with: headmaster server join https://HOST:PORT --pin {} --token TOKEN", identity.pin);
            }
            Ok(())
        }
        Command::Serve {
            listen,
            database_wait,
            cert,
        } => serve(&data, &database, listen, database_wait, &cert).await,
        Command::Enroll(EnrollCommand::Create { expires }) => {
            let valid_ms = admin::parse_duration(&expires).map_err(anyhow::Error::msg)?;
            let (store, _) = data.open_store(&database).await?;
            let token = admin::create_enroll_token(&*store, valid_ms).await?;
            if cli.json {
                println!("{}", serde_json::to_string(&token)?);
            } else {
                println!("{}", token.token);
                eprintln!(
                    "one-time enrollment token, valid until {}; it is shown only now",
                    token.expires
                );
            }
            Ok(())
        }
        Command::Device(DeviceCommand::List) => {
            let (store, key) = data.open_store(&database).await?;
            let devices = admin::devices(&*store, &key).await?;
            if cli.json {
                println!("{}", serde_json::to_string(&devices)?);
            } else if devices.is_empty() {
                println!(
                    "no devices enrolled; make a token with `headmaster-server enroll create`"
                );
            } else {
                for d in devices {
                    let state = match &d.revoked {
                        Some(t) => format!("revoked {t}"),
                        None => format!("last seen {}", d.last_seen.as_deref().unwrap_or("never")),
                    };
                    println!(
                        "{}  {}  {}  enrolled {}  {state}",
                        d.id, d.fingerprint, d.name, d.enrolled
                    );
                }
            }
            Ok(())
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            let (store, key) = data.open_store(&database).await?;
            let Some(device) = store
                .revoke_device(&id, headmaster_server::clock::now_ms())
                .await?
            else {
                bail!(
                    "no device {id:?}; `headmaster-server device list` shows ids and fingerprints"
                );
            };
            let view = admin::DeviceView::of(&device, &key);
            if cli.json {
                println!("{}", serde_json::to_string(&view)?);
            } else {
                println!(
                    "revoked {} ({}); its requests are refused from now on",
                    view.name, view.fingerprint
                );
            }
            Ok(())
        }
        Command::Token(command) => feeds::token(command, &data, &database, cli.json).await,
        Command::Access(command) => feeds::access(command, &data, &database, cli.json).await,
        Command::Sink(command) => feeds::sink(command, &data, &database, cli.json).await,
        Command::Status => {
            let (store, key) = data.open_store(&database).await?;
            let status = admin::status(&*store, &key).await?;
            if cli.json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                print_status(&status);
            }
            Ok(())
        }
    }
}

async fn serve(
    data: &DataDir,
    database: &str,
    listen: SocketAddr,
    wait_s: u64,
    cert: &CertArgs,
) -> anyhow::Result<()> {
    let own = own_cert(cert);
    let identity = data.init(&cert_names(&cert.names), own.as_ref())?;
    if !identity.created.is_empty() {
        eprintln!(
            "made {} in {}",
            identity.created.join(", "),
            data.root().display()
        );
    }
    let state = open_waiting(data, database, own, Duration::from_secs(wait_s)).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; is another server running there?"))?;
    let addr = listener.local_addr()?;
    println!("listening on {addr}");
    println!("pin {}", state.cert.pin());
    println!("backend {}", state.store.backend());
    let reload_state = state.clone();
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            match reload_state.cert.reload() {
                Ok(pin) => tracing::info!(%pin, "certificate reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "certificate reload failed; the old one stays in service")
                }
            }
        }
    });
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM can be handled");
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
        tracing::info!("shutting down");
    };
    headmaster_server::serve::serve(state, listener, shutdown).await?;
    Ok(())
}

/// Opens the server, retrying while the database is unreachable for up to `wait`.
async fn open_waiting(
    data: &DataDir,
    database: &str,
    own: Option<CertFiles>,
    wait: Duration,
) -> anyhow::Result<headmaster_server::api::State> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut delay = Duration::from_millis(250);
    loop {
        match data.open(database, own.clone()).await {
            Ok(state) => return Ok(state),
            Err(headmaster_server::data::DataError::Store(e))
                if tokio::time::Instant::now() < deadline =>
            {
                eprintln!("waiting for the database: {e}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e).context("the server could not start"),
        }
    }
}

fn own_cert(cert: &CertArgs) -> Option<CertFiles> {
    match (&cert.cert, &cert.key) {
        (Some(cert), Some(key)) => Some(CertFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    }
}

/// The names of a self-signed certificate: this machine's host name, loopback, and any given.
fn cert_names(extra: &[String]) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && !names.iter().any(|n| n == host) {
            names.push(host.to_owned());
        }
    }
    for name in extra {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn print_status(status: &admin::Status) {
    println!("backend {}", status.backend);
    println!("{} device(s)", status.devices.len());
    for d in &status.devices {
        let state = match &d.device.revoked {
            Some(t) => format!("revoked {t}"),
            None => format!(
                "last seen {}",
                d.device.last_seen.as_deref().unwrap_or("never")
            ),
        };
        println!(
            "  {} {} ({}) {state}",
            d.device.name, d.device.fingerprint, d.device.id
        );
        for c in &d.chains {
            let lag = c
                .lag_seconds
                .map(|s| format!("{s} s ago"))
                .unwrap_or_else(|| "never".into());
            println!(
                "    {:<40} seq {:>8}  last upload {lag}",
                c.scope, c.last_seq
            );
        }
    }
    if status.quarantined.is_empty() {
        println!("no quarantined uploads");
    } else {
        println!(
            "{} quarantined upload(s): an Admin must look at them",
            status.quarantined.len()
        );
        for q in &status.quarantined {
            println!(
                "  {} {} device {} scope {} at seq {} (segment {}..{}) received {}",
                q.id, q.kind, q.device_id, q.scope, q.seq, q.first_seq, q.last_seq, q.received
            );
        }
    }
    if !status.recent_refusals.is_empty() {
        println!("recent refusals:");
        for r in &status.recent_refusals {
            println!("  {} {} {}", r.time, r.code, r.detail);
        }
    }
    if !status.sinks.is_empty() {
        println!("{} sink(s):", status.sinks.len());
        for v in &status.sinks {
            feeds::print_sink(v);
        }
    }
}
