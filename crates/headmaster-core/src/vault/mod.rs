//! Envelope encryption at rest.
//!
//! - The key-encryption key (KEK) is held in the OS keychain or derived from a passphrase
//!   ([`protect`]); it is never written to the data directory.
//! - Each scope (the instance, and every workspace) has versioned AES-256-GCM data keys and an
//!   HMAC key for blind indexes, all stored only wrapped by the KEK in the instance database
//!   ([`keyset`]).
//! - Each data subject (a user) has a key of their own for personal data; destroying it is how
//!   erasure works (crypto-shredding).
//! - Values are sealed with [`seal`]'s format, bound to scope, table, column and row.

mod admin;
mod kek;
pub mod keys;
mod keyset;
mod lease;
pub mod protect;
pub mod rotation;
pub mod seal;

pub use admin::{
    no_progress, DueReason, KeyScope, KeysStatus, RotationDue, RotationReport, ScopeStatus,
    VersionStatus, DEFAULT_ROTATION_DAYS, RETIRE_GRACE_MS,
};

use std::collections::HashMap;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::SqlitePool;
use tokio::sync::RwLock;

use crate::clock::SharedClock;
use keys::Key256;
pub use keyset::{KeyVersionInfo, ScopeKeys, Series, ENCRYPTIONS_BEFORE_ROTATION};
pub use protect::{KdfParams, Keychain, Protection};
use seal::{Aad, KeyRef, OpenError};

/// A cached subject key (`None` once erased) and when it was loaded (ms).
type CachedSubject = (Option<Arc<Key256>>, i64);

/// How long a subject key stays cached (ms).
const SUBJECT_CACHE_MS: i64 = 5_000;

/// The scope name of the instance database.
pub const INSTANCE_SCOPE: &str = "instance";

/// Errors of the vault. Decryption failures are deliberately vague here; the audit log records
/// the precise place.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No usable keychain (no Secret Service on the session bus, or it refused access).
    #[error("keychain unavailable: {0}; start a keychain (Secret Service) in this session, or run `headmaster init --passphrase` to use a passphrase-derived key instead")]
    KeychainUnavailable(String),
    /// The keychain has no entry for this installation's KEK.
    #[error("the keychain has no key for this installation; it may have been deleted or belongs to another user account; restore the keychain from a backup")]
    KeychainEntryMissing,
    /// The passphrase does not derive the right KEK.
    #[error("wrong passphrase; nothing was changed; try again")]
    WrongPassphrase,
    /// Passphrase mode needs a passphrase to unlock.
    #[error("this installation's keys are protected by a passphrase; enter it (scripts set HEADMASTER_PASSPHRASE)")]
    PassphraseRequired,
    /// The passphrase is too short to protect keys.
    #[error("the passphrase must have at least {0} characters")]
    WeakPassphrase(usize),
    /// The keychain KEK does not match this installation.
    #[error(
        "the key in the keychain does not belong to this installation's data; nothing was changed"
    )]
    WrongKek,
    /// A sealed value did not open.
    #[error("stored data could not be decrypted: it was altered, moved, or its key is gone")]
    Decrypt,
    /// The value belongs to an erased data subject.
    #[error("this personal data was erased")]
    Erased,
    /// A sealed value names a key version this scope does not have.
    #[error("stored data names key version {0}, which this installation does not have")]
    UnknownKeyVersion(u32),
    /// Stored key data is inconsistent.
    #[error("key store is inconsistent: {0}")]
    Corrupt(String),
    /// A database error.
    #[error("database error in the key store: {0}")]
    Store(#[from] sqlx::Error),
}

/// The unlocked key hierarchy of one installation.
pub struct Vault {
    instance: String,
    kek: RwLock<(u32, Arc<Key256>)>,
    pool: SqlitePool,
    clock: SharedClock,
    scopes: RwLock<HashMap<String, Arc<ScopeKeys>>>,
    subjects: RwLock<HashMap<String, CachedSubject>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// A vault over the instance database `pool`, unlocked with `kek` (already checked).
    pub fn new(
        instance: &str,
        kek_version: u32,
        kek: Key256,
        pool: SqlitePool,
        clock: SharedClock,
    ) -> Self {
        Self {
            instance: instance.to_string(),
            kek: RwLock::new((kek_version, Arc::new(kek))),
            pool,
            clock,
            scopes: RwLock::new(HashMap::new()),
            subjects: RwLock::new(HashMap::new()),
        }
    }

