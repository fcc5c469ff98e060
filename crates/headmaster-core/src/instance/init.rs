//! Creating an installation (`headmaster init`, the desktop's first-run setup).
//!
//! Init either completes or leaves nothing behind: the KEK is stored (or derived) before any
//! file is created, the instance row — whose presence means "initialized" — is written in the
//! same transaction as the first Admin, and any failure removes what was created, including
//! the keychain entry.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::{Config, Environment, Instance};
use crate::access::{Role, Scope};
use crate::audit::{Actor, DeviceKey, NewEvent, Outcome, Source};
use crate::clock::SharedClock;
use crate::error::{Error, Result};
use crate::identity::password::{check_password, normalize_username};
use crate::identity::users;
use crate::ids::{InstanceId, UserId};
use crate::store::{self, DbKind, Layout};
use crate::vault::keys::{Key256, SecretBytes};
use crate::vault::protect::{self, derive_kek, kek_check, KdfParams, MIN_PASSPHRASE_LEN};
use crate::vault::seal::Aad;
use crate::vault::{Keychain, Protection, Vault, VaultError, INSTANCE_SCOPE};

/// What `init` needs.
#[derive(Debug)]
pub struct InitConfig {
    /// Organisation name (also the first workspace's name).
    pub org_name: String,
    /// The first Admin's username.
    pub admin_username: String,
    /// The first Admin's password.
    pub admin_password: SecretBytes,
    /// How the KEK is protected.
    pub protection: Protection,
    /// The passphrase, in passphrase mode.
    pub passphrase: Option<SecretBytes>,
    /// Where the request came from (for the audit log).
    pub source: Source,
}

impl Instance {
    /// Creates a new installation in `layout`'s data directory and returns it unlocked.
    pub async fn init(
        layout: Layout,
        config: InitConfig,
        env: Environment,
    ) -> Result<Arc<Instance>> {
        let Environment {
            keychain,
            clock,
            config: tunables,
        } = env;
        let home = layout.home().display().to_string();
        if matches!(
            super::status(&layout).await?,
            super::InstanceStatus::Present { .. }
        ) {
            return Err(Error::AlreadyInitialized { home });
        }
        let org_name = validate_name("organisation name", &config.org_name)?;
        let admin_username = normalize_username(&config.admin_username)?;
        check_password(&config.admin_password)?;
        let id = InstanceId::new();
        let instance_id = id.to_string();
        let kek_version = 1u32;
        let (kek, kdf) = match config.protection {
            Protection::Keychain => {
                let kek = Key256::random();
                let kc = keychain.clone();
                let stored = Key256::from_slice(kek.dangerously_expose()).expect("32 bytes");
                let iid = instance_id.clone();
                tokio::task::spawn_blocking(move || kc.store(&iid, kek_version, &stored))
                    .await
                    .map_err(|e| VaultError::KeychainUnavailable(e.to_string()))??;
                (kek, None)
            }
            Protection::Passphrase => {
                let passphrase = config
                    .passphrase
                    .as_ref()
                    .ok_or(VaultError::PassphraseRequired)?;
                if String::from_utf8_lossy(passphrase.dangerously_expose())
                    .chars()
                    .count()
                    < MIN_PASSPHRASE_LEN
                {
                    return Err(VaultError::WeakPassphrase(MIN_PASSPHRASE_LEN).into());
                }
                let params = KdfParams::generate();
                let pass = SecretBytes::new(passphrase.dangerously_expose().to_vec());
                let p2 = params.clone();
                let kek = tokio::task::spawn_blocking(move || derive_kek(&pass, &p2))
                    .await
                    .map_err(|e| VaultError::Corrupt(e.to_string()))??;
                (kek, Some(params))
            }
        };
        let result = create(Creation {
            layout: &layout,
            id,
            kek,
            kek_version,
            kdf,
            org_name: &org_name,
            admin_username: &admin_username,
            config: &config,
            keychain: keychain.clone(),
            clock,
            tunables,
        })
        .await;
        if result.is_err() {
            cleanup(
                &layout,
                &keychain,
                &instance_id,
                kek_version,
                config.protection,
            )
            .await;
        }
        result
    }
}

/// Everything `create` writes a new instance from: where, its id, the key-encryption key (and
/// the passphrase's KDF parameters), the validated names, the request, and the runtime parts.
struct Creation<'a> {
    layout: &'a Layout,
    id: InstanceId,
    kek: Key256,
    kek_version: u32,
    kdf: Option<KdfParams>,
    org_name: &'a str,
    admin_username: &'a str,
    config: &'a InitConfig,
    keychain: Keychain,
    clock: SharedClock,
    tunables: Config,
}

