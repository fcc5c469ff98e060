//! The keys of one scope, and the subject keys, as stored (wrapped) in the instance database.
//!
//! Data keys carry a version; new values are sealed under the newest one. Every encryption is
//! counted against the key: AES-GCM with random 96-bit nonces must not exceed 2^32 encryptions
//! per key (NIST SP 800-38D), so a new version is created after 2^31, leaving a wide margin.
//! Counting every encryption in the database would cost a write per seal, so a process reserves
//! encryptions in blocks (the stored count is therefore an upper bound, which is the safe side).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Row, SqlitePool};

use super::keys::Key256;
use super::protect::{unwrap, wrap};
use super::seal::{self, Aad, KeyRef};
use super::{hmac_index, VaultError};

/// A new data-key version is created once this many encryptions were reserved under the current.
pub const ENCRYPTIONS_BEFORE_ROTATION: u64 = 1 << 31;
/// Encryptions reserved in the database at a time.
const RESERVATION_BLOCK: u64 = 1 << 16;
/// Below this many reserved-but-unused encryptions, the next `Vault::keys` reserves more.
const LOW_WATER: u64 = 4096;
/// Cached keys are re-checked against the database after this long, so a rotation made by
/// another process (the CLI while the desktop app runs) is picked up quickly.
const FRESH_FOR_MS: i64 = 5_000;

/// A data-key version as listed by `keys status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersionInfo {
    /// The version number.
    pub version: u32,
    /// Creation time (ms).
    pub created_at: i64,
    /// When a newer version took over (ms).
    pub retired_at: Option<i64>,
    /// Encryptions reserved under this version.
    pub encryptions: u64,
}

/// The unwrapped keys of one scope.
pub struct ScopeKeys {
    scope: String,
    current: u32,
    data: BTreeMap<u32, Key256>,
    index: Key256,
    loaded_at: i64,
    used: AtomicU64,
    reserved: AtomicU64,
    reserved_total: AtomicU64,
}

impl std::fmt::Debug for ScopeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeKeys")
            .field("scope", &self.scope)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl ScopeKeys {
    pub(super) async fn load(
        pool: &SqlitePool,
        instance: &str,
        scope: &str,
        kek: &Key256,
        _kek_version: u32,
        now_ms: i64,
    ) -> Result<Self, VaultError> {
        let rows = sqlx::query(
            "SELECT purpose, version, wrapped, encryptions FROM wrapped_keys
             WHERE scope = ? AND purpose IN ('data', 'index') ORDER BY version",
        )
        .bind(scope)
        .fetch_all(pool)
        .await?;
        let mut data = BTreeMap::new();
        let mut index = None;
        let mut current_count = 0u64;
        for row in rows {
            let purpose: String = row.get(0);
            let version: i64 = row.get(1);
            let wrapped: Vec<u8> = row.get(2);
            let count: i64 = row.get(3);
            let version = u32::try_from(version)
                .map_err(|_| VaultError::Corrupt(format!("key version {version} out of range")))?;
            let key = unwrap(kek, instance, &label(scope, &purpose, version), &wrapped)?;
            if purpose == "data" {
                data.insert(version, key);
                current_count = count.max(0) as u64;
            } else {
                index = Some(key);
            }
        }
        let current = *data.keys().next_back().ok_or_else(|| {
            VaultError::Corrupt(format!(
                "no data key for scope {scope}; the workspace's keys were destroyed"
            ))
        })?;
        let index =
            index.ok_or_else(|| VaultError::Corrupt(format!("no index key for scope {scope}")))?;
        Ok(Self {
            scope: scope.to_string(),
            current,
            data,
            index,
            loaded_at: now_ms,
            used: AtomicU64::new(0),
            reserved: AtomicU64::new(0),
            reserved_total: AtomicU64::new(current_count),
        })
    }

    /// The version new values are sealed under.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Whether this scope has (still) the given data-key version.
    pub fn has_version(&self, version: u32) -> bool {
        self.data.contains_key(&version)
    }

    pub(super) fn is_fresh(&self, now_ms: i64) -> bool {
        now_ms - self.loaded_at < FRESH_FOR_MS
    }

    fn headroom(&self) -> u64 {
        self.reserved
            .load(Ordering::SeqCst)
            .saturating_sub(self.used.load(Ordering::SeqCst))
    }

    /// Reserves more encryptions for the current version; returns whether the version has
    /// reached its rotation limit.
    pub(super) async fn reserve(&self, pool: &SqlitePool) -> Result<bool, VaultError> {
        let total: i64 = sqlx::query_scalar(
            "UPDATE wrapped_keys SET encryptions = encryptions + ?
             WHERE scope = ? AND purpose = 'data' AND version = ? RETURNING encryptions",
        )
        .bind(RESERVATION_BLOCK as i64)
        .bind(&self.scope)
        .bind(self.current as i64)
        .fetch_one(pool)
        .await?;
        self.reserved.fetch_add(RESERVATION_BLOCK, Ordering::SeqCst);
        self.reserved_total.store(total as u64, Ordering::SeqCst);
        Ok(total as u64 >= ENCRYPTIONS_BEFORE_ROTATION)
    }

    /// Seals under the current version. Never touches the database, so it is safe inside a
    /// write transaction; `Vault::keys` keeps the reservation topped up beforehand.
    pub fn seal_now(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let n = self.used.fetch_add(1, Ordering::SeqCst) + 1;
        if n > self.reserved.load(Ordering::SeqCst) {
            return Err(VaultError::Corrupt(
                "encryption budget of the current key exhausted; reload the keys".into(),
            ));
        }
        let key = self
            .data
            .get(&self.current)
            .expect("current version is loaded");
        Ok(seal::seal_with(
            key,
            KeyRef::DataKey(self.current),
            aad,
            plaintext,
        ))
    }

    /// Opens a value sealed under data-key `version`.
    pub fn open(&self, version: u32, aad: &Aad<'_>, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        let key = self
            .data
            .get(&version)
            .ok_or(VaultError::UnknownKeyVersion(version))?;
        seal::open_with(key, aad, sealed).map_err(|_| VaultError::Decrypt)
    }

    /// Blind index of `value` in `field`.
    pub fn blind_index(&self, field: &str, value: &str) -> Vec<u8> {
        hmac_index(&self.index, field, value)
    }

    pub(super) fn needs_reservation(&self) -> bool {
        self.headroom() < LOW_WATER
    }
}

