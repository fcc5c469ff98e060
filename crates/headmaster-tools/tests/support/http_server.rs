//! A minimal HTTP/1.1 server on a loopback port, speaking just enough of the protocol to
//! answer the tool's requests and record what arrived.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the server answers every request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A fixed response.
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// 200 with the request's `Authorization` header and target echoed in the body and in an
    /// `x-echo` response header, as a careless API might.
    Echo,
    /// A 302 to `location`.
    Redirect(String),
    /// A 302 to `location` for the first request, then `Fixed` 200 `body`.
    RedirectOnce { location: String, body: Vec<u8> },
    /// Accept the connection, read the request, never answer.
    Silent,
}

impl Reply {
    /// 200 with a text body.
    pub fn ok(body: &str) -> Self {
        Reply::Fixed {
            status: 200,
            headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 and a free port.
    pub async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(serve(
            listener,
            reply,
            Arc::clone(&connections),
            Arc::clone(&requests),
        ));
        TestServer {
            addr,
            connections,
            requests,
            task,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    reply: Reply,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Recorded>>>,
) {
    let mut held = Vec::new();
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        connections.fetch_add(1, Ordering::SeqCst);
        let Some(request) = read_request(&mut stream).await else {
            continue;
        };
        let first = {
            let mut requests = requests.lock().unwrap();
            requests.push(request.clone());
            requests.len() == 1
        };
        let (status, headers, body) = match &reply {
            Reply::Silent => {
                // Keep the socket open (and unanswered) until the server is dropped.
                held.push(stream);
                continue;
            }
            Reply::Fixed {
                status,
                headers,
                body,
            } => (*status, headers.clone(), body.clone()),
            Reply::Echo => {
                let auth = request.header("authorization").unwrap_or("").to_owned();
                let body = format!("you sent authorization={auth} target={}", request.target);
                (200, vec![("x-echo".to_owned(), auth)], body.into_bytes())
            }
            Reply::Redirect(location) => (
                302,
                vec![("Location".to_owned(), location.clone())],
                Vec::new(),
            ),
            Reply::RedirectOnce { location, body } => {
                if first {
                    (
                        302,
                        vec![("Location".to_owned(), location.clone())],
                        Vec::new(),
                    )
                } else {
                    (200, Vec::new(), body.clone())
                }
            }
        };
        respond(&mut stream, status, &headers, &body).await;
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

async fn respond(stream: &mut TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} Test\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // The client may hang up early (a capped body); that is not the server's failure.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}
