//! The installation every suite measures: initialised in a temporary directory with passphrase
//! protection (Argon2id-derived KEK, no keychain needed), the organisation's first workspace,
//! and its Admin `alice` signed in.

use std::sync::Arc;

use headmaster_core::access::Role;
use headmaster_core::audit::Source;
use headmaster_core::clock::SharedClock;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::instance::{Config, Environment};
use headmaster_core::store::Layout;
use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
use headmaster_core::vault::keys::SecretBytes;
use headmaster_core::vault::{Keychain, Protection};
use headmaster_core::{InitConfig, Instance, Session, Unlock};
use tempfile::TempDir;

/// Every benchmark user's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// The installation's passphrase.
pub const PASSPHRASE: &str = "a long benchmark passphrase";
/// The first Admin.
pub const ADMIN: &str = "alice";

/// An unlocked installation with its first workspace and Admin session.
pub struct Bench {
    /// The installation (dropped before the directory it lives in).
    pub instance: Arc<Instance>,
    /// The Admin's session.
    pub admin: Session,
    /// The first workspace.
    pub ws: WorkspaceId,
    clock: SharedClock,
    dir: TempDir,
}

impl Bench {
    /// Initialises an installation running on `clock`.
    pub async fn new(clock: SharedClock) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("hm-bench-")
            .tempdir()
            .expect("a temporary directory");
        let instance = Instance::init(
            Layout::new(dir.path()),
            InitConfig {
                org_name: "Bench Corp".into(),
                admin_username: ADMIN.into(),
                admin_password: secret(PASSWORD),
                protection: Protection::Passphrase,
                passphrase: Some(secret(PASSPHRASE)),
                source: source(),
            },
            environment(&clock),
        )
        .await
        .expect("init");
        let admin = sign_in(&instance, ADMIN).await;
        let ws = instance.list_workspaces(&admin).await.expect("workspaces")[0]
            .id
            .parse()
            .expect("a workspace id");
        Self {
            instance,
            admin,
            ws,
            clock,
            dir,
        }
    }

    /// The data directory.
    pub fn home(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Opens the data directory again, as the app does after a restart (Argon2id included).
    pub async fn open_again(&self) -> Arc<Instance> {
        Instance::open(
            Layout::new(self.dir.path()),
            Unlock {
                passphrase: Some(secret(PASSPHRASE)),
            },
            environment(&self.clock),
        )
        .await
        .expect("open")
    }

    /// Adds a user who is a member of the workspace with `role`, and signs them in.
    pub async fn member(&self, name: &str, role: Role) -> Session {
        self.instance
            .add_user(&self.admin, name, &secret(PASSWORD), Role::Viewer)
            .await
            .expect("add user");
        self.instance
            .add_member(&self.admin, self.ws, name, role.name())
            .await
            .expect("add member");
        sign_in(&self.instance, name).await
    }

    /// Enables a tool or action as the Admin.
    pub async fn enable(&self, target: &str) {
        self.instance
            .enable_tool(&self.admin, self.ws, target, None)
            .await
            .expect("enable tool");
    }

    /// Sets the base tier of a tool or action as the Admin.
    pub async fn set_tier(&self, target: &str, tier: &str) {
        self.instance
            .set_tool_tier(&self.admin, self.ws, target, tier)
            .await
            .expect("set tier");
    }

    /// Proposes, as the Admin, a `memory.write` that waits for a decision (its tier raised
    /// first); returns the request's id.
    pub async fn request_memory_write(&self, key: &str, reasoning: &str) -> String {
        let outcome = self
            .instance
            .propose_call(
                &self.admin,
                self.ws,
                CallRequest {
                    action: "memory.write".into(),
                    args: serde_json::json!({ "key": key, "value": "approved note" }),
                    reasoning: Some(reasoning.into()),
                    proposer: Proposer::User,
                },
            )
            .await
            .expect("propose");
        let CallOutcome::Pending { approval_id, .. } = outcome else {
            panic!("a memory.write above low tier waits for a decision, got {outcome:?}");
        };
        approval_id
    }

    /// The newest sequence number of the workspace chain.
    pub async fn last_seq(&self) -> i64 {
        let pool = self
            .instance
            .workspace_database(self.ws)
            .await
            .expect("workspace database");
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_events")
            .fetch_one(&pool)
            .await
            .expect("last seq")
    }
}

/// Signs `username` in with the benchmark password.
pub async fn sign_in(instance: &Instance, username: &str) -> Session {
    instance
        .sign_in(username, &secret(PASSWORD), source())
        .await
        .expect("sign in")
        .session
}

/// A secret from text.
pub fn secret(text: &str) -> SecretBytes {
    SecretBytes::new(text.as_bytes().to_vec())
}

/// Where benchmark requests come from.
pub fn source() -> Source {
    Source {
        client: "bench".into(),
        host: Some("bench-host".into()),
        os_user: Some("bench".into()),
        ip: None,
        user_agent: Some("headmaster-core bench".into()),
    }
}

fn environment(clock: &SharedClock) -> Environment {
    Environment {
        keychain: Keychain::with_service("headmaster-bench"),
        clock: clock.clone(),
        config: Config::default(),
    }
}
