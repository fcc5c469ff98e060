//! Loopback HTTP servers on plain threads: just enough HTTP/1.1 to answer the tool and to
//! record what reached the server. A server that must never be reached is started too, so a
//! test can assert that nothing connected to it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a server answers every request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this text.
    Text(String),
    /// 200 echoing the request's `Authorization` header and target, in the body and in an
    /// `x-echo` header, as a careless API might.
    Echo,
    /// 302 to this location.
    Redirect(String),
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Request line and headers, as received.
    pub head: String,
}

/// A running server; it stops accepting when dropped.
#[derive(Debug)]
pub struct HttpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    /// Listens on `127.0.0.1` and a free port.
    pub fn start(reply: Reply) -> Self {
        Self::on("127.0.0.1:0", reply)
    }

    /// Listens on `bind` (`[::1]:0` for IPv6 loopback).
    pub fn on(bind: &str, reply: Reply) -> Self {
        let listener = TcpListener::bind(bind).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, r, s) = (connections.clone(), requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                if let Some(head) = read_head(&mut stream) {
                    r.lock().unwrap().push(Recorded { head: head.clone() });
                    answer(&mut stream, &reply, &head);
                }
            }
        });
        HttpServer {
            addr,
            connections,
            requests,
            stop,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `host:port` as the HTTP tool's `allowed_internal` setting spells it.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// `http://host:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests read so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some(String::from_utf8_lossy(&buffer).into_owned())
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map_or("", |(_, v)| v.trim())
}

fn answer(stream: &mut TcpStream, reply: &Reply, head: &str) {
    let (status, extra, body) = match reply {
        Reply::Text(text) => ("200 OK", String::new(), text.clone()),
        Reply::Echo => {
            let auth = header(head, "authorization");
            let target = head.split(' ').nth(1).unwrap_or_default();
            (
                "200 OK",
                format!("x-echo: {auth}\r\n"),
                format!("you sent authorization={auth} target={target}"),
            )
        }
        Reply::Redirect(location) => (
            "302 Found",
            format!("Location: {location}\r\n"),
            String::new(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    // The client may hang up first; that is not the server's failure.
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}
