//! Key administration as people and the app use it: status, data-key rotation with
//! re-encryption (resumable), retirement of unused versions, automatic rotation by age, and
//! KEK rotation.

use serde::Serialize;

use super::lease;
use super::rotation::{self, Progress, ProgressFn};
use super::{Protection, Series, INSTANCE_SCOPE};
use crate::access::{Capability, Scope};
use crate::audit::Change;
use crate::audit::{Actor, NewEvent, Outcome, Source};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::sealed::{SealedColumn, INSTANCE_SEALED, WORKSPACE_SEALED};
use crate::store::{self};

/// Data keys older than this are rotated automatically at start (the `key_rotation_days`
/// setting overrides it).
pub const DEFAULT_ROTATION_DAYS: i64 = 90;
/// An old data-key version is destroyed only this long after a newer one took over, so that a
/// second process still holding the old key in its cache (it re-reads keys every 5 s) cannot
/// write a row under a version that no longer exists.
pub const RETIRE_GRACE_MS: i64 = 15_000;

/// The refusal while another process (or task) re-encrypts `scope`.
fn busy(scope: &str) -> Error {
    Error::Conflict(format!(
        "the keys of {scope} are being rotated by another process (the desktop app or another command); it finishes on its own — check `headmaster keys status` in a moment"
    ))
}

/// Which key scope an operation targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    /// The instance database's keys.
    Instance,
    /// A workspace's keys.
    Workspace(WorkspaceId),
}

impl KeyScope {
    fn name(&self) -> String {
        match self {
            KeyScope::Instance => INSTANCE_SCOPE.to_string(),
            KeyScope::Workspace(w) => w.to_string(),
        }
    }
}

/// One key version in a status report.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VersionStatus {
    /// `data` or `audit`.
    #[ts(type = "\"data\" | \"audit\"")]
    pub purpose: String,
    /// Version number.
    pub version: u32,
    /// `active` (new writes), `retired` (re-encryption pending or grace running),
    /// `retained` (audit keys: kept to read the immutable log).
    #[ts(type = "\"active\" | \"retired\" | \"retained\"")]
    pub state: &'static str,
    /// Rows sealed under it (data keys).
    pub rows: Option<u64>,
    /// Encryptions reserved under it.
    pub encryptions: u64,
    /// Created, RFC 3339.
    pub created_at: String,
    /// Superseded, RFC 3339.
    pub retired_at: Option<String>,
}

/// The keys of one scope.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ScopeStatus {
    /// `instance` or the workspace id.
    pub scope: String,
    /// Display name.
    pub name: String,
    /// Versions.
    pub versions: Vec<VersionStatus>,
    /// Last rotation finished, RFC 3339.
    pub last_rotation: Option<String>,
    /// Whether a rotation is unfinished (crash or in progress).
    pub rotation_pending: bool,
    /// Whether the current data key is older than the rotation period.
    pub rotation_due: bool,
}

/// `headmaster keys status`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KeysStatus {
    /// `keychain` or `passphrase`.
    #[ts(type = "\"keychain\" | \"passphrase\"")]
    pub protection: &'static str,
    /// Whether the keychain answered just now (keychain mode).
    pub keychain_available: Option<bool>,
    /// KEK version.
    pub kek_version: u32,
    /// Last KEK rotation, RFC 3339.
    pub kek_rotated_at: String,
    /// Automatic rotation period.
    pub rotation_period_days: i64,
    /// Per-scope key versions.
    pub scopes: Vec<ScopeStatus>,
}

/// Re-encryption that maintenance has to do.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RotationDue {
    /// The key scope (`instance` or a workspace id).
    pub scope: String,
    /// Why.
    pub reason: DueReason,
    /// Age of the current data key (for an interrupted rotation: since it started), days.
    pub key_age_days: i64,
}

/// Why a scope's keys are due.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DueReason {
    /// A rotation was started and not finished (a crash, a killed process).
    Interrupted,
    /// The data key is older than the rotation period.
    Age,
}

/// What a rotation did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RotationReport {
    /// Scope rotated.
    pub scope: String,
    /// New data-key version.
    pub data_version: u32,
    /// Rows moved onto it.
    pub rows_reencrypted: u64,
    /// Old data-key versions destroyed.
    pub retired: Vec<u32>,
    /// Old versions with no rows left, destroyed after the grace period.
    pub awaiting_retirement: Vec<u32>,
}

