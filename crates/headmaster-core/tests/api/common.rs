//! Shared test fixtures: an initialised instance in a temp dir, on a manual clock, in
//! passphrase mode (no keychain needed) or keychain mode (the real Secret Service), plus raw
//! access to its files for the tests that check what is actually stored.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use headmaster_core::access::Role;
use headmaster_core::audit::Source;
use headmaster_core::clock::ManualClock;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::instance::{Config, Environment};
use headmaster_core::store::Layout;
use headmaster_core::vault::keys::{Key256, SecretBytes};
use headmaster_core::vault::protect::derive_kek;
use headmaster_core::vault::{KdfParams, Keychain, Protection, Vault};
use headmaster_core::{InitConfig, Instance, Result, Session, Unlock};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Row, SqlitePool};
use tempfile::TempDir;

pub const ADMIN: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";
pub const PASSPHRASE: &str = "a long test passphrase";
/// 2026-11-27T00:00:00Z.
pub const START_MS: i64 = 1_795_737_600_000;

/// An initialised instance on a manual clock.
pub struct Fixture {
    pub dir: TempDir,
    pub clock: Arc<ManualClock>,
    pub instance: Arc<Instance>,
    /// The keychain client the instance was created with (its service name is unique per
    /// keychain-mode fixture, so parallel tests never see each other's entries).
    pub keychain: Keychain,
    /// The service name behind `keychain`.
    pub service: String,
    pub protection: Protection,
    /// The first Admin's username.
    pub admin_name: String,
    /// The passphrase (passphrase mode).
    pub passphrase: String,
}

/// What a fixture is created with.
#[derive(Debug, Clone)]
pub struct Setup {
    pub org_name: String,
    pub admin: String,
    pub admin_password: String,
    pub passphrase: String,
    pub protection: Protection,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            org_name: "Acme".into(),
            admin: ADMIN.into(),
            admin_password: PASSWORD.into(),
            passphrase: PASSPHRASE.into(),
            protection: Protection::Passphrase,
        }
    }
}

impl Fixture {
    /// A passphrase-protected instance.
    pub async fn new() -> Self {
        Self::with(Setup::default()).await
    }

    /// A keychain-protected instance, its KEK in the real Secret Service under a service name
    /// of its own.
    pub async fn keychain() -> Self {
        Self::with(Setup {
            protection: Protection::Keychain,
            ..Setup::default()
        })
        .await
    }

    /// An instance created with `setup`.
    pub async fn with(setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(START_MS);
        let service = unique_service();
        let keychain = Keychain::with_service(&service);
        let instance = Instance::init(
            Layout::new(dir.path()),
            InitConfig {
                org_name: setup.org_name.clone(),
                admin_username: setup.admin.clone(),
                admin_password: secret(&setup.admin_password),
                protection: setup.protection,
                passphrase: (setup.protection == Protection::Passphrase)
                    .then(|| secret(&setup.passphrase)),
                source: source(),
            },
            env_with(&clock, keychain.clone()),
        )
        .await
        .unwrap();
        Self {
            dir,
            clock,
            instance,
            keychain,
            service,
            protection: setup.protection,
            admin_name: setup.admin,
            passphrase: setup.passphrase,
        }
    }

    /// Opens the same data directory again (a restart).
    pub async fn reopen(&self) -> Arc<Instance> {
        self.try_reopen().await.unwrap()
    }

    /// Opens the same data directory again, returning the error if it does not unlock.
    pub async fn try_reopen(&self) -> Result<Arc<Instance>> {
        Instance::open(
            Layout::new(self.dir.path()),
            Unlock {
                passphrase: (self.protection == Protection::Passphrase)
                    .then(|| secret(&self.passphrase)),
            },
            env_with(&self.clock, self.keychain.clone()),
        )
        .await
    }

    /// The data directory.
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// Signs the first Admin in.
    pub async fn admin(&self) -> Session {
        self.sign_in(&self.admin_name).await
    }

    /// Signs `username` in (every test user but a custom first Admin has the password
    /// [`PASSWORD`]).
    pub async fn sign_in(&self, username: &str) -> Session {
        self.instance
            .sign_in(username, &secret(PASSWORD), source())
            .await
            .unwrap()
            .session
    }

    /// Adds a user with an organisation role (as `admin`) and signs them in.
    pub async fn user(&self, admin: &Session, username: &str, org_role: Role) -> Session {
        self.instance
            .add_user(admin, username, &secret(PASSWORD), org_role)
            .await
            .unwrap();
        self.sign_in(username).await
    }

