//! A TCP gate in front of the test PostgreSQL cluster (so a test can take the database away
//! from a server and give it back without touching the cluster other tests share), or in front
//! of a server's port (so a desktop's network can fail in the middle of an upload).
//!
//! While the gate is open it forwards every connection to the cluster. Armed with a number of
//! bytes, it closes once that many more have gone towards the database: it breaks every
//! forwarded connection at once and answers new ones by closing them. To the server the
//! database has gone away in the middle of a statement or a transaction.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Shared {
    open: AtomicBool,
    /// Bytes towards the database left before the gate closes itself; negative when unarmed.
    budget: AtomicI64,
    links: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.budget.store(-1, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }
}

/// The gate; its accept loop stops when it is dropped.
pub struct Gate {
    /// The database's URL through the gate (empty for a gate made with `to_port`).
    pub url: String,
    /// The gate's own loopback port.
    pub port: u16,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Gate {
    /// A closed gate on a free loopback port in front of `url`
    /// (`postgres://USER@127.0.0.1:PORT/DB`, a database on the test cluster).
    pub async fn before(url: &str) -> Self {
        let (head, rest) = url.rsplit_once(':').unwrap();
        let (target, db) = rest.split_once('/').unwrap();
        let mut gate = Self::to_port(target.parse().unwrap()).await;
        gate.url = format!("{head}:{}/{db}", gate.port);
        gate
    }

    /// A closed gate on a free loopback port in front of 127.0.0.1:`target`.
    pub async fn to_port(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        shared.budget.store(-1, Ordering::SeqCst);
        let accept = tokio::spawn(accept_loop(listener, target, shared.clone()));
        Self {
            url: String::new(),
            port,
            shared,
            accept,
        }
    }

    pub fn open(&self) {
        self.shared.open.store(true, Ordering::SeqCst);
    }

    pub fn is_open(&self) -> bool {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Closes the gate once `bytes` more have been forwarded towards the database.
    pub fn close_after(&self, bytes: i64) {
        self.shared.budget.store(bytes, Ordering::SeqCst);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.close();
    }
}

async fn accept_loop(listener: TcpListener, target: u16, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if !shared.open.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let link = tokio::spawn(forward(client, target, shared.clone()));
        shared.links.lock().unwrap().push(link);
    }
}

async fn forward(client: TcpStream, target: u16, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let towards = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let left = shared.budget.load(Ordering::SeqCst);
            if left >= 0 {
                let after = shared.budget.fetch_sub(n as i64, Ordering::SeqCst) - n as i64;
                if after < 0 {
                    // Part of this chunk reaches the database, the rest never does.
                    let part = (n as i64 + after).max(0) as usize;
                    let _ = server_write.write_all(&buf[..part]).await;
                    shared.close();
                    return;
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let back = tokio::io::copy(&mut server_read, &mut client_write);
    tokio::select! {
        _ = towards => {}
        _ = back => {}
    }
}
