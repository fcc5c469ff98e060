//! Real child processes for the tests that need one (a rotation killed mid-way, a keychain
//! without a D-Bus session).
//!
//! The test binary re-executes itself, running only [`child_process_entry`] with
//! `HEADMASTER_TEST_CHILD` naming the task. In a normal test run the variable is unset and the
//! entry returns at once. Environment changes (such as hiding the session bus) are made on the
//! child's command line, never in the test process, whose tests run in parallel threads.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use headmaster_core::clock::ManualClock;
use headmaster_core::store::Layout;
use headmaster_core::vault::{KeyScope, Keychain, Protection};
use headmaster_core::{InitConfig, Instance, Unlock};

use crate::common::{env_with, secret, source, ADMIN, PASSPHRASE, PASSWORD, START_MS};

const TASK: &str = "HEADMASTER_TEST_CHILD";
const HOME: &str = "HEADMASTER_TEST_CHILD_HOME";
const SERVICE: &str = "HEADMASTER_TEST_CHILD_SERVICE";
/// The line a child prints with the outcome of its task.
pub const RESULT_PREFIX: &str = "CHILD-RESULT ";

/// A child task.
#[derive(Debug, Clone, Copy)]
pub enum Task {
    /// Open the passphrase-protected instance in the home and rotate its instance keys.
    Rotate,
    /// Initialise a keychain-protected instance in the home and report the error code.
    KeychainInit,
}

impl Task {
    fn name(self) -> &'static str {
        match self {
            Task::Rotate => "rotate",
            Task::KeychainInit => "keychain-init",
        }
    }
}

/// Starts this test binary as a child running `task` on `home`, with `env` added.
pub fn spawn(task: Task, home: &Path, service: &str, env: &[(&str, &str)]) -> Child {
    Command::new(std::env::current_exe().expect("the test binary knows its path"))
        .args([
            "child::child_process_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(TASK, task.name())
        .env(HOME, home)
        .env(SERVICE, service)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary can be started again")
}

/// The `CHILD-RESULT` line of a finished child's output, without the prefix. (The harness
/// prints the test's name on the same line first.)
pub fn result_line(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        line.find(RESULT_PREFIX)
            .map(|at| line[at + RESULT_PREFIX.len()..].to_string())
    })
}

/// The entry point of child processes; does nothing in a normal test run.
#[tokio::test]
async fn child_process_entry() {
    let Ok(task) = std::env::var(TASK) else {
        return;
    };
    let home = PathBuf::from(std::env::var(HOME).expect("the parent names the home"));
    let keychain = Keychain::with_service(&std::env::var(SERVICE).unwrap_or_default());
    let clock = ManualClock::new(START_MS);
    match task.as_str() {
        "rotate" => {
            let instance = Instance::open(
                Layout::new(&home),
                Unlock {
                    passphrase: Some(secret(PASSPHRASE)),
                },
                env_with(&clock, keychain),
            )
            .await
            .unwrap();
            let session = instance
                .sign_in(ADMIN, &secret(PASSWORD), source())
                .await
                .unwrap()
                .session;
            let report = instance
                .rotate_keys(&session, KeyScope::Instance, &|_| {})
                .await
                .unwrap();
            println!("{RESULT_PREFIX}rotated {}", report.rows_reencrypted);
        }
        "keychain-init" => {
            let result = Instance::init(
                Layout::new(&home),
                InitConfig {
                    org_name: "Acme".into(),
                    admin_username: ADMIN.into(),
                    admin_password: secret(PASSWORD),
                    protection: Protection::Keychain,
                    passphrase: None,
                    source: source(),
                },
                env_with(&clock, keychain),
            )
            .await;
            match result {
                Ok(_) => println!("{RESULT_PREFIX}ok"),
                Err(e) => println!("{RESULT_PREFIX}{} {e}", e.code()),
            }
        }
        other => panic!("unknown child task {other:?}"),
    }
}
