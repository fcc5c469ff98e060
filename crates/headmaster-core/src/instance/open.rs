//! Finding and unlocking an existing installation.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::{Environment, Instance};
use crate::audit::DeviceKey;
use crate::error::{Error, Result};
use crate::ids::InstanceId;
use crate::store::{self, DbKind, Layout, StoreError};
use crate::vault::keys::SecretBytes;
use crate::vault::protect::{self, derive_kek, kek_matches, KdfParams};
use crate::vault::seal::Aad;
use crate::vault::{Protection, Vault, VaultError, INSTANCE_SCOPE};

/// Whether a data directory holds an installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceStatus {
    /// Nothing there yet: first-run setup.
    Missing,
    /// An installation, locked.
    Present {
        /// Its id.
        id: String,
        /// How its KEK is protected (decides whether to ask for a passphrase).
        protection: Protection,
    },
}

/// How to unlock.
#[derive(Debug, Default)]
pub struct Unlock {
    /// The passphrase, for passphrase-protected installations.
    pub passphrase: Option<SecretBytes>,
}

/// Looks at a data directory without unlocking anything.
pub async fn status(layout: &Layout) -> Result<InstanceStatus> {
    let db = layout.instance_db();
    match std::fs::metadata(layout.home()) {
        Ok(meta) if !meta.is_dir() => {
            return Err(StoreError::Directory {
                path: layout.home().display().to_string(),
                reason: "is not a directory; choose another --home".into(),
            }
            .into())
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(InstanceStatus::Missing),
        Err(e) => {
            return Err(StoreError::Directory {
                path: layout.home().display().to_string(),
                reason: format!("cannot be read: {e}; check its permissions"),
            }
            .into())
        }
    }
    match std::fs::File::open(&db) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(InstanceStatus::Missing),
        Err(e) => {
            return Err(StoreError::Directory {
                path: db.display().to_string(),
                reason: format!("cannot be read: {e}; check its permissions"),
            }
            .into())
        }
    }
    let pool = store::open(&db, DbKind::Instance, false).await?;
    let row = sqlx::query_as::<_, (String, String)>("SELECT id, protection FROM instance")
        .fetch_optional(&pool)
        .await
        .map_err(StoreError::Query)?;
    pool.close().await;
    Ok(match row {
        None => InstanceStatus::Missing,
        Some((id, protection)) => InstanceStatus::Present {
            id,
            protection: Protection::parse(&protection).ok_or_else(|| {
                VaultError::Corrupt(format!("unknown key protection {protection:?}"))
            })?,
        },
    })
}

/// What `Instance::open` reads.
#[derive(sqlx::FromRow)]
struct InstanceRow {
    id: String,
    protection: String,
    kdf_m_kib: Option<i64>,
    kdf_t: Option<i64>,
    kdf_p: Option<i64>,
    kdf_salt: Option<Vec<u8>>,
    kek_version: i64,
    kek_check: Vec<u8>,
}

impl Instance {
    /// Opens and unlocks the installation in `layout`.
    pub async fn open(layout: Layout, unlock: Unlock, env: Environment) -> Result<Arc<Instance>> {
        let Environment {
            keychain,
            clock,
            config,
        } = env;
        if status(&layout).await? == InstanceStatus::Missing {
            return Err(Error::NotInitialized {
                home: layout.home().display().to_string(),
            });
        }
        let pool = store::open(&layout.instance_db(), DbKind::Instance, false).await?;
        let row = sqlx::query_as::<_, InstanceRow>(
            "SELECT id, protection, kdf_m_kib, kdf_t, kdf_p, kdf_salt, kek_version, kek_check FROM instance",
        )
        .fetch_one(&pool)
        .await?;
        let id_text = row.id;
        let id: InstanceId = id_text
            .parse()
            .map_err(|_| VaultError::Corrupt("instance id is not a UUID".into()))?;
        let protection_text = row.protection;
        let protection = Protection::parse(&protection_text).ok_or_else(|| {
            VaultError::Corrupt(format!("unknown key protection {protection_text:?}"))
        })?;
        let kek_version = row.kek_version as u32;
        let check = row.kek_check;
        let kek = match protection {
            Protection::Keychain => {
                let kc = keychain.clone();
                let iid = id_text.clone();
                let kek = tokio::task::spawn_blocking(move || kc.load(&iid, kek_version))
                    .await
                    .map_err(|e| VaultError::KeychainUnavailable(e.to_string()))??;
                if !kek_matches(&kek, &id_text, kek_version, &check) {
                    return Err(VaultError::WrongKek.into());
                }
                kek
            }
            Protection::Passphrase => {
                let passphrase = unlock.passphrase.ok_or(VaultError::PassphraseRequired)?;
                let params = KdfParams {
                    m_kib: row.kdf_m_kib.unwrap_or_default() as u32,
                    t: row.kdf_t.unwrap_or_default() as u32,
                    p: row.kdf_p.unwrap_or_default() as u32,
                    salt: row.kdf_salt.unwrap_or_default(),
                };
                let kek = tokio::task::spawn_blocking(move || derive_kek(&passphrase, &params))
                    .await
                    .map_err(|e| VaultError::Corrupt(e.to_string()))??;
                if !kek_matches(&kek, &id_text, kek_version, &check) {
                    return Err(VaultError::WrongPassphrase.into());
                }
                kek
            }
        };
        let device_wrapped: Vec<u8> = sqlx::query_scalar(
            "SELECT wrapped FROM wrapped_keys WHERE scope = 'instance' AND purpose = 'device' AND version = 1",
        )
        .fetch_one(&pool)
        .await?;
        let device_seed = protect::unwrap(&kek, &id_text, "instance/device/1", &device_wrapped)?;
        let vault = Vault::new(&id_text, kek_version, kek, pool.clone(), clock.clone());
        let run_slots = crate::runtime::Slots::new(config.max_concurrent_runs);
        let instance = Arc::new(Instance {
            layout,
            id,
            pool,
            vault,
            device: DeviceKey::from_seed(&device_seed),
            clock,
            protection,
            keychain,
            config,
            workspace_pools: Mutex::new(Default::default()),
            events: tokio::sync::broadcast::channel(256).0,
            policies: std::sync::Mutex::new(Default::default()),
            run_slots,
        });
        // Audit events a crash left between the instance database and a workspace chain
        // reach their chain before anything else happens (see `audit::relay`).
        if let Err(e) = instance.deliver_intents().await {
            tracing::warn!(error = %e, "audit events waiting for a workspace chain could not be delivered yet");
        }
        Ok(instance)
    }

    /// The organisation's name.
    pub async fn org_name(&self) -> Result<String> {
        let sealed: Vec<u8> = sqlx::query_scalar("SELECT org_name FROM instance")
            .fetch_one(&self.pool)
            .await?;
        let id = self.id.to_string();
        Ok(self
            .vault
            .open_string(
                &Aad::new(INSTANCE_SCOPE, "instance", "org_name", &id),
                &sealed,
            )
            .await?)
    }
}
