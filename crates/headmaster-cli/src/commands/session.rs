//! `headmaster login`, `logout`, `whoami`.

use std::io::{IsTerminal, Write};

use clap::Args;

use crate::context::{read_secret, Context};
use crate::output::print_json;

/// Arguments of `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username (default: HEADMASTER_USER, or asked).
    #[arg(long)]
    user: Option<String>,
}

/// Signs in and stores the session (sealed) for later commands.
pub async fn login(ctx: &Context, args: LoginArgs) -> anyhow::Result<()> {
    let instance = ctx.open().await?;
    let username = match args.user.or_else(|| std::env::var("HEADMASTER_USER").ok()) {
        Some(user) => user,
        None => prompt_line("Username: ")?,
    };
    let password = read_secret("HEADMASTER_PASSWORD", "Password: ")?;
    let signed = instance.sign_in(&username, &password, ctx.source()).await?;
    ctx.store_token(&instance, &signed.token).await?;
    if ctx.json {
        print_json(&serde_json::json!({
            "username": signed.session.username,
            "expires_at": headmaster_core::clock::rfc3339_ms(signed.session.expires_at),
        }))?;
    } else {
        println!(
            "Signed in as {} until {}.",
            signed.session.username,
            headmaster_core::clock::rfc3339_ms(signed.session.expires_at)
        );
    }
    Ok(())
}

/// Ends the stored session.
pub async fn logout(ctx: &Context) -> anyhow::Result<()> {
    let instance = ctx.open().await?;
    let Some(token) = instance.load_cli_token().await? else {
        return Err(headmaster_core::Error::NotSignedIn.into());
    };
    let result = match instance.resume(&token, ctx.source()).await {
        Ok(session) => instance
            .sign_out(&session)
            .await
            .map_err(anyhow::Error::from),
        Err(headmaster_core::Error::SessionExpired) => Ok(()),
        Err(e) => Err(e.into()),
    };
    instance.clear_cli_token()?;
    result?;
    if ctx.json {
        print_json(&serde_json::json!({ "signed_out": true }))?;
    } else {
        println!("Signed out.");
    }
    Ok(())
}

/// Prints who is signed in.
pub async fn whoami(ctx: &Context) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let me = instance.whoami(&session).await?;
    if ctx.json {
        print_json(&me)?;
    } else {
        println!("{} ({} of {})", me.username, me.org_role, me.org_name);
        println!("session ends {}", me.session_expires_at);
        for w in &me.workspaces {
            println!("  {:<24} {}", w.name, w.role);
        }
    }
    Ok(())
}

fn prompt_line(prompt: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no username given; pass --user or set HEADMASTER_USER");
    }
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_string())
}
