//! A desktop installation driven through the real `headmaster` CLI: its own home directory, in
//! passphrase mode (no keychain needed), with Alice as its Admin signed in once, so later
//! commands add no sign-in events of their own.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple 42";
pub const PASSPHRASE: &str = "a long passphrase for the test vault";

/// The `headmaster` CLI, built beside this test binary (`make build` builds it).
pub fn headmaster_cli() -> PathBuf {
    if let Ok(path) = std::env::var("HEADMASTER_CLI_BIN") {
        return path.into();
    }
    let deps = std::env::current_exe().unwrap();
    let path = deps.parent().unwrap().parent().unwrap().join("headmaster");
    assert!(
        path.exists(),
        "{} is missing: build the CLI first (`cargo build -p headmaster-cli`)",
        path.display()
    );
    path
}

/// What one CLI run printed.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON on stdout of a successful `--json` run.
    pub fn json(&self) -> Value {
        assert!(self.ok, "the command failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// The `{"error":{code,message}}` on stderr of a failed `--json` run.
    pub fn error(&self) -> Value {
        assert!(!self.ok, "the command succeeded: {}", self.stdout);
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("{e}: {}", self.stderr));
        v["error"].clone()
    }
}

/// One desktop installation.
pub struct Desktop {
    pub home: PathBuf,
    _dir: tempfile::TempDir,
}

impl Desktop {
    /// A new installation (org Acme, Admin alice), signed in.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let desktop = Self {
            home: dir.path().join("home"),
            _dir: dir,
        };
        let init = desktop.run_with(
            &["init", "--org", "Acme", "--admin", "alice", "--passphrase"],
            &[("HEADMASTER_PASSWORD", PASSWORD)],
        );
        assert!(init.ok, "{}", init.stderr);
        let login = desktop.run_with(
            &["login", "--user", "alice"],
            &[("HEADMASTER_PASSWORD", PASSWORD)],
        );
        assert!(login.ok, "{}", login.stderr);
        desktop
    }

    /// Runs `headmaster --home H args…` with the passphrase (and `env`) set.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(headmaster_cli());
        command.arg("--home").arg(&self.home).args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("HEADMASTER_") {
                command.env_remove(key);
            }
        }
        command.env("HEADMASTER_PASSPHRASE", PASSPHRASE);
        command.envs(env.iter().copied());
        let out = command.output().expect("the headmaster CLI runs");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `headmaster --json args…` as the signed-in Admin.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run_with(&all, &[])
    }

    /// `server join` with one pin.
    pub fn join(&self, url: &str, pin: &str, token: &str) -> Run {
        self.run(&[
            "server", "join", url, "--pin", pin, "--token", token, "--name", "laptop",
        ])
    }

    /// `server status`, as JSON.
    pub fn status(&self) -> Value {
        self.run(&["server", "status"]).json()
    }

    /// The local last seq of every chain, by scope.
    pub fn heads(&self) -> Vec<(String, u64)> {
        self.status()["chains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["scope"].as_str().unwrap().to_owned(),
                    c["local_seq"].as_u64().unwrap(),
                )
            })
            .collect()
    }
}
