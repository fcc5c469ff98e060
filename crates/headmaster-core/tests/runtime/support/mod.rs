//! The runtime fixture: an instance on a manual clock with short model backoffs, its first
//! workspace, and a team — alice (Admin), bob (Operator, starts the runs), carol (Approver)
//! and dave (a second Operator, who confirms bob's medium-tier calls) — plus helpers to enable
//! tools, define agents, decide requests and read the decrypted audit chain.

#[path = "../../shared/audit.rs"]
mod audit;
pub mod chat_server;
pub mod child;
#[path = "../../shared/smtp.rs"]
pub mod smtp;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use headmaster_core::access::{Role, Scope};
use headmaster_core::approvals::{ApprovalDecision, DecisionResult};
use headmaster_core::audit::AuditEntry;
use headmaster_core::clock::ManualClock;
use headmaster_core::ids::WorkspaceId;
use headmaster_core::instance::{Config, Environment};
use headmaster_core::runtime::{
    AgentDefinition, AgentSummary, Limits, ProviderConfig, RunSummary, EXAMPLE_PLAYBOOKS,
};
use headmaster_core::store::Layout;
use headmaster_core::vault::{Keychain, Protection};
use headmaster_core::{InitConfig, Instance, Result, Session, Unlock};

use crate::common::{
    secret, sign_in_to, source, unique_service, Fixture, ADMIN, PASSPHRASE, PASSWORD, START_MS,
};

use self::smtp::SmtpSink;

/// How long any wait on a condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// The stall threshold the fixture runs with (the default, spelled out because tests move the
/// clock past it).
pub const STALL_MS: i64 = 30_000;

/// A run's lease lasts this long without renewal (`engine::LEASE_MS`); tests move the clock past
/// it to take over a run whose process was killed.
pub const LEASE_MS: i64 = 15_000;

/// The client's address in the weekly update: outside the workspace's own domain, so sending
/// to it is high tier and needs an Approver.
pub const CLIENT: &str = "cto@client.example";

/// The notes the weekly update sends.
pub const NOTES: &str = "Shipped the importer; fixed 3 bugs in the exporter.";

/// The tunables every runtime test instance uses: model retries back off after 10 ms instead of
/// half a second, so the retry tests stay fast.
pub fn config() -> Config {
    Config {
        model_backoff_ms: 10,
        stall_after_ms: STALL_MS,
        ..Config::default()
    }
}

/// The environment of an instance on `clock` with [`config`].
pub fn environment(clock: &Arc<ManualClock>) -> Environment {
    Environment {
        keychain: Keychain::with_service(&unique_service()),
        clock: clock.clone(),
        config: config(),
    }
}

/// Opens the data directory `home` (passphrase mode) on `clock`: a restart.
pub async fn open(home: &std::path::Path, clock: &Arc<ManualClock>) -> Arc<Instance> {
    Instance::open(
        Layout::new(home),
        Unlock {
            passphrase: Some(secret(PASSPHRASE)),
        },
        environment(clock),
    )
    .await
    .unwrap()
}

/// A workspace and its team.
pub struct Team {
    pub fx: Fixture,
    pub ws: WorkspaceId,
    pub admin: Session,
    /// Operator: starts the runs, so the runs act with his authority.
    pub bob: Session,
    /// Approver.
    pub carol: Session,
    /// A second Operator.
    pub dave: Session,
}

impl Team {
    pub async fn new() -> Self {
        Self::with(config()).await
    }

