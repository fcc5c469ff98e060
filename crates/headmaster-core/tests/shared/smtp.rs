//! A real SMTP server on loopback: `smtp_sink.py` (aiosmtpd) as a child process. Messages are
//! read back from the files it writes, so a test can tell exactly what was delivered and how
//! often.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use serde_json::Value;
use tempfile::TempDir;

use super::WAIT;

/// A running SMTP sink; the child is killed on drop (and exits on its own when stdin closes).
#[derive(Debug)]
pub struct SmtpSink {
    /// The loopback port it listens on.
    pub port: u16,
    child: Child,
    out: TempDir,
}

impl SmtpSink {
    /// Starts the sink and returns once it reports its port (that is, once it listens).
    pub fn start() -> Self {
        let out = tempfile::tempdir().unwrap();
        let script = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("tests/shared/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(out.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be installed with aiosmtpd (`python3 -m pip install aiosmtpd`)");
        let stdout = child.stdout.take().unwrap();
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let line = receive
            .recv_timeout(WAIT)
            .expect("the SMTP sink did not report its port in time");
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("the SMTP sink did not start (is aiosmtpd installed?): {line:?}")
        });
        SmtpSink { port, child, out }
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.out.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
            .collect()
    }

    /// The workspace settings that send through this sink (plain SMTP on loopback, no login).
    pub fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("host".into(), "127.0.0.1".into()),
            ("port".into(), self.port.to_string()),
            ("tls".into(), "none".into()),
            ("from".into(), "agents@acme.test".into()),
            ("timeout_ms".into(), "10000".into()),
        ]
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