    /// The id of the organisation's first workspace (named after the organisation).
    pub async fn first_workspace(&self, session: &Session) -> WorkspaceId {
        self.instance.list_workspaces(session).await.unwrap()[0]
            .id
            .parse()
            .unwrap()
    }

    /// A raw connection pool on `instance.db`, beside the instance's own.
    pub async fn raw(&self) -> SqlitePool {
        raw_pool(&self.home().join("instance.db")).await
    }

    /// A raw connection pool on a workspace's database.
    pub async fn raw_workspace(&self, workspace: WorkspaceId) -> SqlitePool {
        raw_pool(&Layout::new(self.home()).workspace_db(workspace)).await
    }

    /// Actions and outcomes of the instance chain, oldest first (raw SQL: what is stored).
    pub async fn instance_actions(&self) -> Vec<(String, String)> {
        actions(&self.raw().await).await
    }

    /// The installation id (the KEK and every wrapped key are bound to it).
    pub fn instance_id(&self) -> String {
        self.instance.id().to_string()
    }

    /// The KEK, obtained the way an attacker with the passphrase or the keychain would.
    pub async fn kek(&self) -> (u32, Key256) {
        let pool = self.raw().await;
        let row =
            sqlx::query("SELECT kek_version, kdf_m_kib, kdf_t, kdf_p, kdf_salt FROM instance")
                .fetch_one(&pool)
                .await
                .unwrap();
        let version = row.get::<i64, _>(0) as u32;
        let kek = match self.protection {
            Protection::Passphrase => {
                let passphrase = secret(&self.passphrase);
                let params = KdfParams {
                    m_kib: row.get::<i64, _>(1) as u32,
                    t: row.get::<i64, _>(2) as u32,
                    p: row.get::<i64, _>(3) as u32,
                    salt: row.get(4),
                };
                tokio::task::spawn_blocking(move || derive_kek(&passphrase, &params))
                    .await
                    .unwrap()
                    .unwrap()
            }
            Protection::Keychain => {
                let kc = self.keychain.clone();
                let id = self.instance_id();
                tokio::task::spawn_blocking(move || kc.load(&id, version))
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        (version, kek)
    }

    /// A second, independent vault over this instance's keys: what someone holding the KEK
    /// could decrypt. Used where no public operation reads a sealed value back yet.
    pub async fn test_vault(&self) -> Vault {
        let (version, kek) = self.kek().await;
        Vault::new(
            &self.instance_id(),
            version,
            kek,
            self.raw().await,
            self.clock.clone(),
        )
    }
}

/// Environment of a test instance: the manual clock and a keychain client.
pub fn env_with(clock: &Arc<ManualClock>, keychain: Keychain) -> Environment {
    Environment {
        keychain,
        clock: clock.clone(),
        config: Config::default(),
    }
}

/// The environment the foundation tests used (a fixed, never-touched keychain service).
pub fn env(clock: &Arc<ManualClock>) -> Environment {
    env_with(clock, Keychain::with_service("headmaster-test"))
}

/// A keychain service name no other test uses.
pub fn unique_service() -> String {
    format!("headmaster-test-{}", uuid::Uuid::now_v7().simple())
}

pub fn secret(text: &str) -> SecretBytes {
    SecretBytes::from(text.to_string())
}

pub fn source() -> Source {
    Source::local("test", "headmaster-tests")
}

/// A raw pool on any database file of a data directory.
pub async fn raw_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(path)
        .busy_timeout(Duration::from_secs(15));
    SqlitePool::connect_with(options).await.unwrap()
}

/// Actions and outcomes of a chain, oldest first.
pub async fn actions(pool: &SqlitePool) -> Vec<(String, String)> {
    sqlx::query_as("SELECT action, outcome FROM audit_events ORDER BY seq")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// `access.denied` events of a chain naming `operation` as their target.
pub async fn denials(pool: &SqlitePool, operation: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied' AND outcome = 'denied' AND target = ?",
    )
    .bind(operation)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Waits until `condition` holds, checking it every few milliseconds, or panics after `timeout`.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        // The poll interval between checks of the condition; the deadline above bounds the wait.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Signs `username` in on any instance (a restarted one, say).
pub async fn sign_in_to(instance: &Instance, username: &str) -> Session {
    instance
        .sign_in(username, &secret(PASSWORD), source())
        .await
        .unwrap()
        .session
}
