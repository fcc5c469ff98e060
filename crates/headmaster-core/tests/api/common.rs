//! Shared test fixtures: an initialised instance in a temp dir, on a manual clock.

use std::sync::Arc;

use headmaster_core::audit::Source;
use headmaster_core::clock::ManualClock;
use headmaster_core::instance::{Config, Environment};
use headmaster_core::store::Layout;
use headmaster_core::vault::keys::SecretBytes;
use headmaster_core::vault::{Keychain, Protection};
use headmaster_core::{InitConfig, Instance, Session, Unlock};
use tempfile::TempDir;

pub const ADMIN: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";
pub const PASSPHRASE: &str = "a long test passphrase";
/// 2026-11-27T00:00:00Z.
pub const START_MS: i64 = 1_795_737_600_000;

/// A passphrase-protected instance (no keychain needed) on a manual clock.
pub struct Fixture {
    pub dir: TempDir,
    pub clock: Arc<ManualClock>,
    pub instance: Arc<Instance>,
}

impl Fixture {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(START_MS);
        let instance = Instance::init(
            Layout::new(dir.path()),
            InitConfig {
                org_name: "Acme".into(),
                admin_username: ADMIN.into(),
                admin_password: secret(PASSWORD),
                protection: Protection::Passphrase,
                passphrase: Some(secret(PASSPHRASE)),
                source: source(),
            },
            env(&clock),
        )
        .await
        .unwrap();
        Self {
            dir,
            clock,
            instance,
        }
    }

    /// Opens the same data directory again (a restart).
    pub async fn reopen(&self) -> Arc<Instance> {
        Instance::open(
            Layout::new(self.dir.path()),
            Unlock {
                passphrase: Some(secret(PASSPHRASE)),
            },
            env(&self.clock),
        )
        .await
        .unwrap()
    }

    pub async fn admin(&self) -> Session {
        self.instance
            .sign_in(ADMIN, &secret(PASSWORD), source())
            .await
            .unwrap()
            .session
    }

    /// Actions and outcomes of the instance chain, oldest first (raw SQL: what is stored).
    pub async fn instance_actions(&self) -> Vec<(String, String)> {
        let pool = sqlx::SqlitePool::connect(&format!(
            "sqlite:{}",
            self.dir.path().join("instance.db").display()
        ))
        .await
        .unwrap();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT action, outcome FROM audit_events ORDER BY seq")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows
    }
}

pub fn env(clock: &Arc<ManualClock>) -> Environment {
    Environment {
        keychain: Keychain::with_service("headmaster-test"),
        clock: clock.clone(),
        config: Config::default(),
    }
}

pub fn secret(text: &str) -> SecretBytes {
    SecretBytes::from(text.to_string())
}

pub fn source() -> Source {
    Source::local("test", "headmaster-tests")
}