    /// A team whose instance runs with `tunables`.
    pub async fn with(tunables: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(START_MS);
        let service = unique_service();
        let keychain = Keychain::with_service(&service);
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
            Environment {
                keychain: Keychain::with_service(&unique_service()),
                clock: clock.clone(),
                config: tunables,
            },
        )
        .await
        .unwrap();
        let fx = Fixture {
            dir,
            clock,
            instance,
            keychain,
            service,
            protection: Protection::Passphrase,
            admin_name: ADMIN.into(),
            passphrase: PASSPHRASE.into(),
        };
        let admin = fx.admin().await;
        let ws = fx.first_workspace(&admin).await;
        let mut members = Vec::new();
        for (name, role) in [
            ("bob", Role::Operator),
            ("carol", Role::Approver),
            ("dave", Role::Operator),
        ] {
            fx.instance
                .add_user(&admin, name, &secret(PASSWORD), Role::Viewer)
                .await
                .unwrap();
            fx.instance
                .add_member(&admin, ws, name, role.name())
                .await
                .unwrap();
            members.push(fx.sign_in(name).await);
        }
        let dave = members.pop().unwrap();
        let carol = members.pop().unwrap();
        let bob = members.pop().unwrap();
        Self {
            fx,
            ws,
            admin,
            bob,
            carol,
            dave,
        }
    }

    pub fn instance(&self) -> &Arc<Instance> {
        &self.fx.instance
    }

    /// A second instance on the same data directory and clock: the app after a restart.
    pub async fn reopen(&self) -> Arc<Instance> {
        open(self.fx.home(), &self.fx.clock).await
    }

    /// Signs `username` in on a (restarted) instance.
    pub async fn sign_in_on(&self, instance: &Instance, username: &str) -> Session {
        sign_in_to(instance, username).await
    }

    /// The workspace files folder, created.
    pub fn files(&self) -> PathBuf {
        let dir = Layout::new(self.fx.home()).workspace_files(self.ws);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Enables tools or actions (as the Admin).
    pub async fn enable(&self, targets: &[&str]) {
        for target in targets {
            self.instance()
                .enable_tool(&self.admin, self.ws, target, None)
                .await
                .unwrap();
        }
    }

    /// Sets an action's base tier (as the Admin).
    pub async fn set_tier(&self, target: &str, tier: &str) {
        self.instance()
            .set_tool_tier(&self.admin, self.ws, target, tier)
            .await
            .unwrap();
    }

    /// Sends email through `sink`, with `acme.test` as the workspace's own domain (so the
    /// client's address is outside it).
    pub async fn email_through(&self, sink: &SmtpSink) {
        self.instance()
            .configure_tool(&self.admin, self.ws, "email", &sink.settings())
            .await
            .unwrap();
        self.instance()
            .set_own_domains(&self.admin, self.ws, &["acme.test".to_string()])
            .await
            .unwrap();
    }

    /// Writes a memory entry (as the Admin).
    pub async fn remember(&self, key: &str, value: &str) {
        self.instance()
            .write_memory(&self.admin, self.ws, key, value)
            .await
            .unwrap();
    }

    /// Everything the weekly client update needs: memory, draft and email enabled and pointed
    /// at `sink`, the notes and the client's address in memory, the shipped playbook defined.
    pub async fn weekly_update(&self, sink: &SmtpSink) -> AgentSummary {
        self.enable(&["memory", "draft", "email"]).await;
        self.email_through(sink).await;
        self.remember("client-notes", NOTES).await;
        self.remember("client-email", CLIENT).await;
        self.playbook(example("weekly-client-update.toml")).await
    }

    /// Defines an agent from playbook TOML (as the Admin).
    pub async fn playbook(&self, toml: &str) -> AgentSummary {
        self.instance()
            .create_playbook_agent(&self.admin, self.ws, toml)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{toml}"))
    }

    /// Defines an agent (as the Admin).
    pub async fn agent(&self, definition: AgentDefinition) -> AgentSummary {
        self.instance()
            .create_agent(&self.admin, self.ws, definition)
            .await
            .unwrap()
    }

    /// Starts a run as bob and drives it until it finishes or waits.
    pub async fn start(&self, agent: &str, task: &str) -> RunSummary {
        self.instance()
            .start_run(&self.bob, self.ws, agent, task, true)
            .await
            .unwrap_or_else(|e| panic!("starting {agent}: {e}"))
    }

    /// Resumes a run as bob.
    pub async fn resume(&self, run_id: &str) -> RunSummary {
        self.instance()
            .resume_run(&self.bob, self.ws, run_id)
            .await
            .unwrap_or_else(|e| panic!("resuming {run_id}: {e}"))
    }

    /// One run as listed (which also flags stalled runs).
    pub async fn run(&self, run_id: &str) -> RunSummary {
        self.instance()
            .list_runs(&self.admin, self.ws)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.id == run_id)
            .unwrap_or_else(|| panic!("run {run_id} is not listed"))
    }

    /// Approves (or confirms) a request.
    pub async fn approve(&self, session: &Session, id: &str) -> Result<DecisionResult> {
        self.instance()
            .decide_approval(
                session,
                self.ws,
                id,
                ApprovalDecision::Approve,
                Some("looks good"),
            )
            .await
    }

    /// Rejects a request with a comment.
    pub async fn reject(
        &self,
        session: &Session,
        id: &str,
        comment: &str,
    ) -> Result<DecisionResult> {
        self.instance()
            .decide_approval(
                session,
                self.ws,
                id,
                ApprovalDecision::Reject,
                Some(comment),
            )
            .await
    }

    /// Every event of the workspace chain, decrypted, oldest first.
    pub async fn entries(&self) -> Vec<AuditEntry> {
        audit::all_entries(self.instance(), &self.admin, self.ws).await
    }

    /// Decrypted events with this action, oldest first.
    pub async fn having(&self, action: &str) -> Vec<AuditEntry> {
        self.entries()
            .await
            .into_iter()
            .filter(|e| e.action == action)
            .collect()
    }

    /// Whether the workspace chain verifies.
    pub async fn chain_valid(&self) -> bool {
        self.instance()
            .verify_audit(&self.admin, Scope::Workspace(self.ws), &|_, _| {})
            .await
            .unwrap()
            .valid
    }
}

/// A shipped example playbook by file name.
pub fn example(name: &str) -> &'static str {
    EXAMPLE_PLAYBOOKS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("no example playbook {name}"))
}

/// The body the weekly update sends (and drafts) for `client`.
pub fn weekly_body(client: &str) -> String {
    format!("Hello,\n\nHere is this week's update for {client}:\n\n{NOTES}\n\nBest regards")
}

/// The request a waiting run waits on.
pub fn waiting_on(run: &RunSummary) -> String {
    run.waiting_on
        .clone()
        .unwrap_or_else(|| panic!("run {} ({}) waits on nothing", run.id, run.status))
}

/// A model agent on the OpenAI-compatible endpoint `base_url`, with default limits.
pub fn model_agent(
    name: &str,
    base_url: &str,
    tools: &[&str],
    timeout_seconds: u64,
) -> AgentDefinition {
    AgentDefinition {
        name: name.into(),
        instructions: "You write client updates.".into(),
        provider: ProviderConfig::OpenAi {
            base_url: base_url.into(),
            model: "scripted-model".into(),
            api_key_credential: None,
            timeout_seconds,
        },
        tools: tools.iter().map(|t| t.to_string()).collect(),
        memory_scope: String::new(),
        limits: Limits::default(),
    }
}
