//! An installation: one data directory, unlocked.
//!
//! [`Instance`] is the handle every core operation hangs off. Domain modules add their
//! operations in their own `impl Instance` blocks (identity: sign-in; access: workspaces and
//! members; audit: query and verify; …). Every operation a person triggers takes their
//! [`Session`](crate::identity::Session) and passes the gate (`Instance::authorize`) before it
//! touches data.

mod init;
mod open;

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::SqlitePool;
use tokio::sync::Mutex;

use crate::audit::DeviceKey;
use crate::clock::SharedClock;
use crate::error::Result;
use crate::ids::{InstanceId, WorkspaceId};
use crate::store::{self, DbKind, Layout};
use crate::vault::{Keychain, Protection, Vault};

pub(crate) use init::validate_name;
pub use init::InitConfig;
pub use open::{status, InstanceStatus, Unlock};

/// Tunables of an installation.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a session lasts (ms).
    pub session_ttl_ms: i64,
    /// Failed sign-ins in a row before the account locks.
    pub lockout_threshold: u32,
    /// How long a lockout lasts (ms).
    pub lockout_ms: i64,
    /// First backoff between retries of a model endpoint (ms), doubled each retry.
    pub model_backoff_ms: u64,
    /// A running run without a heartbeat for this long is marked stalled (ms).
    pub stall_after_ms: i64,
    /// How many runs the background worker drives at once; more wait for a free slot.
    pub max_concurrent_runs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            session_ttl_ms: 12 * 60 * 60 * 1000,
            lockout_threshold: 5,
            lockout_ms: 15 * 60 * 1000,
            model_backoff_ms: 500,
            stall_after_ms: 30_000,
            max_concurrent_runs: 8,
        }
    }
}

/// What an installation runs with: where its KEK lives, its clock, its tunables.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The OS keychain client.
    pub keychain: Keychain,
    /// The clock.
    pub clock: SharedClock,
    /// Tunables.
    pub config: Config,
}

impl Default for Environment {
    fn default() -> Self {
        Self {
            keychain: Keychain::default(),
            clock: crate::clock::system(),
            config: Config::default(),
        }
    }
}

/// The variable that sets how many runs the background worker drives at once.
pub const MAX_RUNS_VAR: &str = "HEADMASTER_MAX_CONCURRENT_RUNS";

impl Environment {
    /// The defaults, with the tunables an operator may set in the process environment:
    /// [`MAX_RUNS_VAR`] (1–256, default 8). A value that is not a number in range is refused
    /// with what to set instead, never silently replaced.
    pub fn from_env() -> crate::Result<Self> {
        let mut env = Self::default();
        if let Some(value) = std::env::var_os(MAX_RUNS_VAR) {
            env.config.max_concurrent_runs = value
                .to_str()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| {
                    crate::Error::InvalidInput(format!(
                        "{MAX_RUNS_VAR} is {value:?}; set it to a whole number from 1 to 256 (how many agent runs are driven at once), or unset it for the default of 8"
                    ))
                })?;
        }
        Ok(env)
    }
}

/// An unlocked installation.
pub struct Instance {
    pub(crate) layout: Layout,
    pub(crate) id: InstanceId,
    pub(crate) pool: SqlitePool,
    pub(crate) vault: Vault,
    pub(crate) device: DeviceKey,
    pub(crate) clock: SharedClock,
    pub(crate) protection: Protection,
    pub(crate) keychain: Keychain,
    pub(crate) config: Config,
    pub(crate) workspace_pools: Mutex<HashMap<WorkspaceId, SqlitePool>>,
    pub(crate) events: tokio::sync::broadcast::Sender<crate::events::CoreEvent>,
    /// Compiled policies by workspace, with the stored policy's change time they came from.
    pub(crate) policies: std::sync::Mutex<PolicyCache>,
    /// The runs the background worker drives now (`runtime::pass`).
    pub(crate) run_slots: crate::runtime::Slots,
}

/// Compiled workspace policies and the `updated_at` of the stored policy each was built from.
pub(crate) type PolicyCache = HashMap<WorkspaceId, (i64, Arc<headmaster_policy::CompiledPolicy>)>;

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("home", &self.layout.home())
            .field("id", &self.id)
            .field("protection", &self.protection)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// The installation id.
    pub fn id(&self) -> InstanceId {
        self.id
    }

    /// The data directory layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// How the KEK is protected.
    pub fn protection(&self) -> Protection {
        self.protection
    }

    /// The clock the instance runs on.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Current time (ms).
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The (cached) connection pool of a workspace's database.
    pub(crate) async fn workspace_pool(&self, workspace: WorkspaceId) -> Result<SqlitePool> {
        let mut pools = self.workspace_pools.lock().await;
        if let Some(pool) = pools.get(&workspace) {
            return Ok(pool.clone());
        }
        let pool = store::open(
            &self.layout.workspace_db(workspace),
            DbKind::Workspace,
            false,
        )
        .await?;
        pools.insert(workspace, pool.clone());
        Ok(pool)
    }

    /// Every workspace of the installation. A row whose id does not parse is logged and left
    /// out, so one damaged row does not stop the background work over the others.
    pub(crate) async fn workspace_ids(&self) -> Result<Vec<WorkspaceId>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM workspaces")
            .fetch_all(&self.pool)
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|id| match id.parse() {
                Ok(workspace) => Some(workspace),
                Err(_) => {
                    tracing::warn!(workspace = %id, "a workspace row has an unreadable id");
                    None
                }
            })
            .collect())
    }

    /// Subscribes to events of this process (approval requests, decisions, run updates).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::events::CoreEvent> {
        self.events.subscribe()
    }

    /// Announces an event; nobody listening is fine.
    pub(crate) fn announce(&self, event: crate::events::CoreEvent) {
        let _ = self.events.send(event);
    }

    #[cfg(feature = "internals")]
    /// The vault, for tools built on the core (benchmarks, the sync module of the server).
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    #[cfg(feature = "internals")]
    /// The device key (checkpoint and bundle signing).
    pub fn device(&self) -> &DeviceKey {
        &self.device
    }

    #[cfg(feature = "internals")]
    /// A workspace's database pool, for tools built on the core. Nothing passes the gate here:
    /// callers are trusted code in the same process, never a person's request.
    pub async fn workspace_database(&self, workspace: WorkspaceId) -> Result<SqlitePool> {
        self.workspace_pool(workspace).await
    }

    /// The shared pointer form of the clock, for background tasks.
    pub fn shared_clock(&self) -> Arc<dyn crate::clock::Clock> {
        self.clock.clone()
    }
}
