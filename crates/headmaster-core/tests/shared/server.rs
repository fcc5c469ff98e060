//! The real `headmaster-server` binary on 127.0.0.1 with a data directory of its own (SQLite),
//! for the test and bench binaries that sync a desktop to it; killed on drop.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// `HEADMASTER_SERVER_BIN`, or the binary beside this one's `deps/` directory (`cargo build -p
/// headmaster-server`, or `--release` for the bench).
pub fn server_bin() -> PathBuf {
    if let Ok(path) = std::env::var("HEADMASTER_SERVER_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("this binary's path");
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("headmaster-server");
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build -p headmaster-server`, with --release for the bench)",
        path.display()
    );
    path
}

/// A running server.
pub struct ServerProcess {
    child: Child,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// Its certificate's SPKI pin.
    pub pin: String,
    /// Its data directory.
    pub data: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `serve` on a free port and waits until it says it listens.
    pub fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(server_bin())
            .arg("--data")
            .arg(data.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (mut url, mut pin) = (None, None);
        for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("listening on ") {
                url = Some(format!("https://{addr}"));
            } else if let Some(p) = line.strip_prefix("pin ") {
                pin = Some(p.to_owned());
            } else if line.starts_with("backend ") {
                break;
            }
        }
        Self {
            child,
            url: url.expect("the server printed its address"),
            pin: pin.expect("the server printed its pin"),
            data,
        }
    }

    /// `headmaster-server --data D ARGS…`, which must succeed; its stdout, trimmed.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(server_bin())
            .arg("--data")
            .arg(self.data.path())
            .args(args)
            .output()
            .expect("headmaster-server runs");
        assert!(
            out.status.success(),
            "headmaster-server {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// The SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.data.path().join("server.db")
    }

    /// Its certificate, PEM.
    pub fn cert_pem(&self) -> PathBuf {
        self.data.path().join("tls/cert.pem")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
