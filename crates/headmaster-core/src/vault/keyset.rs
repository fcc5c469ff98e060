//! The keys of one scope, and the subject keys, as stored (wrapped) in the instance database.
//!
//! A scope has two versioned key series — `data` for mutable rows (re-encrypted and retired on
//! rotation) and `audit` for audit rows (hashed as stored, so never re-encrypted: old audit
//! versions stay, decrypt-only) — and one HMAC key for blind indexes. New values are sealed under
//! the newest version of their series.
//!
//! Every encryption is counted against its key: AES-GCM with random 96-bit nonces must not
//! exceed 2^32 encryptions per key (NIST SP 800-38D), so a new version is created after 2^31,
//! leaving a wide margin. Counting every encryption in the database would cost a write per seal,
//! so a process reserves encryptions in blocks (the stored count is an upper bound: the safe side).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{SqliteConnection, SqlitePool};

use super::keys::Key256;
use super::protect::{unwrap, wrap};
use super::seal::{self, Aad, KeyRef};
use super::{hmac_index, VaultError};

/// A new key version is created once this many encryptions were reserved under the current.
pub const ENCRYPTIONS_BEFORE_ROTATION: u64 = 1 << 31;
/// Encryptions reserved in the database at a time.
const RESERVATION_BLOCK: u64 = 1 << 16;
/// Below this many reserved-but-unused encryptions, the next `Vault::keys` reserves more.
const LOW_WATER: u64 = 4096;
/// Cached keys are re-checked against the database after this long, so a rotation made by
/// another process (the CLI while the desktop app runs) is picked up quickly.
const FRESH_FOR_MS: i64 = 5_000;

/// Which versioned series a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Mutable rows.
    Data,
    /// Audit rows.
    Audit,
}

impl Series {
    /// The `purpose` column value.
    pub fn purpose(&self) -> &'static str {
        match self {
            Series::Data => "data",
            Series::Audit => "audit",
        }
    }

    fn key_ref(&self, version: u32) -> KeyRef {
        match self {
            Series::Data => KeyRef::DataKey(version),
            Series::Audit => KeyRef::AuditKey(version),
        }
    }
}

/// A key version as listed by `keys status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersionInfo {
    /// `data` or `audit`.
    pub purpose: String,
    /// The version number.
    pub version: u32,
    /// Creation time (ms).
    pub created_at: i64,
    /// When a newer version took over (ms).
    pub retired_at: Option<i64>,
    /// Encryptions reserved under this version.
    pub encryptions: u64,
}

struct Versions {
    series: Series,
    current: u32,
    current_created_at: i64,
    keys: BTreeMap<u32, seal::Cipher>,
    used: AtomicU64,
    reserved: AtomicU64,
}

impl Versions {
    fn headroom(&self) -> u64 {
        self.reserved
            .load(Ordering::SeqCst)
            .saturating_sub(self.used.load(Ordering::SeqCst))
    }

    fn seal(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        // Counting never fails a seal: a long transaction may run past its reservation, and the
        // next `Vault::keys` reserves enough to cover what was used. The 2^31 rotation point
        // leaves a margin of 2^31 below the 2^32 limit, far more than any overshoot.
        self.used.fetch_add(1, Ordering::SeqCst);
        let key = self
            .keys
            .get(&self.current)
            .expect("current version is loaded");
        Ok(seal::seal_with_cipher(
            key,
            self.series.key_ref(self.current),
            aad,
            plaintext,
        ))
    }
}

/// The unwrapped keys of one scope.
pub struct ScopeKeys {
    scope: String,
    data: Versions,
    audit: Versions,
    index: Key256,
    loaded_at: i64,
}

impl std::fmt::Debug for ScopeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeKeys")
            .field("scope", &self.scope)
            .field("data", &self.data.current)
            .field("audit", &self.audit.current)
            .finish_non_exhaustive()
    }
}

/// What `ScopeKeys::load` reads.
#[derive(sqlx::FromRow)]
struct WrappedKeyRow {
    purpose: String,
    version: i64,
    wrapped: Vec<u8>,
    created_at: i64,
}

