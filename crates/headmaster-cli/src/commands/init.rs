//! `headmaster init`.

use clap::Args;
use headmaster_core::instance::Environment;
use headmaster_core::vault::Protection;
use headmaster_core::{InitConfig, Instance};

use crate::context::{read_secret, Context};
use crate::output::print_json;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Organisation name (also the first workspace's name).
    #[arg(long)]
    org: String,
    /// The first Admin's username.
    #[arg(long)]
    admin: String,
    /// Protect keys with a passphrase (asked now and at every start; HEADMASTER_PASSPHRASE for scripts).
    #[arg(long, conflicts_with = "keychain")]
    passphrase: bool,
    /// Keep the key-encryption key in the OS keychain (the default).
    #[arg(long)]
    keychain: bool,
}

/// Runs `init`. The Admin's password comes from HEADMASTER_PASSWORD or a prompt (asked twice).
pub async fn run(ctx: &Context, args: InitArgs) -> anyhow::Result<()> {
    let protection = if args.passphrase {
        Protection::Passphrase
    } else {
        Protection::Keychain
    };
    let admin_password = read_new_secret("HEADMASTER_PASSWORD", "Admin password")?;
    let passphrase = match protection {
        Protection::Passphrase => Some(read_new_secret("HEADMASTER_PASSPHRASE", "Key passphrase")?),
        Protection::Keychain => None,
    };
    let instance = Instance::init(
        ctx.layout.clone(),
        InitConfig {
            org_name: args.org,
            admin_username: args.admin,
            admin_password,
            protection,
            passphrase,
            source: ctx.source(),
        },
        Environment::from_env()?,
    )
    .await?;
    let org = instance.org_name().await?;
    if ctx.json {
        print_json(&serde_json::json!({
            "instance_id": instance.id().to_string(),
            "home": ctx.layout.home().display().to_string(),
            "org": org,
            "protection": protection.as_str(),
        }))?;
    } else {
        println!(
            "Created instance for {org} in {} (keys protected by {}).\nSign in with `headmaster login`.",
            ctx.layout.home().display(),
            protection.as_str()
        );
    }
    Ok(())
}

fn read_new_secret(
    var: &str,
    what: &str,
) -> anyhow::Result<headmaster_core::vault::keys::SecretBytes> {
    if std::env::var(var).is_ok() {
        return read_secret(var, "");
    }
    let first = read_secret(var, &format!("{what}: "))?;
    let second = read_secret(var, &format!("{what} (again): "))?;
    if first.dangerously_expose() != second.dangerously_expose() {
        anyhow::bail!("the two entries differ; nothing was created; try again");
    }
    Ok(first)
}
