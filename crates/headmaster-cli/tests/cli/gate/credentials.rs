//! `credential set|list|delete`: names only, never values; a value used in an HTTP header
//! against a loopback server that echoes it back appears in no output and no stored byte.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use super::{admin, instance_with, json_as, refused};
use crate::harness::{as_user, Run, PASSWORD};

#[test]
fn credentials_are_listed_by_name_and_their_values_never_printed_or_stored_in_clear() {
    const VALUE: &str = "cli-secret-marker-83be02";
    let cli = instance_with(&[("bob", "approver")]);
    let echo = EchoServer::start();
    let mut runs: Vec<Run> = Vec::new();

    let mut env = as_user("alice", PASSWORD);
    env.push(("HEADMASTER_CREDENTIAL_VALUE", VALUE));
    runs.push(cli.run(&["--json", "credential", "set", "API_TOKEN"], &env));
    runs.last().unwrap().ok();
    runs.push(json_as(
        &cli,
        "alice",
        &["credential", "set", "OLD", "--value", "short-lived"],
    ));
    runs.push(json_as(&cli, "alice", &["credential", "list"]));
    let list = runs.last().unwrap().ok().json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["API_TOKEN", "OLD"]);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("value").is_none()));
    runs.push(cli.run(&["credential", "list"], &as_user("alice", PASSWORD)));
    runs.push(json_as(&cli, "alice", &["credential", "delete", "OLD"]));
    runs.last().unwrap().ok();
    refused(
        &json_as(&cli, "alice", &["credential", "delete", "OLD"]),
        "not_found",
    );
    refused(&json_as(&cli, "bob", &["credential", "list"]), "forbidden");

    admin(&cli, &["tool", "enable", "http"]);
    admin(
        &cli,
        &[
            "tool",
            "config",
            "http",
            &format!("allowed_internal=127.0.0.1:{}", echo.port),
        ],
    );
    let args = serde_json::json!({
        "url": format!("http://127.0.0.1:{}/echo", echo.port),
        "headers": { "Authorization": "Bearer {{credential:API_TOKEN}}" }
    })
    .to_string();
    runs.push(json_as(
        &cli,
        "alice",
        &["call", "http.get", "--args", &args],
    ));
    let id = runs.last().unwrap().ok().json()["approval_id"]
        .as_str()
        .unwrap()
        .to_string();
    runs.push(json_as(&cli, "bob", &["approval", "approve", &id]));
    let result = runs.last().unwrap().ok().json();
    assert_eq!(result["status"], "executed");
    let body = result["executed"]["output"]["body"].as_str().unwrap();
    assert!(body.contains("Bearer [credential:API_TOKEN]"), "{body}");
    assert!(
        echo.received().contains(&format!("Bearer {VALUE}")),
        "the value was not injected"
    );
    runs.push(cli.run(&["approval", "show", &id], &as_user("alice", PASSWORD)));
    runs.push(json_as(
        &cli,
        "alice",
        &["--workspace", "Acme", "audit", "query", "--limit", "1000"],
    ));
    runs.push(json_as(&cli, "alice", &["tool", "list"]));
    runs.push(json_as(&cli, "alice", &["credential", "list"]));
    assert!(runs.last().unwrap().json()[0]["last_used_at"].is_string());

    for (n, run) in runs.iter().enumerate() {
        assert!(
            !run.stdout.contains(VALUE),
            "run #{n} printed the value: {}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(VALUE),
            "run #{n} printed the value: {}",
            run.stderr
        );
    }
    for file in files(&cli.home) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(VALUE.len()).any(|w| w == VALUE.as_bytes()),
            "{} holds the value in clear",
            file.display()
        );
    }
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A one-connection-at-a-time HTTP server on loopback that answers every request with the
/// `Authorization` header it received, as a careless API might.
struct EchoServer {
    port: u16,
    received: std::sync::Arc<std::sync::Mutex<String>>,
}

impl EchoServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let log = received.clone();
        // The thread ends with the test process; it only ever answers this test's requests.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut chunk = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                log.lock().unwrap().push_str(&head);
                let auth = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("authorization: ")
                            .or(l.strip_prefix("Authorization: "))
                    })
                    .unwrap_or("");
                let body = format!("you sent {auth}");
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        EchoServer { port, received }
    }

    fn received(&self) -> String {
        self.received.lock().unwrap().clone()
    }
}