impl Instance {
    /// The key status of the instance (Admins of the organisation) or of one workspace.
    pub async fn keys_status(
        &self,
        session: &Session,
        workspace: Option<WorkspaceId>,
    ) -> Result<KeysStatus> {
        let scopes = match workspace {
            Some(w) => {
                self.authorize(
                    session,
                    Scope::Workspace(w),
                    Capability::KeyManage,
                    "keys.status",
                )
                .await?;
                vec![KeyScope::Workspace(w)]
            }
            None => {
                self.authorize(session, Scope::Org, Capability::OrgSecurity, "keys.status")
                    .await?;
                let mut all = vec![KeyScope::Instance];
                for w in self.workspaces_of(session.user_id).await? {
                    if let Ok(id) = w.id.parse() {
                        if self
                            .role_in(session.user_id, id)
                            .await?
                            .is_some_and(|(_, c)| c.contains(Capability::KeyManage))
                        {
                            all.push(KeyScope::Workspace(id));
                        }
                    }
                }
                all
            }
        };
        let (kek_version, kek_rotated_at) =
            sqlx::query_as::<_, (i64, i64)>("SELECT kek_version, kek_rotated_at FROM instance")
                .fetch_one(&self.pool)
                .await?;
        let keychain_available = match self.protection {
            Protection::Keychain => {
                let kc = self.keychain.clone();
                let id = self.id.to_string();
                let version = kek_version as u32;
                Some(
                    tokio::task::spawn_blocking(move || kc.load(&id, version).is_ok())
                        .await
                        .unwrap_or(false),
                )
            }
            Protection::Passphrase => None,
        };
        let mut out = Vec::with_capacity(scopes.len());
        for scope in scopes {
            out.push(self.scope_status(scope).await?);
        }
        Ok(KeysStatus {
            protection: self.protection.as_str(),
            keychain_available,
            kek_version: kek_version as u32,
            kek_rotated_at: rfc3339_ms(kek_rotated_at),
            rotation_period_days: self.rotation_period_days().await?,
            scopes: out,
        })
    }

    async fn scope_status(&self, scope: KeyScope) -> Result<ScopeStatus> {
        let name = scope.name();
        let (pool, columns) = self.scope_store(scope).await?;
        let counts = rotation::count_by_version(&pool, columns).await?;
        let versions = self.vault.versions(&name).await?;
        let current_data = versions
            .iter()
            .filter(|v| v.purpose == "data")
            .map(|v| v.version)
            .max()
            .unwrap_or(0);
        let current_created = versions
            .iter()
            .find(|v| v.purpose == "data" && v.version == current_data)
            .map(|v| v.created_at)
            .unwrap_or(0);
        let (last_rotation, pending) = sqlx::query_as::<_, (Option<i64>, Option<i64>)>(
            "SELECT MAX(finished_at), SUM(finished_at IS NULL) FROM key_rotations WHERE scope = ?",
        )
        .bind(&name)
        .fetch_one(&self.pool)
        .await?;
        let period_ms = self.rotation_period_days().await? * 86_400_000;
        let display = match scope {
            KeyScope::Instance => "Organisation".to_string(),
            KeyScope::Workspace(w) => self
                .workspace_name(w)
                .await
                .unwrap_or_else(|_| w.to_string()),
        };
        Ok(ScopeStatus {
            scope: name,
            name: display,
            versions: versions
                .into_iter()
                .map(|v| {
                    let active = v.retired_at.is_none();
                    VersionStatus {
                        state: if active {
                            "active"
                        } else if v.purpose == "audit" {
                            "retained"
                        } else {
                            "retired"
                        },
                        rows: (v.purpose == "data")
                            .then(|| counts.get(&v.version).copied().unwrap_or(0)),
                        purpose: v.purpose,
                        version: v.version,
                        encryptions: v.encryptions,
                        created_at: rfc3339_ms(v.created_at),
                        retired_at: v.retired_at.map(rfc3339_ms),
                    }
                })
                .collect(),
            last_rotation: last_rotation.map(rfc3339_ms),
            rotation_pending: pending.unwrap_or(0) > 0,
            rotation_due: self.now() - current_created >= period_ms,
        })
    }

