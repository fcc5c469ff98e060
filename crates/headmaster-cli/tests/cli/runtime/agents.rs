//! `agent create|list|show|delete` with playbook files and OpenAI-compatible endpoints, and a
//! model agent's run against a chat-completions server on loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use serde_json::json;

use super::{file, json_as, names, ok, refused, shipped, team, USER_PASSWORD};
use crate::harness::as_user;

/// A chat-completions endpoint on loopback that answers every request with `answer`.
fn model_server(answer: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let body = json!({
        "id": "chatcmpl-cli",
        "object": "chat.completion",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": answer }, "finish_reason": "stop" }],
        "usage": { "total_tokens": 12 },
    })
    .to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            // Reads the whole request first: closing a socket with unread data resets the
            // connection, and the client could lose the answer.
            if read_request(&mut stream).is_none() {
                continue;
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{addr}/v1")
}

/// Reads a request's head and its `Content-Length` body.
fn read_request(stream: &mut TcpStream) -> Option<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < end + length {
        let read = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some(())
}

#[test]
fn agents_are_created_listed_shown_and_deleted() {
    let cli = team();
    let weekly = ok(json_as(
        &cli,
        "alice",
        &[
            "agent",
            "create",
            "--playbook",
            &shipped("weekly-client-update.toml"),
        ],
    ));
    assert_eq!(weekly["name"], "weekly-client-update");
    assert_eq!(weekly["provider"], "playbook");
    assert_eq!(
        weekly["tools"],
        json!(["memory.read", "draft.save", "email.send"])
    );
    let model = ok(json_as(
        &cli,
        "alice",
        &[
            "agent",
            "create",
            "--provider",
            "openai",
            "--name",
            "writer",
            "--model",
            "llama3.2",
            "--base-url",
            "http://127.0.0.1:11434/v1",
            "--tools",
            "draft.save,memory.read",
            "--max-steps",
            "7",
        ],
    ));
    assert_eq!(model["provider"], "openai");
    assert_eq!(model["model"], "llama3.2");
    assert_eq!(model["tools"], json!(["draft.save", "memory.read"]));
    assert_eq!(model["definition"]["limits"]["max_steps"], 7);

    assert_eq!(
        names(&ok(json_as(&cli, "bob", &["agent", "list"]))),
        ["weekly-client-update", "writer"]
    );
    let shown = ok(json_as(&cli, "bob", &["agent", "show", "WRITER"]));
    assert_eq!(shown["id"], model["id"], "names match regardless of case");
    assert_eq!(
        shown["definition"]["provider"]["base_url"],
        "http://127.0.0.1:11434/v1"
    );
    let text = cli.run(&["agent", "list"], &as_user("bob", USER_PASSWORD));
    assert!(
        text.ok().stdout.contains("weekly-client-update"),
        "{}",
        text.stdout
    );

    assert_eq!(
        ok(json_as(&cli, "alice", &["agent", "delete", "writer"]))["deleted"],
        "writer"
    );
    assert_eq!(
        names(&ok(json_as(&cli, "alice", &["agent", "list"]))),
        ["weekly-client-update"]
    );

    // Refusals.
    refused(
        &json_as(&cli, "alice", &["agent", "create"]),
        "invalid_input",
    );
    let message = refused(
        &json_as(&cli, "alice", &["agent", "create", "--provider", "claude"]),
        "invalid_input",
    );
    assert!(message.contains("--provider openai"), "{message}");
    let message = refused(
        &json_as(
            &cli,
            "alice",
            &[
                "agent",
                "create",
                "--provider",
                "openai",
                "--name",
                "m",
                "--base-url",
                "http://127.0.0.1:1/v1",
            ],
        ),
        "invalid_input",
    );
    assert!(message.contains("--model"), "{message}");
    let broken = file(
        &cli,
        "broken.toml",
        "name = \"broken\"\ntools = [\"draft.save\"]\n[[steps]]\nid = \"a\ntool = \"draft.save\"\n",
    );
    let message = refused(
        &json_as(&cli, "alice", &["agent", "create", "--playbook", &broken]),
        "invalid_input",
    );
    assert!(message.contains("playbook line 4"), "{message}");
    let message = refused(
        &json_as(
            &cli,
            "alice",
            &["agent", "create", "--playbook", "/nonexistent/p.toml"],
        ),
        "invalid_input",
    );
    assert!(message.contains("cannot read"), "{message}");
    refused(
        &json_as(
            &cli,
            "alice",
            &[
                "agent",
                "create",
                "--playbook",
                &shipped("weekly-client-update.toml"),
            ],
        ),
        "already_exists",
    );
    refused(
        &json_as(
            &cli,
            "bob",
            &[
                "agent",
                "create",
                "--playbook",
                &shipped("triage-folder.toml"),
            ],
        ),
        "forbidden",
    );
    refused(
        &json_as(&cli, "bob", &["agent", "delete", "weekly-client-update"]),
        "forbidden",
    );
    refused(
        &json_as(&cli, "alice", &["agent", "show", "nobody"]),
        "not_found",
    );
    refused(
        &json_as(&cli, "alice", &["agent", "delete", "nobody"]),
        "not_found",
    );
    assert_eq!(
        names(&ok(json_as(&cli, "alice", &["agent", "list"]))),
        ["weekly-client-update"]
    );
}

#[test]
fn a_model_agent_runs_against_an_openai_compatible_endpoint() {
    let cli = team();
    let url = model_server("All caught up; nothing to draft this week.");
    ok(json_as(
        &cli,
        "alice",
        &[
            "agent",
            "create",
            "--provider",
            "openai",
            "--name",
            "writer",
            "--model",
            "scripted",
            "--base-url",
            &url,
            "--tools",
            "draft.save",
        ],
    ));
    let run = ok(json_as(
        &cli,
        "bob",
        &["run", "start", "writer", "--task", "Any news?"],
    ));
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["outcome"], "All caught up; nothing to draft this week.");
    let shown = ok(json_as(
        &cli,
        "bob",
        &["run", "show", run["id"].as_str().unwrap()],
    ));
    assert_eq!(shown["timeline"][0]["kind"], "finish");
}
