//! What every command needs: the data directory, unlocking it, and a session.
//!
//! Unlocking: keychain-protected instances unlock by themselves; passphrase-protected ones take
//! `HEADMASTER_PASSPHRASE` or prompt for it without echo.
//!
//! Sessions: with `HEADMASTER_USER` and `HEADMASTER_PASSWORD` set, every command signs in
//! afresh (scripts); otherwise the session `headmaster login` stored (sealed, mode 0600) is used.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use headmaster_core::audit::Source;
use headmaster_core::identity::SessionToken;
use headmaster_core::instance::{status, Environment, InstanceStatus};
use headmaster_core::maintenance::Work;
use headmaster_core::store::{default_home, Layout};
use headmaster_core::vault::keys::SecretBytes;
use headmaster_core::vault::{DueReason, Protection};
use headmaster_core::{Error, Instance, Session, Unlock};

/// The CLI's user agent, recorded with every audited action.
pub const USER_AGENT: &str = concat!("headmaster-cli/", env!("CARGO_PKG_VERSION"));

/// Per-invocation context.
#[derive(Debug)]
pub struct Context {
    /// The data directory.
    pub layout: Layout,
    /// `--workspace`.
    pub workspace: Option<String>,
    /// `--json`.
    pub json: bool,
}

impl Context {
    /// Builds the context from the global flags.
    pub fn new(home: Option<PathBuf>, workspace: Option<String>, json: bool) -> Self {
        Self {
            layout: Layout::new(home.unwrap_or_else(default_home)),
            workspace,
            json,
        }
    }

    /// The request source of this invocation.
    pub fn source(&self) -> Source {
        Source::local("cli", USER_AGENT)
    }

    /// Opens and unlocks the instance.
    pub async fn open(&self) -> anyhow::Result<Arc<Instance>> {
        let passphrase = match status(&self.layout).await? {
            InstanceStatus::Missing => {
                return Err(Error::NotInitialized {
                    home: self.layout.home().display().to_string(),
                }
                .into())
            }
            InstanceStatus::Present { protection, .. } => match protection {
                Protection::Passphrase => {
                    Some(read_secret("HEADMASTER_PASSPHRASE", "Passphrase: ")?)
                }
                Protection::Keychain => None,
            },
        };
        let instance = Instance::open(
            self.layout.clone(),
            Unlock { passphrase },
            Environment::from_env()?,
        )
        .await?;
        // A quick maintenance pass at every start: audit events a crash left between two
        // databases reach their chain, due requests expire, old audit events are archived (a
        // few queries when nothing is due). Re-encryption can take minutes, so it never runs
        // before an unrelated command: the user is told when it is due, and `keys maintain`
        // does it with a progress bar (the desktop app does it in the background).
        // A failing step never stops the command the user asked for: it is reported, and the
        // next command (or `keys maintain`) tries again.
        let report = instance
            .maintain(
                &self.source(),
                Work::Quick,
                &headmaster_core::vault::no_progress,
            )
            .await;
        if !self.json {
            match report {
                Ok(report) => {
                    for due in &report.due {
                        let why = match due.reason {
                            DueReason::Interrupted => "a rotation was interrupted".to_string(),
                            DueReason::Age => {
                                format!("its data key is {} days old", due.key_age_days)
                            }
                        };
                        eprintln!(
                            "note: the keys of {} are due for re-encryption ({why}); run `headmaster keys maintain` (or open the desktop app, which does it in the background)",
                            due.scope
                        );
                    }
                    for p in &report.problems {
                        eprintln!(
                            "warning: maintenance could not finish {} ({}): {}",
                            p.step, p.scope, p.message
                        );
                    }
                }
                Err(e) => eprintln!("warning: maintenance could not run: {e}"),
            }
        }
        Ok(instance)
    }

    /// Opens the instance and obtains a session.
    pub async fn signed_in(&self) -> anyhow::Result<(Arc<Instance>, Session)> {
        let instance = self.open().await?;
        let session = self.session(&instance).await?;
        Ok((instance, session))
    }

    async fn session(&self, instance: &Instance) -> anyhow::Result<Session> {
        if let (Ok(user), Ok(password)) = (
            std::env::var("HEADMASTER_USER"),
            std::env::var("HEADMASTER_PASSWORD"),
        ) {
            let signed = instance
                .sign_in(&user, &SecretBytes::from(password), self.source())
                .await?;
            return Ok(signed.session);
        }
        let Some(token) = instance.load_cli_token().await? else {
            return Err(Error::NotSignedIn.into());
        };
        Ok(instance.resume(&token, self.source()).await?)
    }

    /// Prints the result of a command: `value` as JSON with `--json`, else `text`.
    pub fn done<T: serde::Serialize>(&self, value: &T, text: &str) -> anyhow::Result<()> {
        if self.json {
            crate::output::print_json(value)
        } else {
            println!("{text}");
            Ok(())
        }
    }

    /// Stores the session token for later invocations.
    pub async fn store_token(
        &self,
        instance: &Instance,
        token: &SessionToken,
    ) -> anyhow::Result<()> {
        instance
            .store_cli_token(token)
            .await
            .context("cannot store the session")?;
        Ok(())
    }
}

/// Reads a secret from `var`, or prompts for it without echo on a terminal.
pub fn read_secret(var: &str, prompt: &str) -> anyhow::Result<SecretBytes> {
    if let Ok(value) = std::env::var(var) {
        return Ok(SecretBytes::from(value));
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{var} is not set and there is no terminal to ask on; set {var}");
    }
    let value = rpassword::prompt_password(prompt).context("cannot read from the terminal")?;
    Ok(SecretBytes::from(value))
}