    /// Rotates the data and audit keys of a scope and re-encrypts its rows onto the new data key.
    pub async fn rotate_keys(
        &self,
        session: &Session,
        scope: KeyScope,
        progress: ProgressFn<'_>,
    ) -> Result<RotationReport> {
        match scope {
            KeyScope::Instance => {
                self.authorize(session, Scope::Org, Capability::OrgSecurity, "keys.rotate")
                    .await?
            }
            KeyScope::Workspace(w) => {
                self.authorize(
                    session,
                    Scope::Workspace(w),
                    Capability::KeyManage,
                    "keys.rotate",
                )
                .await?
            }
        };
        self.rotate_scope(
            scope,
            &Actor::user(session.user_id),
            &session.source,
            "manual",
            progress,
        )
        .await
    }

    /// Finishes rotations a crash interrupted, rotates scopes whose data key is older than the
    /// rotation period, and retires unused versions. Run by the system at start.
    pub async fn maintain_keys(
        &self,
        source: &Source,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<RotationReport>> {
        let mut reports = Vec::new();
        let pending: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, scope FROM key_rotations WHERE finished_at IS NULL ORDER BY started_at",
        )
        .fetch_all(&self.pool)
        .await?;
        for (id, scope_name) in pending {
            let owner = lease::Owner::new();
            if !self.claim_rotation(&id, &owner).await? {
                // Another process re-encrypts this scope now.
                continue;
            }
            let Some(scope) = self.key_scope(&scope_name).await? else {
                sqlx::query("UPDATE key_rotations SET finished_at = ? WHERE id = ?")
                    .bind(self.now())
                    .bind(&id)
                    .execute(&self.pool)
                    .await?;
                continue;
            };
            reports.push(
                self.finish_rotation(scope, &id, &owner, &Actor::system(), source, progress)
                    .await?,
            );
        }
        let period_ms = self.rotation_period_days().await? * 86_400_000;
        for scope in self.key_scopes().await? {
            let keys = self.vault.keys(&scope.name()).await?;
            if self.now() - keys.current_created_at() >= period_ms {
                match self
                    .rotate_scope(scope, &Actor::system(), source, "age", progress)
                    .await
                {
                    Ok(report) => reports.push(report),
                    // Another process rotates it now: that is the maintenance done.
                    Err(Error::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            } else {
                self.retire_unused(scope, &Actor::system(), source).await?;
            }
        }
        Ok(reports)
    }

    /// The re-encryption work maintenance would do now: rotations a crash interrupted and data
    /// keys older than the rotation period. Reads only; a few queries.
    pub async fn rotations_due(&self) -> Result<Vec<RotationDue>> {
        let mut due = Vec::new();
        let open: Vec<(String, i64)> = sqlx::query_as(
            "SELECT scope, started_at FROM key_rotations WHERE finished_at IS NULL ORDER BY started_at",
        )
        .fetch_all(&self.pool)
        .await?;
        for (scope, started_at) in &open {
            due.push(RotationDue {
                scope: scope.clone(),
                reason: DueReason::Interrupted,
                key_age_days: (self.now() - started_at) / 86_400_000,
            });
        }
        let period_ms = self.rotation_period_days().await? * 86_400_000;
        for scope in self.key_scopes().await? {
            let scope = scope.name();
            if open.iter().any(|(s, _)| *s == scope) {
                continue;
            }
            let age = self.now() - self.vault.keys(&scope).await?.current_created_at();
            if age >= period_ms {
                due.push(RotationDue {
                    scope,
                    reason: DueReason::Age,
                    key_age_days: age / 86_400_000,
                });
            }
        }
        Ok(due)
    }

    /// The instance's key scope and every workspace's.
    async fn key_scopes(&self) -> Result<Vec<KeyScope>> {
        let mut scopes = vec![KeyScope::Instance];
        scopes.extend(
            self.workspace_ids()
                .await?
                .into_iter()
                .map(KeyScope::Workspace),
        );
        Ok(scopes)
    }

    /// Destroys old data-key versions that no row uses any more, once the grace period passed.
    pub async fn retire_unused_keys(&self, session: &Session, scope: KeyScope) -> Result<Vec<u32>> {
        match scope {
            KeyScope::Instance => {
                self.authorize(session, Scope::Org, Capability::OrgSecurity, "keys.retire")
                    .await?
            }
            KeyScope::Workspace(w) => {
                self.authorize(
                    session,
                    Scope::Workspace(w),
                    Capability::KeyManage,
                    "keys.retire",
                )
                .await?
            }
        };
        Ok(self
            .retire_unused(scope, &Actor::user(session.user_id), &session.source)
            .await?
            .0)
    }

    async fn rotate_scope(
        &self,
        scope: KeyScope,
        actor: &Actor,
        source: &Source,
        reason: &str,
        progress: ProgressFn<'_>,
    ) -> Result<RotationReport> {
        let name = scope.name();
        let owner = lease::Owner::new();
        // An open rotation of the scope is finished instead of starting another (its target is
        // a new version too); one that a live process works on refuses.
        let open: Option<String> = sqlx::query_scalar(
            "SELECT id FROM key_rotations WHERE scope = ? AND finished_at IS NULL",
        )
        .bind(&name)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(open) = open {
            if !self.claim_rotation(&open, &owner).await? {
                return Err(busy(&name));
            }
            return self
                .finish_rotation(scope, &open, &owner, actor, source, progress)
                .await;
        }
        // The new versions, their rotation record and the event commit together; a concurrent
        // rotation that took the same version numbers, or opened a rotation of this scope
        // first, makes the insert (and all of it) fail.
        let data_version = self.vault.next_version(&name, Series::Data).await?;
        let audit_version = self.vault.next_version(&name, Series::Audit).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let event = NewEvent::new(actor.clone(), "key.rotation_started", Outcome::Allowed, source)
            .target(&name)
            .payload(serde_json::json!({ "data_version": data_version, "audit_version": audit_version, "reason": reason }));
        let mut tx = self.key_change(scope, event).await?;
        // The open rotation first: a process that lost the race to another one opening a
        // rotation of this scope is refused here as busy, before its version numbers collide.
        let opened = sqlx::query(
            "INSERT INTO key_rotations (id, scope, target_version, started_at, reason, lease_owner, lease_until)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&name)
        .bind(data_version as i64)
        .bind(self.now())
        .bind(reason)
        .bind(&*owner)
        .bind(self.now() + lease::LEASE_MS)
        .execute(&mut *tx)
        .await;
        match opened {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(busy(&name)),
            Err(e) => return Err(e.into()),
        }
        self.vault
            .add_version_in(&mut tx, &name, Series::Data, data_version)
            .await?;
        self.vault
            .add_version_in(&mut tx, &name, Series::Audit, audit_version)
            .await?;
        tx.commit().await?;
        self.vault.forget_scope(&name).await;
        self.finish_rotation(scope, &id, &owner, actor, source, progress)
            .await
    }

    async fn finish_rotation(
        &self,
        scope: KeyScope,
        rotation_id: &str,
        owner: &str,
        actor: &Actor,
        source: &Source,
        progress: ProgressFn<'_>,
    ) -> Result<RotationReport> {
        let name = scope.name();
        let (pool, columns) = self.scope_store(scope).await?;
        let rows = self
            .holding_rotation(rotation_id, owner, async {
                Ok(rotation::reencrypt(&self.vault, &pool, &name, columns, progress).await?)
            })
            .await?;
        let (retired, awaiting) = self.retire_unused(scope, actor, source).await?;
        let data_version = self.vault.keys(&name).await?.current_version();
        let event = NewEvent::new(actor.clone(), "key.rotated", Outcome::Allowed, source)
            .target(&name)
            .payload(serde_json::json!({
                "data_version": data_version,
                "rows_reencrypted": rows,
                "retired_versions": retired,
            }));
        let mut tx = self.key_change(scope, event).await?;
        let closed = sqlx::query(
            "UPDATE key_rotations SET finished_at = ?, rows_done = rows_done + ?, lease_owner = NULL, lease_until = NULL
             WHERE id = ? AND lease_owner = ?",
        )
        .bind(self.now())
        .bind(rows as i64)
        .bind(rotation_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed != 1 {
            // Another process took over the lapsed lease; it records the rotation's end.
            return Err(busy(&name));
        }
        tx.commit().await?;
        Ok(RotationReport {
            scope: name,
            data_version,
            rows_reencrypted: rows,
            retired,
            awaiting_retirement: awaiting,
        })
    }

    /// Deletes retired data-key versions with no rows, superseded at least the grace period ago,
    /// with one `key.retired` event. Returns (destroyed, waiting for the grace period).
    async fn retire_unused(
        &self,
        scope: KeyScope,
        actor: &Actor,
        source: &Source,
    ) -> Result<(Vec<u32>, Vec<u32>)> {
        let name = scope.name();
        let (pool, columns) = self.scope_store(scope).await?;
        let counts = rotation::count_by_version(&pool, columns).await?;
        let candidates: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT version, retired_at FROM wrapped_keys
             WHERE scope = ? AND purpose = 'data' AND retired_at IS NOT NULL ORDER BY version",
        )
        .bind(&name)
        .fetch_all(&self.pool)
        .await?;
        let (mut retired, mut waiting) = (Vec::new(), Vec::new());
        for (version, retired_at) in candidates {
            let version = version as u32;
            if counts.get(&version).copied().unwrap_or(0) > 0 {
                continue;
            }
            if self.now() - retired_at < RETIRE_GRACE_MS {
                waiting.push(version);
                continue;
            }
            retired.push(version);
        }
        if retired.is_empty() {
            return Ok((retired, waiting));
        }
        let event = NewEvent::new(actor.clone(), "key.retired", Outcome::Allowed, source)
            .target(&name)
            .payload(serde_json::json!({ "purpose": "data", "versions": retired }));
        let mut tx = self.key_change(scope, event).await?;
        for version in &retired {
            sqlx::query(
                "DELETE FROM wrapped_keys WHERE scope = ? AND purpose = 'data' AND version = ?",
            )
            .bind(&name)
            .bind(*version as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        store::checkpoint_truncate(&self.pool).await?;
        self.vault.forget_scope(&name).await;
        Ok((retired, waiting))
    }

    async fn scope_store(
        &self,
        scope: KeyScope,
    ) -> Result<(sqlx::SqlitePool, &'static [SealedColumn])> {
        Ok(match scope {
            KeyScope::Instance => (self.pool.clone(), INSTANCE_SEALED),
            KeyScope::Workspace(w) => (self.workspace_pool(w).await?, WORKSPACE_SEALED),
        })
    }

    async fn key_scope(&self, name: &str) -> Result<Option<KeyScope>> {
        if name == INSTANCE_SCOPE {
            return Ok(Some(KeyScope::Instance));
        }
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM workspaces WHERE id = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(exists
            .and_then(|id| id.parse().ok())
            .map(KeyScope::Workspace))
    }

    /// A change of the key store (instance database) recorded in the chain of the scope the
    /// keys belong to: the instance's own, or the workspace's (relayed).
    async fn key_change(&self, scope: KeyScope, event: NewEvent) -> Result<Change<'_>> {
        match scope {
            KeyScope::Instance => self.begin_change(Scope::Org, vec![event]).await,
            KeyScope::Workspace(w) => {
                self.begin_change_relaying(Vec::new(), vec![(w, event)])
                    .await
            }
        }
    }

    async fn rotation_period_days(&self) -> Result<i64> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'key_rotation_days'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(value
            .and_then(|v| v.parse().ok())
            .filter(|d| *d > 0)
            .unwrap_or(DEFAULT_ROTATION_DAYS))
    }

    /// Sets the automatic rotation period (days).
    pub async fn set_rotation_period(&self, session: &Session, days: i64) -> Result<()> {
        self.authorize(
            session,
            Scope::Org,
            Capability::OrgSecurity,
            "keys.set_period",
        )
        .await?;
        if !(1..=3650).contains(&days) {
            return Err(Error::InvalidInput(
                "the rotation period must be between 1 and 3650 days".into(),
            ));
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "key.period_changed",
            Outcome::Allowed,
            &session.source,
        )
        .payload(serde_json::json!({ "days": days }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES ('key_rotation_days', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(days.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

/// A progress callback that ignores progress.
pub fn no_progress(_: Progress) {}