/// The wrapping label of a key: binds the wrapped bytes to scope, purpose and version.
pub(super) fn label(scope: &str, purpose: &str, version: u32) -> String {
    format!("{scope}/{purpose}/{version}")
}

/// Creates version 1 of the data key and the index key of a new scope.
pub(super) async fn create_scope(
    pool: &SqlitePool,
    instance: &str,
    scope: &str,
    kek: &Key256,
    kek_version: u32,
    now_ms: i64,
) -> Result<(), VaultError> {
    let mut tx = pool.begin().await?;
    for purpose in ["data", "index"] {
        let key = Key256::random();
        sqlx::query(
            "INSERT INTO wrapped_keys (scope, purpose, version, wrapped, kek_version, created_at)
             VALUES (?, ?, 1, ?, ?, ?)",
        )
        .bind(scope)
        .bind(purpose)
        .bind(wrap(
            kek,
            kek_version,
            instance,
            &label(scope, purpose, 1),
            &key,
        ))
        .bind(kek_version as i64)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Adds a new data-key version for `scope`; the previous version is marked retired (kept for
/// reading until re-encryption has moved every row off it).
pub(super) async fn add_data_version(
    pool: &SqlitePool,
    instance: &str,
    scope: &str,
    kek: &Key256,
    kek_version: u32,
    now_ms: i64,
) -> Result<u32, VaultError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let newest: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(version) FROM wrapped_keys WHERE scope = ? AND purpose = 'data'",
    )
    .bind(scope)
    .fetch_one(&mut *tx)
    .await?;
    let newest =
        newest.ok_or_else(|| VaultError::Corrupt(format!("no data key for scope {scope}")))?;
    let version = u32::try_from(newest + 1)
        .map_err(|_| VaultError::Corrupt("key versions exhausted".into()))?;
    let key = Key256::random();
    sqlx::query("UPDATE wrapped_keys SET retired_at = ? WHERE scope = ? AND purpose = 'data' AND retired_at IS NULL")
        .bind(now_ms)
        .bind(scope)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO wrapped_keys (scope, purpose, version, wrapped, kek_version, created_at)
         VALUES (?, 'data', ?, ?, ?, ?)",
    )
    .bind(scope)
    .bind(version as i64)
    .bind(wrap(
        kek,
        kek_version,
        instance,
        &label(scope, "data", version),
        &key,
    ))
    .bind(kek_version as i64)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// Loads, or creates on first use, the key of data subject `subject`. `None` once erased.
pub(super) async fn subject_key(
    pool: &SqlitePool,
    instance: &str,
    subject: &str,
    kek: &Key256,
    kek_version: u32,
    now_ms: i64,
) -> Result<Option<Key256>, VaultError> {
    let label = label(subject, "subject", 1);
    let existing: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT wrapped FROM wrapped_keys WHERE scope = ? AND purpose = 'subject' AND version = 1",
    )
    .bind(subject)
    .fetch_optional(pool)
    .await?;
    if let Some(wrapped) = existing {
        return Ok(Some(unwrap(kek, instance, &label, &wrapped)?));
    }
    if is_erased(pool, subject).await? {
        return Ok(None);
    }
    let key = Key256::random();
    sqlx::query(
        "INSERT INTO wrapped_keys (scope, purpose, version, wrapped, kek_version, created_at)
         VALUES (?, 'subject', 1, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(subject)
    .bind(wrap(kek, kek_version, instance, &label, &key))
    .bind(kek_version as i64)
    .bind(now_ms)
    .execute(pool)
    .await?;
    // Another process may have won the race; read back whichever key is stored.
    let stored: Vec<u8> = sqlx::query_scalar(
        "SELECT wrapped FROM wrapped_keys WHERE scope = ? AND purpose = 'subject' AND version = 1",
    )
    .bind(subject)
    .fetch_one(pool)
    .await?;
    Ok(Some(unwrap(kek, instance, &label, &stored)?))
}

async fn is_erased(pool: &SqlitePool, subject: &str) -> Result<bool, VaultError> {
    let erased: Option<i64> = sqlx::query_scalar("SELECT erased_at FROM users WHERE id = ?")
        .bind(subject)
        .fetch_optional(pool)
        .await?
        .flatten();
    Ok(erased.is_some())
}

/// Lists the data-key versions of a scope.
pub(super) async fn versions(
    pool: &SqlitePool,
    scope: &str,
) -> Result<Vec<KeyVersionInfo>, VaultError> {
    let rows = sqlx::query(
        "SELECT version, created_at, retired_at, encryptions FROM wrapped_keys
         WHERE scope = ? AND purpose = 'data' ORDER BY version",
    )
    .bind(scope)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| KeyVersionInfo {
            version: row.get::<i64, _>(0) as u32,
            created_at: row.get(1),
            retired_at: row.get(2),
            encryptions: row.get::<i64, _>(3).max(0) as u64,
        })
        .collect())
}
