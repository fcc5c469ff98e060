//! A chat-completions server on loopback with scripted replies: just enough HTTP/1.1 (one
//! request per connection, `Connection: close`) to answer `POST /v1/chat/completions` the way
//! Ollama, llama.cpp server, vLLM and OpenAI do, and to record every request it read so a test
//! can check what the runtime sent back to the model.
//!
//! The server runs on plain threads, so it keeps answering whatever the test's async runtime is
//! doing, and each connection has a thread of its own, so a reply that never comes does not
//! hold up the retries behind it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this JSON body.
    Json(Value),
    /// Another status, with an optional `Retry-After` header (seconds).
    Status {
        code: u16,
        retry_after: Option<u64>,
        body: String,
    },
    /// Reads the request and never answers (until the client hangs up).
    Silent,
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Request line and headers.
    pub head: String,
    /// The JSON body.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
}

impl Request {
    /// The conversation sent.
    pub fn messages(&self) -> Vec<Value> {
        self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The function names offered as tools.
    pub fn tool_names(&self) -> Vec<String> {
        self.body["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
            .collect()
    }

    /// The `tool` messages answering the call `id`.
    pub fn tool_results(&self, id: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["role"] == "tool" && m["tool_call_id"] == id)
            .map(|m| {
                serde_json::from_str(m["content"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
            })
            .collect()
    }
}

/// A running server; it stops accepting when dropped.
#[derive(Debug)]
pub struct ChatServer {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl ChatServer {
    /// Listens on a free loopback port and answers the n-th request with `script[n]` (the last
    /// entry answers every request after the script ran out).
    pub fn start(script: Vec<Reply>) -> Self {
        assert!(!script.is_empty(), "a chat server needs at least one reply");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        let (recorded, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (script, recorded) = (script.clone(), recorded.clone());
                std::thread::spawn(move || serve(stream, &script, &recorded));
            }
        });
        ChatServer {
            addr,
            requests,
            stop,
        }
    }

    /// The base URL an agent is configured with.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests read so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// An assistant message calling tools: `(call id, function name, arguments as sent)`. The
/// arguments are text, as the protocol has them, so a test can send text that is not JSON.
pub fn tool_calls(calls: &[(&str, &str, &str)]) -> Reply {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, arguments)| {
            json!({ "id": id, "type": "function", "function": { "name": name, "arguments": arguments } })
        })
        .collect();
    completion(
        json!({ "role": "assistant", "content": null, "tool_calls": calls }),
        30,
    )
}

/// A final answer.
pub fn answer(text: &str) -> Reply {
    completion(json!({ "role": "assistant", "content": text }), 20)
}

/// A refusal, as OpenAI's structured `refusal` field carries it.
pub fn refusal(text: &str) -> Reply {
    completion(
        json!({ "role": "assistant", "content": null, "refusal": text }),
        10,
    )
}

/// A chat completion around `message`, reporting `tokens` used.
pub fn completion(message: Value, tokens: u64) -> Reply {
    Reply::Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "scripted-model",
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": tokens / 2, "completion_tokens": tokens - tokens / 2, "total_tokens": tokens },
    }))
}

/// A loopback address where nothing listens (a port that was free a moment ago).
pub fn closed_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

fn serve(mut stream: TcpStream, script: &[Reply], recorded: &Mutex<Vec<Request>>) {
    let Some((head, body)) = read_request(&mut stream) else {
        return;
    };
    let index = {
        let mut requests = recorded.lock().unwrap();
        requests.push(Request {
            head,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            at: Instant::now(),
        });
        requests.len() - 1
    };
    let reply = script.get(index).unwrap_or_else(|| script.last().unwrap());
    let (status, extra, body) = match reply {
        Reply::Json(value) => ("200 OK".to_string(), String::new(), value.to_string()),
        Reply::Status {
            code,
            retry_after,
            body,
        } => (
            format!("{code} Scripted"),
            retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default(),
            body.clone(),
        ),
        Reply::Silent => {
            // Holds the connection open without a word until the client gives up.
            let mut sink = [0u8; 512];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    // The client may hang up first; that is not the server's failure.
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// Reads the head and the `Content-Length` body of one request.
fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buffer[end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    stream.set_read_timeout(None).ok()?;
    Some((head, body))
}