impl ScopeKeys {
    pub(super) async fn load(
        pool: &SqlitePool,
        instance: &str,
        scope: &str,
        kek: &Key256,
        now_ms: i64,
    ) -> Result<Self, VaultError> {
        let rows = sqlx::query_as::<_, WrappedKeyRow>(
            "SELECT purpose, version, wrapped, created_at FROM wrapped_keys
             WHERE scope = ? AND purpose IN ('data', 'audit', 'index') ORDER BY version",
        )
        .bind(scope)
        .fetch_all(pool)
        .await?;
        let mut data = BTreeMap::new();
        let mut audit = BTreeMap::new();
        let mut created = (0i64, 0i64);
        let mut index = None;
        for WrappedKeyRow {
            purpose,
            version,
            wrapped,
            created_at,
        } in rows
        {
            let version = u32::try_from(version)
                .map_err(|_| VaultError::Corrupt(format!("key version {version} out of range")))?;
            let key = unwrap(kek, instance, &label(scope, &purpose, version), &wrapped)?;
            match purpose.as_str() {
                "data" => {
                    data.insert(version, key);
                    created.0 = created_at;
                }
                "audit" => {
                    audit.insert(version, key);
                    created.1 = created_at;
                }
                _ => index = Some(key),
            }
        }
        let gone = || {
            VaultError::Corrupt(format!(
                "no keys for scope {scope}; the workspace's keys were destroyed"
            ))
        };
        let versions =
            |series, keys: BTreeMap<u32, Key256>, created_at| -> Result<Versions, VaultError> {
                Ok(Versions {
                    series,
                    current: *keys.keys().next_back().ok_or_else(gone)?,
                    current_created_at: created_at,
                    // Expanded once per load; the raw keys are dropped (and wiped) here.
                    keys: keys
                        .into_iter()
                        .map(|(version, key)| (version, seal::Cipher::new(&key)))
                        .collect(),
                    used: AtomicU64::new(0),
                    reserved: AtomicU64::new(0),
                })
            };
        Ok(Self {
            scope: scope.to_string(),
            data: versions(Series::Data, data, created.0)?,
            audit: versions(Series::Audit, audit, created.1)?,
            index: index.ok_or_else(gone)?,
            loaded_at: now_ms,
        })
    }

    /// The data-key version new values are sealed under.
    pub fn current_version(&self) -> u32 {
        self.data.current
    }

    /// When the current data key was created (ms).
    pub fn current_created_at(&self) -> i64 {
        self.data.current_created_at
    }

    /// Whether this scope has (still) the given key version.
    pub fn has(&self, key_ref: KeyRef) -> bool {
        match key_ref {
            KeyRef::DataKey(v) => self.data.keys.contains_key(&v),
            KeyRef::AuditKey(v) => self.audit.keys.contains_key(&v),
            KeyRef::Subject(_) => false,
        }
    }

    pub(super) fn is_fresh(&self, now_ms: i64) -> bool {
        now_ms - self.loaded_at < FRESH_FOR_MS
    }

    pub(super) fn needs_reservation(&self) -> bool {
        self.data.headroom() < LOW_WATER || self.audit.headroom() < LOW_WATER
    }

    /// Reserves more encryptions for the series that run low; returns the series whose current
    /// version has reached its rotation limit.
    pub(super) async fn reserve(&self, pool: &SqlitePool) -> Result<Vec<Series>, VaultError> {
        let mut exhausted = Vec::new();
        for versions in [&self.data, &self.audit] {
            if versions.headroom() >= LOW_WATER {
                continue;
            }
            // Whole blocks covering any overshoot plus one more block of headroom.
            let used = versions.used.load(Ordering::SeqCst);
            let reserved = versions.reserved.load(Ordering::SeqCst);
            let block = (used.saturating_sub(reserved) / RESERVATION_BLOCK + 1) * RESERVATION_BLOCK;
            let total: i64 = sqlx::query_scalar(
                "UPDATE wrapped_keys SET encryptions = encryptions + ?
                 WHERE scope = ? AND purpose = ? AND version = ? RETURNING encryptions",
            )
            .bind(block as i64)
            .bind(&self.scope)
            .bind(versions.series.purpose())
            .bind(versions.current as i64)
            .fetch_one(pool)
            .await?;
            versions.reserved.fetch_add(block, Ordering::SeqCst);
            if total as u64 >= ENCRYPTIONS_BEFORE_ROTATION {
                exhausted.push(versions.series);
            }
        }
        Ok(exhausted)
    }

    /// Seals under the current data key. Never touches the database, so it is safe inside a
    /// write transaction; `Vault::keys` keeps the reservation topped up beforehand.
    pub fn seal_now(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.data.seal(aad, plaintext)
    }

    /// Seals an audit-row value under the current audit key.
    pub fn seal_audit_now(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.audit.seal(aad, plaintext)
    }