async fn create(creation: Creation<'_>) -> Result<Arc<Instance>> {
    let Creation {
        layout,
        id,
        kek,
        kek_version,
        kdf,
        org_name,
        admin_username,
        config,
        keychain,
        clock,
        tunables,
    } = creation;
    std::fs::create_dir_all(layout.home()).map_err(|e| store::StoreError::Directory {
        path: layout.home().display().to_string(),
        reason: format!("cannot create it: {e}; choose a writable --home"),
    })?;
    let instance_id = id.to_string();
    let pool = store::open(&layout.instance_db(), DbKind::Instance, true).await?;
    let check = kek_check(&kek, &instance_id, kek_version);
    let device_seed = Key256::random();
    let device_wrapped = protect::wrap(
        &kek,
        kek_version,
        &instance_id,
        "instance/device/1",
        &device_seed,
    );
    let vault = Vault::new(&instance_id, kek_version, kek, pool.clone(), clock.clone());
    vault.create_scope(INSTANCE_SCOPE).await?;
    let now = clock.now_ms();
    sqlx::query(
        "INSERT INTO wrapped_keys (scope, purpose, version, wrapped, kek_version, created_at)
         VALUES ('instance', 'device', 1, ?, ?, ?)",
    )
    .bind(&device_wrapped)
    .bind(kek_version as i64)
    .bind(now)
    .execute(&pool)
    .await?;
    let org_sealed = vault
        .seal(
            &Aad::new(INSTANCE_SCOPE, "instance", "org_name", &instance_id),
            org_name.as_bytes(),
        )
        .await?;
    let admin_id = UserId::new();
    let new_user = users::NewUser::prepare(
        &vault,
        admin_id,
        admin_username,
        &config.admin_password,
        Role::Admin,
    )
    .await?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO instance (id, protection, kdf_m_kib, kdf_t, kdf_p, kdf_salt, kek_version, kek_check,
             kek_rotated_at, org_name, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&instance_id)
    .bind(config.protection.as_str())
    .bind(kdf.as_ref().map(|k| k.m_kib as i64))
    .bind(kdf.as_ref().map(|k| k.t as i64))
    .bind(kdf.as_ref().map(|k| k.p as i64))
    .bind(kdf.as_ref().map(|k| k.salt.clone()))
    .bind(kek_version as i64)
    .bind(&check)
    .bind(now)
    .bind(&org_sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    new_user.insert(&mut tx, now).await?;
    tx.commit().await?;

    let instance = Arc::new(Instance {
        layout: layout.clone(),
        id,
        pool,
        vault,
        device: DeviceKey::from_seed(&device_seed),
        clock,
        protection: config.protection,
        keychain,
        workspace_pools: Mutex::new(Default::default()),
        events: tokio::sync::broadcast::channel(256).0,
        policies: std::sync::Mutex::new(Default::default()),
        run_slots: crate::runtime::Slots::new(tunables.max_concurrent_runs),
        config: tunables,
    });
    let system = Actor::system();
    instance
        .record(
            Scope::Org,
            NewEvent::new(
                system.clone(),
                "instance.initialized",
                Outcome::Allowed,
                &config.source,
            )
            .payload(serde_json::json!({ "protection": config.protection.as_str() })),
        )
        .await?;
    instance
        .record(
            Scope::Org,
            NewEvent::new(system, "user.created", Outcome::Allowed, &config.source)
                .target(admin_id)
                .payload(
                    serde_json::json!({ "user_id": admin_id.to_string(), "org_role": "admin" }),
                ),
        )
        .await?;
    instance
        .create_workspace_record(org_name, admin_id, &Actor::user(admin_id), &config.source)
        .await?;
    Ok(instance)
}

async fn cleanup(
    layout: &Layout,
    keychain: &Keychain,
    instance_id: &str,
    kek_version: u32,
    protection: Protection,
) {
    for file in Layout::database_files(&layout.instance_db()) {
        let _ = std::fs::remove_file(file);
    }
    let _ = std::fs::remove_dir_all(layout.home().join("workspaces"));
    let _ = std::fs::remove_dir_all(layout.home().join("files"));
    if protection == Protection::Keychain {
        let kc = keychain.clone();
        let iid = instance_id.to_string();
        let _ = tokio::task::spawn_blocking(move || kc.delete(&iid, kek_version)).await;
    }
}

/// Validates a free-text name (organisation, workspace, role): trimmed, 1–80 characters, no
/// control characters.
pub(crate) fn validate_name(what: &str, raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "invalid {what} {raw:?}: use 1–80 printable characters"
        )));
    }
    Ok(name.to_string())
}
