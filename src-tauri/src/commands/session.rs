//! Setup, unlock, sign-in, sign-out, who-am-I.

use headmaster_core::identity::WhoAmI;
use headmaster_core::instance::{status, Environment, InstanceStatus};
use headmaster_core::vault::keys::SecretBytes;
use headmaster_core::vault::Protection;
use headmaster_core::{InitConfig, Instance, Unlock};
use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};

use crate::dto::{AppStatus, CommandError, CommandResult};
use crate::state::AppState;

/// Where the app stands: setup needed, locked, signed out or signed in. Keychain-protected
/// instances are unlocked here, at start, without asking anything.
#[tauri::command]
pub async fn app_status<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<AppStatus> {
    let home = state.layout.home().display().to_string();
    if let Some(instance) = state.instance.read().await.clone() {
        let signed_in = state.session.read().await.is_some();
        return Ok(AppStatus {
            state: if signed_in { "signed_in" } else { "signed_out" },
            protection: Some(instance.protection().as_str()),
            org_name: Some(instance.org_name().await?),
            home,
        });
    }
    match status(&state.layout).await? {
        InstanceStatus::Missing => Ok(AppStatus {
            state: "setup",
            protection: None,
            org_name: None,
            home,
        }),
        InstanceStatus::Present {
            protection: Protection::Passphrase,
            ..
        } => Ok(AppStatus {
            state: "locked",
            protection: Some("passphrase"),
            org_name: None,
            home,
        }),
        InstanceStatus::Present {
            protection: Protection::Keychain,
            ..
        } => {
            let instance = Instance::open(
                state.layout.clone(),
                Unlock::default(),
                Environment::from_env()?,
            )
            .await?;
            let org_name = instance.org_name().await?;
            state.unlocked(&app, instance).await;
            Ok(AppStatus {
                state: "signed_out",
                protection: Some("keychain"),
                org_name: Some(org_name),
                home,
            })
        }
    }
}

/// The first-run form.
#[derive(Debug, Deserialize)]
pub struct SetupRequest {
    org_name: String,
    username: String,
    password: String,
    protection: String,
    passphrase: Option<String>,
}

/// Creates the instance; the user signs in next.
#[tauri::command]
pub async fn setup<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: SetupRequest,
) -> CommandResult<AppStatus> {
    let protection = Protection::parse(&request.protection).ok_or_else(|| {
        CommandError::new(
            "invalid_input",
            "key protection must be keychain or passphrase",
        )
    })?;
    let instance = Instance::init(
        state.layout.clone(),
        InitConfig {
            org_name: request.org_name,
            admin_username: request.username,
            admin_password: SecretBytes::from(request.password),
            protection,
            passphrase: request.passphrase.map(SecretBytes::from),
            source: state.source(),
        },
        Environment::from_env()?,
    )
    .await?;
    let org_name = instance.org_name().await?;
    state.unlocked(&app, instance).await;
    Ok(AppStatus {
        state: "signed_out",
        protection: Some(protection.as_str()),
        org_name: Some(org_name),
        home: state.layout.home().display().to_string(),
    })
}

/// Unlocks a passphrase-protected instance.
#[tauri::command]
pub async fn unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: String,
) -> CommandResult<AppStatus> {
    let instance = Instance::open(
        state.layout.clone(),
        Unlock {
            passphrase: Some(SecretBytes::from(passphrase)),
        },
        Environment::from_env()?,
    )
    .await?;
    let org_name = instance.org_name().await?;
    state.unlocked(&app, instance).await;
    Ok(AppStatus {
        state: "signed_out",
        protection: Some("passphrase"),
        org_name: Some(org_name),
        home: state.layout.home().display().to_string(),
    })
}

/// Signs in.
#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> CommandResult<WhoAmI> {
    let instance = state.instance().await?;
    let signed = instance
        .sign_in(&username, &SecretBytes::from(password), state.source())
        .await?;
    let me = instance.whoami(&signed.session).await?;
    *state.session.write().await = Some(signed.session);
    Ok(me)
}

/// Signs out.
#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CommandResult<()> {
    let (instance, session) = state.signed_in().await?;
    *state.session.write().await = None;
    match instance.sign_out(&session).await {
        Ok(()) | Err(headmaster_core::Error::SessionExpired) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Who is signed in.
#[tauri::command]
pub async fn whoami(state: State<'_, AppState>) -> CommandResult<WhoAmI> {
    let (instance, session) = state.signed_in().await?;
    state.settle(instance.whoami(&session).await).await
}
