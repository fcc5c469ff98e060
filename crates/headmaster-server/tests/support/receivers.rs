//! Receivers for the push sinks: Debian's rsyslog with its TLS input (imtcp over GnuTLS), and a
//! loopback Splunk HEC endpoint. Both listen on 127.0.0.1 and stop when dropped.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use headmaster_server::tls::CertFiles;
use serde_json::Value;

/// A self-signed certificate for 127.0.0.1 in `dir`; returns the files.
fn certificate(dir: &std::path::Path) -> CertFiles {
    let files = CertFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    headmaster_server::tls::make_self_signed(&files, &["127.0.0.1".into(), "localhost".into()])
        .unwrap();
    files
}

/// rsyslogd in the foreground with one TLS input and one output file.
pub struct Rsyslog {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
    /// The receiver's certificate (the sink's `--ca`).
    pub ca_pem: String,
}

impl Rsyslog {
    /// Starts rsyslog on a free port.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = certificate(dir.path());
        std::fs::create_dir(dir.path().join("work")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        let conf = format!(
            r#"global(workDirectory="{d}/work" maxMessageSize="64k"
       defaultNetstreamDriverCAFile="{d}/cert.pem"
       defaultNetstreamDriverCertFile="{d}/cert.pem"
       defaultNetstreamDriverKeyFile="{d}/key.pem")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{port}" gnutlsPriorityString="NORMAL")
template(name="fields" type="string" string="%hostname% %app-name% %msgid% %syslogseverity% %msg%\n")
action(type="omfile" file="{d}/received.log" template="fields")
"#
        );
        std::fs::write(dir.path().join("rsyslog.conf"), conf).unwrap();
        let mut me = Self {
            ca_pem: std::fs::read_to_string(&files.cert).unwrap(),
            dir,
            port,
            child: None,
        };
        me.resume();
        me
    }

    /// Starts (again) on the same port and output file.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "rsyslog is running");
        let program = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("rsyslogd is installed (Debian's rsyslog; `make test` installs it)");
        let child = Command::new(program)
            .arg("-n")
            .arg("-f")
            .arg(self.dir.path().join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.path().join("rsyslog.pid"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslog did not start: {}",
                std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops rsyslog with SIGTERM (it flushes what it read) and waits for it.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("rsyslog is running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        child.wait().unwrap();
    }

    /// `syslog+tls://127.0.0.1:PORT`.
    pub fn target(&self) -> String {
        format!("syslog+tls://127.0.0.1:{}", self.port)
    }

    /// Every message received: (hostname, app-name, msgid, severity, event).
    pub fn received(&self) -> Vec<(String, String, String, String, Value)> {
        let text =
            std::fs::read_to_string(self.dir.path().join("received.log")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let mut parts = line.splitn(5, ' ');
                let mut next = || parts.next().unwrap_or_default().to_owned();
                let (host, app, msgid, severity) = (next(), next(), next(), next());
                let event = serde_json::from_str(next().trim_start())
                    .unwrap_or_else(|e| panic!("not an event ({e}): {line}"));
                (host, app, msgid, severity, event)
            })
            .collect()
    }

    /// The uids of the events received, in order of arrival.
    pub fn uids(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.4["metadata"]["uid"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the HEC endpoint got: every request's authorization header and parsed objects.
#[derive(Debug, Default)]
pub struct HecLog {
    pub requests: Vec<(String, String, Vec<Value>)>,
}

/// A loopback HTTPS endpoint speaking Splunk HEC's answers: the first `fail_first` requests get
/// 503 (server busy); a request holding an event whose uid is in `refuse` gets 400 (invalid
/// data format, code 6); any other gets 200 `{"text":"Success","code":0}`.
pub struct Hec {
    pub addr: SocketAddr,
    pub ca_pem: String,
    pub log: Arc<Mutex<HecLog>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Hec {
    pub async fn start(fail_first: usize, refuse: Vec<String>) -> Self {
        use axum::body::Bytes;
        use axum::http::{HeaderMap, StatusCode, Uri};
        use hyper_util::rt::TokioIo;
        use tower::ServiceExt as _;

        let dir = tempfile::tempdir().unwrap();
        let files = certificate(dir.path());
        let cert = Arc::new(headmaster_server::tls::ReloadingCert::new(files.clone()).unwrap());
        let acceptor = tokio_rustls::TlsAcceptor::from(headmaster_server::tls::server_config(cert));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(HecLog::default()));
        let seen = log.clone();
        let handler = move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = seen.clone();
            let refuse = refuse.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let objects: Vec<Value> = serde_json::Deserializer::from_slice(&body)
                    .into_iter()
                    .map(|v| v.unwrap())
                    .collect();
                let mut log = log.lock().unwrap();
                let n = log.requests.len();
                let refused = objects.iter().any(|o| {
                    refuse
                        .iter()
                        .any(|r| o["event"]["metadata"]["uid"].as_str() == Some(r))
                });
                log.requests.push((uri.path().to_owned(), auth, objects));
                if n < fail_first {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"text":"Server is busy","code":9}"#,
                    )
                } else if refused {
                    (
                        StatusCode::BAD_REQUEST,
                        r#"{"text":"Invalid data format","code":6}"#,
                    )
                } else {
                    (StatusCode::OK, r#"{"text":"Success","code":0}"#)
                }
            }
        };
        let app = axum::Router::new().fallback(axum::routing::post(handler));
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |req| app.clone().oneshot(req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            ca_pem: std::fs::read_to_string(&files.cert).unwrap(),
            addr,
            log,
            task,
            _dir: dir,
        }
    }

    /// `hec+https://127.0.0.1:PORT`.
    pub fn target(&self) -> String {
        format!("hec+https://127.0.0.1:{}", self.addr.port())
    }
}

impl Drop for Hec {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Polls `done` every 50 ms until it holds, failing after `secs` seconds with `what`.
pub async fn wait_until<F, Fut>(secs: u64, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The uids of the chain (device, scope) with seq in `range`, as the feed names them.
pub fn expected_uids(
    device_id: &str,
    scope: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Vec<String> {
    range
        .map(|seq| format!("{device_id}:{scope}:{seq}"))
        .collect()
}
