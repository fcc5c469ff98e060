//! A second process on the same data directory, to be killed with SIGKILL mid-run.
//!
//! The test binary re-executes itself with `--exact restart::child` and the data directory in
//! the environment; that test then opens the instance, signs bob in, and obeys commands read
//! line by line from its stdin, printing what happened on stdout:
//!
//! - `start AGENT TASK…` creates a run, prints `run ID`, then drives it in the background and
//!   prints `status ID STATUS` once the run finishes or waits;
//! - `resume ID` drives a run in the background and prints `status ID STATUS` likewise.
//!
//! The child exits when its stdin closes, so it never outlives the test that started it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;

use headmaster_core::clock::ManualClock;

use super::{open, WAIT};
use crate::common::sign_in_to;

/// Set to the data directory in the child's environment.
pub const HOME_ENV: &str = "HEADMASTER_TEST_RUNTIME_CHILD_HOME";
/// Set to the clock's reading (epoch ms) in the child's environment.
pub const CLOCK_ENV: &str = "HEADMASTER_TEST_RUNTIME_CHILD_CLOCK";

/// The child process, as the parent sees it; killed on drop.
pub struct ChildProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl ChildProcess {
    /// Starts the child on `home`, its clock standing at `clock_ms`.
    pub fn spawn(home: &Path, clock_ms: i64) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "restart::child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(HOME_ENV, home)
            .env(CLOCK_ENV, clock_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            lines,
        }
    }

    /// Sends one command line.
    pub fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the next line starting with `prefix` and returns the rest of it.
    pub fn expect(&self, prefix: &str) -> String {
        loop {
            let line = self.lines.recv_timeout(WAIT).unwrap_or_else(|_| {
                panic!("the child printed no line starting with {prefix:?} in time")
            });
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_string();
            }
            assert!(!line.starts_with("error "), "the child failed: {line}");
        }
    }

    /// Kills the child with SIGKILL and reaps it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's body: obeys commands on stdin until it is killed or stdin closes.
pub async fn serve(home: &str, clock_ms: i64) {
    let clock = ManualClock::new(clock_ms);
    let instance = open(Path::new(home), &clock).await;
    let bob = sign_in_to(&instance, "bob").await;
    let ws = instance.list_workspaces(&bob).await.unwrap()[0]
        .id
        .parse()
        .unwrap();
    // The test harness has printed "test restart::child ... " without a line break: end that
    // line so that every reply starts a line of its own.
    println!("\nready");
    let (send, mut commands) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
        // The parent went away: so does the child.
        std::process::exit(0);
    });
    while let Some(line) = commands.recv().await {
        let (verb, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let run_id = match verb {
            "start" => {
                let (agent, task) = rest.split_once(' ').unwrap_or((rest, "task"));
                match instance.start_run(&bob, ws, agent, task, false).await {
                    Ok(run) => {
                        println!("run {}", run.id);
                        run.id
                    }
                    Err(e) => {
                        println!("error {e}");
                        continue;
                    }
                }
            }
            "resume" => rest.to_string(),
            other => {
                println!("error unknown command {other}");
                continue;
            }
        };
        let (instance, bob) = (instance.clone(), bob.clone());
        tokio::spawn(async move {
            match instance.resume_run(&bob, ws, &run_id).await {
                Ok(run) => println!("status {} {}", run.id, run.status),
                Err(e) => println!("error {e}"),
            }
        });
    }
}
