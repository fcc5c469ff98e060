//! Runs the real binary with a given data directory and environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const PASSWORD: &str = "correct horse battery staple";
pub const PASSPHRASE: &str = "a long test passphrase";

/// A data directory and the environment the CLI runs with.
pub struct Cli {
    pub home: PathBuf,
    _dir: tempfile::TempDir,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success, got {}: {}",
            self.code, self.stderr
        );
        self
    }

    pub fn failed(&self) -> &Self {
        assert_ne!(
            self.code, 0,
            "expected failure, got success: {}",
            self.stdout
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// The `{"error":{"code","message"}}` printed on stderr with `--json`.
    pub fn error_json(&self) -> serde_json::Value {
        let line = self.stderr.lines().last().unwrap_or_default();
        serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", self.stderr))
    }
}

impl Cli {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            home: dir.path().join("home"),
            _dir: dir,
        }
    }

    /// Runs `headmaster --home <home> args…` with `env` added (and no inherited HEADMASTER_*).
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_in(&self.home, args, env)
    }

    /// `init` in passphrase mode with the standard password and passphrase.
    pub fn init(&self) -> Run {
        self.run(
            &["init", "--org", "Acme", "--admin", "alice", "--passphrase"],
            &[
                ("HEADMASTER_PASSWORD", PASSWORD),
                ("HEADMASTER_PASSPHRASE", PASSPHRASE),
            ],
        )
    }
}

pub fn run_in(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_headmaster"));
    command.arg("--home").arg(home).args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("HEADMASTER_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the headmaster binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Environment of a signed-in script in passphrase mode.
pub fn as_user<'a>(user: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("HEADMASTER_USER", user),
        ("HEADMASTER_PASSWORD", password),
        ("HEADMASTER_PASSPHRASE", PASSPHRASE),
    ]
}