    /// Opens a value sealed under one of this scope's keys.
    pub fn open(
        &self,
        key_ref: KeyRef,
        aad: &Aad<'_>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        let key = match key_ref {
            KeyRef::DataKey(v) => self
                .data
                .keys
                .get(&v)
                .ok_or(VaultError::UnknownKeyVersion(v))?,
            KeyRef::AuditKey(v) => self
                .audit
                .keys
                .get(&v)
                .ok_or(VaultError::UnknownKeyVersion(v))?,
            KeyRef::Subject(_) => return Err(VaultError::Decrypt),
        };
        seal::open_with_cipher(key, aad, sealed).map_err(|_| VaultError::Decrypt)
    }

    /// Blind index of `value` in `field`.
    pub fn blind_index(&self, field: &str, value: &str) -> Vec<u8> {
        hmac_index(&self.index, field, value)
    }
}

/// The wrapping label of a key: binds the wrapped bytes to scope, purpose and version.
pub(super) fn label(scope: &str, purpose: &str, version: u32) -> String {
    format!("{scope}/{purpose}/{version}")
}

/// Creates version 1 of the data and audit keys and the index key of a new scope.
pub(super) async fn create_scope(
    pool: &SqlitePool,
    instance: &str,
    scope: &str,
    kek: &Key256,
    kek_version: u32,
    now_ms: i64,
) -> Result<(), VaultError> {
    let mut tx = pool.begin().await?;
    for purpose in ["data", "audit", "index"] {
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

/// The version a new key of a series of `scope` gets: one past the newest.
pub(super) async fn next_version(
    conn: &mut SqliteConnection,
    scope: &str,
    series: Series,
) -> Result<u32, VaultError> {
    let purpose = series.purpose();
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM wrapped_keys WHERE scope = ? AND purpose = ?")
            .bind(scope)
            .bind(purpose)
            .fetch_one(&mut *conn)
            .await?;
    let newest =
        newest.ok_or_else(|| VaultError::Corrupt(format!("no {purpose} key for scope {scope}")))?;
    u32::try_from(newest + 1).map_err(|_| VaultError::Corrupt("key versions exhausted".into()))
}

/// Adds version `version` to a series of `scope` inside the caller's transaction; the previous
/// version is marked retired (kept for reading until re-encryption has moved every row off it —
/// forever, for audit keys). A version that exists already (a concurrent rotation took it)
/// fails the insert, and with it the caller's transaction.
pub(super) async fn add_version(
    conn: &mut SqliteConnection,
    wrapping: Wrapping<'_>,
    scope: &str,
    series: Series,
    version: u32,
) -> Result<(), VaultError> {
    let Wrapping {
        instance,
        kek,
        kek_version,
        now_ms,
    } = wrapping;
    let purpose = series.purpose();
    let tx = conn;
    let key = Key256::random();
    sqlx::query("UPDATE wrapped_keys SET retired_at = ? WHERE scope = ? AND purpose = ? AND retired_at IS NULL")
        .bind(now_ms)
        .bind(scope)
        .bind(purpose)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO wrapped_keys (scope, purpose, version, wrapped, kek_version, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(scope)
    .bind(purpose)
    .bind(version as i64)
    .bind(wrap(
        kek,
        kek_version,
        instance,
        &label(scope, purpose, version),
        &key,
    ))
    .bind(kek_version as i64)
    .bind(now_ms)
    .execute(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => VaultError::Corrupt(format!(
            "{purpose} key version {version} of {scope} was created meanwhile by another rotation"
        )),
        _ => e.into(),
    })?;
    Ok(())
}

/// What wrapping a new key needs: the instance it is bound to, the key-encryption key and its
/// version, and the time the key is created.
#[derive(Clone, Copy)]
pub(super) struct Wrapping<'a> {
    pub instance: &'a str,
    pub kek: &'a Key256,
    pub kek_version: u32,
    pub now_ms: i64,
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
    let erased: Option<i64> = sqlx::query_scalar("SELECT erased_at FROM users WHERE id = ?")
        .bind(subject)
        .fetch_optional(pool)
        .await?
        .flatten();
    if erased.is_some() {
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

/// What `versions` reads.
#[derive(sqlx::FromRow)]
struct VersionRow {
    purpose: String,
    version: i64,
    created_at: i64,
    retired_at: Option<i64>,
    encryptions: i64,
}

/// Lists the data and audit key versions of a scope.
pub(super) async fn versions(
    pool: &SqlitePool,
    scope: &str,
) -> Result<Vec<KeyVersionInfo>, VaultError> {
    let rows = sqlx::query_as::<_, VersionRow>(
        "SELECT purpose, version, created_at, retired_at, encryptions FROM wrapped_keys
         WHERE scope = ? AND purpose IN ('data', 'audit') ORDER BY purpose DESC, version",
    )
    .bind(scope)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| KeyVersionInfo {
            purpose: row.purpose,
            version: row.version as u32,
            created_at: row.created_at,
            retired_at: row.retired_at,
            encryptions: row.encryptions.max(0) as u64,
        })
        .collect())
}