    /// The installation id the keys are bound to.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The keys of `scope`, loaded (and cached) from the instance database.
    ///
    /// Also keeps the current keys' encryption reservations topped up, and creates a new key
    /// version once the current one reached [`ENCRYPTIONS_BEFORE_ROTATION`].
    pub async fn keys(&self, scope: &str) -> Result<Arc<ScopeKeys>, VaultError> {
        let mut keys = self.cached_or_load(scope).await?;
        if keys.needs_reservation() {
            let exhausted = keys.reserve(&self.pool).await?;
            if !exhausted.is_empty() {
                for series in exhausted {
                    self.add_version(scope, series).await?;
                }
                keys = self.cached_or_load(scope).await?;
                keys.reserve(&self.pool).await?;
            }
        }
        Ok(keys)
    }

    /// Adds a new version to a key series of `scope` in a transaction of its own and drops
    /// the cached keys (a version whose encryption budget ran out).
    async fn add_version(&self, scope: &str, series: Series) -> Result<u32, VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let version = keyset::next_version(&mut tx, scope, series).await?;
        self.add_version_in(&mut tx, scope, series, version).await?;
        tx.commit().await?;
        self.scopes.write().await.remove(scope);
        Ok(version)
    }

    /// The version the next key of a series of `scope` will get.
    pub(crate) async fn next_version(
        &self,
        scope: &str,
        series: Series,
    ) -> Result<u32, VaultError> {
        let mut conn = self.pool.acquire().await?;
        keyset::next_version(&mut conn, scope, series).await
    }

    /// Adds version `version` to a key series of `scope` inside the caller's instance
    /// transaction (a rotation, with its audit event). The caller drops the cached keys
    /// ([`forget_scope`](Self::forget_scope)) after the commit.
    pub(crate) async fn add_version_in(
        &self,
        conn: &mut sqlx::SqliteConnection,
        scope: &str,
        series: Series,
        version: u32,
    ) -> Result<(), VaultError> {
        let (kek_version, kek) = self.kek.read().await.clone();
        keyset::add_version(
            conn,
            keyset::Wrapping {
                instance: &self.instance,
                kek: &kek,
                kek_version,
                now_ms: self.clock.now_ms(),
            },
            scope,
            series,
            version,
        )
        .await
    }

    /// The data and audit key versions of a scope.
    pub async fn versions(&self, scope: &str) -> Result<Vec<KeyVersionInfo>, VaultError> {
        keyset::versions(&self.pool, scope).await
    }

    /// Drops the cached keys of one scope.
    pub async fn forget_scope(&self, scope: &str) {
        self.scopes.write().await.remove(scope);
    }

    async fn cached_or_load(&self, scope: &str) -> Result<Arc<ScopeKeys>, VaultError> {
        if let Some(keys) = self.scopes.read().await.get(scope) {
            if keys.is_fresh(self.clock.now_ms()) {
                return Ok(keys.clone());
            }
        }
        let (_, kek) = self.kek.read().await.clone();
        let loaded = Arc::new(
            ScopeKeys::load(&self.pool, &self.instance, scope, &kek, self.clock.now_ms()).await?,
        );
        self.scopes
            .write()
            .await
            .insert(scope.to_string(), loaded.clone());
        Ok(loaded)
    }

    /// Creates the first data, audit and index keys of a new scope.
    pub async fn create_scope(&self, scope: &str) -> Result<(), VaultError> {
        let (kek_version, kek) = self.kek.read().await.clone();
        keyset::create_scope(
            &self.pool,
            &self.instance,
            scope,
            &kek,
            kek_version,
            self.clock.now_ms(),
        )
        .await
    }

    /// Seals `plaintext` under the scope's current data key.
    pub async fn seal(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let keys = self.keys(aad.scope).await?;
        keys.seal_now(aad, plaintext)
    }

    /// Seals personal data of `subject` under that subject's own key, so that erasing the
    /// subject makes it unreadable everywhere.
    pub async fn seal_personal(
        &self,
        subject: &str,
        aad: &Aad<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        let key = self.subject_key(subject).await?.ok_or(VaultError::Erased)?;
        let id = subject_bytes(subject)?;
        Ok(seal::seal_with(&key, KeyRef::Subject(id), aad, plaintext))
    }

    /// Opens a sealed value, whichever key it names.
    pub async fn open(&self, aad: &Aad<'_>, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        match seal::key_ref(sealed).map_err(|_| VaultError::Decrypt)? {
            key_ref @ (KeyRef::DataKey(_) | KeyRef::AuditKey(_)) => {
                let mut keys = self.keys(aad.scope).await?;
                if !keys.has(key_ref) {
                    // Another process may have rotated since we cached the keys.
                    self.scopes.write().await.remove(aad.scope);
                    keys = self.keys(aad.scope).await?;
                }
                keys.open(key_ref, aad, sealed)
            }
            KeyRef::Subject(id) => {
                let subject = uuid::Uuid::from_bytes(id).hyphenated().to_string();
                let key = self
                    .subject_key(&subject)
                    .await?
                    .ok_or(VaultError::Erased)?;
                seal::open_with(&key, aad, sealed).map_err(|e| match e {
                    OpenError::Malformed | OpenError::Authentication => VaultError::Decrypt,
                })
            }
        }
    }

    /// Opens a sealed UTF-8 string.
    pub async fn open_string(&self, aad: &Aad<'_>, sealed: &[u8]) -> Result<String, VaultError> {
        String::from_utf8(self.open(aad, sealed).await?).map_err(|_| VaultError::Decrypt)
    }

    /// A blind index of `value` for equality search on a sealed field: HMAC-SHA256 under the
    /// scope's index key, with the field named so equal values in different fields differ.
    pub async fn blind_index(
        &self,
        scope: &str,
        field: &str,
        value: &str,
    ) -> Result<Vec<u8>, VaultError> {
        let keys = self.keys(scope).await?;
        Ok(keys.blind_index(field, value))
    }

    /// The key of data subject `subject` (created on first use); `None` once erased.
    ///
    /// Cached for a few seconds only, so that an erasure made by another process takes effect
    /// here promptly.
    pub async fn subject_key(&self, subject: &str) -> Result<Option<Arc<Key256>>, VaultError> {
        let now = self.clock.now_ms();
        if let Some((cached, loaded_at)) = self.subjects.read().await.get(subject) {
            if now - loaded_at < SUBJECT_CACHE_MS {
                return Ok(cached.clone());
            }
        }
        let (kek_version, kek) = self.kek.read().await.clone();
        let key = keyset::subject_key(&self.pool, &self.instance, subject, &kek, kek_version, now)
            .await?
            .map(Arc::new);
        self.subjects
            .write()
            .await
            .insert(subject.to_string(), (key.clone(), now));
        Ok(key)
    }

    /// The current KEK and its version (for re-wrapping).
    pub(crate) async fn kek_snapshot(&self) -> (u32, Arc<Key256>) {
        self.kek.read().await.clone()
    }

    /// Replaces the KEK after a KEK rotation.
    pub(crate) async fn set_kek(&self, version: u32, kek: Key256) {
        *self.kek.write().await = (version, Arc::new(kek));
    }

    /// Drops a subject's cached key (after erasure).
    pub(crate) async fn forget_subject(&self, subject: &str) {
        self.subjects.write().await.remove(subject);
    }

    /// Drops cached keys so the next use reloads them from the database.
    pub async fn forget_cached(&self) {
        self.scopes.write().await.clear();
        self.subjects.write().await.clear();
    }
}

/// Computes an HMAC-SHA256 blind index with an index key.
pub(crate) fn hmac_index(key: &Key256, field: &str, value: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.dangerously_expose())
        .expect("HMAC accepts any key length");
    mac.update(&(field.len() as u32).to_be_bytes());
    mac.update(field.as_bytes());
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn subject_bytes(subject: &str) -> Result<[u8; 16], VaultError> {
    uuid::Uuid::parse_str(subject)
        .map(|u| *u.as_bytes())
        .map_err(|_| VaultError::Corrupt(format!("data subject id {subject} is not a UUID")))
}
