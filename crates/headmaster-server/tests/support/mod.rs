//! The test harness: servers on loopback (in-process or the real binary), enrolled test devices
//! that sign their requests, and chains of plausible audit events cut into segments.

pub mod chain;
pub mod desktop;
pub mod gate;
pub mod pg;
pub mod receivers;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use headmaster_protocol::checkpoint::key_fingerprint;
use headmaster_protocol::request::RequestParts;
use headmaster_server::api::State;
use headmaster_server::data::DataDir;
use rand::RngCore as _;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;

/// Which storage backend a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A server running inside the test process on 127.0.0.1.
pub struct TestServer {
    pub state: State,
    pub addr: SocketAddr,
    pub data: DataDir,
    pub database: String,
    _dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// A new server with a fresh data directory and database.
    pub async fn start(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("server"));
        data.init(&["localhost".into(), "127.0.0.1".into()], None)
            .unwrap();
        let database = match backend {
            Backend::Sqlite => data.default_database_url(),
            Backend::Postgres => pg::database().await,
        };
        let mut server = Self::run(data, database).await;
        server._dir = Some(dir);
        server
    }

    /// A new server with a fresh data directory on the given database URL.
    pub async fn start_on(database: String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("server"));
        data.init(&["localhost".into(), "127.0.0.1".into()], None)
            .unwrap();
        let mut server = Self::run(data, database).await;
        server._dir = Some(dir);
        server
    }

    /// A server on an initialised data directory the caller keeps (e.g. on a small disk).
    pub async fn start_at(data: DataDir, database: String) -> Self {
        Self::run(data, database).await
    }

    /// Another server process-alike on the same data directory and database (a replica).
    pub async fn replica(&self) -> Self {
        Self::run(self.data.clone(), self.database.clone()).await
    }

    async fn run(data: DataDir, database: String) -> Self {
        let state = data.open(&database, None).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(headmaster_server::serve::serve(
            state.clone(),
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            state,
            addr,
            data,
            database,
            _dir: None,
            stop: Some(stop),
            task: Some(tokio::spawn(async move {
                task.await.unwrap().unwrap();
            })),
        }
    }

    /// `https://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// An HTTPS client that trusts this server's certificate, TLS 1.3 only.
    pub fn client(&self) -> reqwest::Client {
        client_for(&self.data.cert_files().cert)
    }

    /// A fresh enrollment token valid for a day.
    pub async fn token(&self) -> String {
        headmaster_server::admin::create_enroll_token(&*self.state.store, 86_400_000)
            .await
            .unwrap()
            .token
    }

    /// A new device enrolled with a fresh token.
    pub async fn enroll(&self, name: &str) -> TestDevice {
        let device = TestDevice::new(self.client(), self.url(""));
        let (status, body) = device.enroll(&self.token().await, name).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        device
    }

    /// Stops the server and waits until it has; the returned guard keeps its data directory.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        self.stop.take().unwrap().send(()).ok();
        self.task.take().unwrap().await.unwrap();
        self._dir.take()
    }
}

/// The server's access log exported as a bundle that must verify under its own key; returns
/// the bundle's `events.jsonl`.
pub async fn verified_access_log(state: &State) -> String {
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("access");
    headmaster_server::access::export(
        &*state.store,
        &state.data_key,
        &state.server_key,
        &bundle,
        &mut |_| {},
    )
    .await
    .unwrap();
    let key = state.server_key.signing().verifying_key();
    let report = headmaster_protocol::bundle::verify_bundle(
        &bundle,
        headmaster_protocol::bundle::Trust::Pinned(&[key]),
    )
    .unwrap();
    assert!(report.is_valid(), "{report:?}");
    std::fs::read_to_string(bundle.join("events.jsonl")).unwrap()
}

/// Uploads `segment` and checks that the server stored it whole, then that a replay of it
/// stores nothing more.
pub async fn assert_stored_once(device: &TestDevice, scope: &str, segment: Vec<u8>, events: u64) {
    for stored in [events, 0] {
        let (status, body) = device.upload(scope, segment.clone()).await;
        assert_eq!(
            (status, body["stored"].as_u64()),
            (StatusCode::OK, Some(stored)),
            "{body}"
        );
    }
}

/// How many access-log entries of `events.jsonl` are uploads of the instance chain refused
/// with `code`.
pub fn refused_uploads(events: &str, code: &str) -> usize {
    events
        .lines()
        .filter(|l| l.contains("/api/v1/chains/instance/segments") && l.contains(code))
        .count()
}

/// An HTTPS client trusting the certificate in `cert_pem`, TLS 1.3 only.
pub fn client_for(cert_pem: &std::path::Path) -> reqwest::Client {
    let pem = std::fs::read(cert_pem).unwrap();
    reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .min_tls_version(reqwest::tls::Version::TLS_1_3)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A device with its own key that signs every request.
pub struct TestDevice {
    pub key: SigningKey,
    pub fingerprint: String,
    http: reqwest::Client,
    base: String,
}

impl TestDevice {
    /// A device with a new key talking to `base`.
    pub fn new(http: reqwest::Client, base: String) -> Self {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        Self {
            fingerprint: key_fingerprint(&key.verifying_key()),
            key,
            http,
            base,
        }
    }

    /// The same device (same key) talking to another server address, e.g. a replica.
    pub fn with_key(device: &TestDevice, http: reqwest::Client, base: String) -> Self {
        Self {
            key: SigningKey::from_bytes(&device.key.to_bytes()),
            fingerprint: device.fingerprint.clone(),
            http,
            base,
        }
    }

    /// The device key's OpenSSH line.
    pub fn public_line(&self) -> String {
        headmaster_protocol::bundle::device_pub_line(&self.key.verifying_key())
    }

    /// Sends the enrollment request.
    pub async fn enroll(&self, token: &str, name: &str) -> (StatusCode, Value) {
        let body =
            serde_json::json!({"token": token, "public_key": self.public_line(), "name": name});
        let response = self
            .http
            .post(format!("{}/api/v1/devices", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// The signature headers for one request, with a fresh nonce and the current time.
    pub fn sign(&self, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        self.sign_with(
            method,
            path,
            body,
            &hex::encode(nonce),
            chrono::Utc::now().timestamp_millis(),
        )
    }

    /// The signature headers with a given nonce and time.
    pub fn sign_with(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        nonce: &str,
        time_ms: i64,
    ) -> Vec<(&'static str, String)> {
        let signed = RequestParts {
            method,
            path_and_query: path,
            device: &self.fingerprint,
            time_ms,
            nonce,
            body,
        }
        .sign(&self.key);
        vec![
            (headmaster_protocol::request::DEVICE_HEADER, signed.device),
            (headmaster_protocol::request::TIME_HEADER, signed.time),
            (headmaster_protocol::request::NONCE_HEADER, signed.nonce),
            (
                headmaster_protocol::request::SIGNATURE_HEADER,
                signed.signature,
            ),
        ]
    }

    /// Sends a request with the given headers.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: Vec<(&'static str, String)>,
    ) -> (StatusCode, Value) {
        self.try_send(method, path, body, headers).await.unwrap()
    }

    /// Sends a request, returning a transport error instead of failing the test.
    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: Vec<(&'static str, String)>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("user-agent", "headmaster-test/1")
            .body(body);
        if method == "POST" {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// Uploads a segment, returning a transport error instead of failing the test.
    pub async fn try_upload(
        &self,
        scope: &str,
        segment: Vec<u8>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let path = format!("/api/v1/chains/{scope}/segments");
        let headers = self.sign("POST", &path, &segment);
        self.try_send("POST", &path, segment, headers).await
    }

    /// A signed GET.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let headers = self.sign("GET", path, b"");
        self.send("GET", path, Vec::new(), headers).await
    }

    /// A signed POST of a JSON body.
    pub async fn post(&self, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let headers = self.sign("POST", path, &body);
        self.send("POST", path, body, headers).await
    }

    /// Uploads a segment of `scope`.
    pub async fn upload(&self, scope: &str, segment: Vec<u8>) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/chains/{scope}/segments"), segment)
            .await
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The real `headmaster-server` binary, serving on 127.0.0.1 until dropped (SIGKILL on drop).
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    pub pin: String,
}

impl ServerProcess {
    /// Starts `headmaster-server serve` on `data` (and `database`, if given).
    pub fn start(data: &std::path::Path, database: Option<&str>, extra: &[&str]) -> Self {
        Self::ready(Self::command(data, database, extra).spawn().unwrap())
    }

    /// The `serve` command line, stdout piped (for [`ServerProcess::ready`]), stderr discarded.
    pub fn command(data: &std::path::Path, database: Option<&str>, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_headmaster-server"));
        cmd.arg("--data").arg(data);
        if let Some(db) = database {
            cmd.args(["--database", db]);
        }
        cmd.arg("serve");
        if !extra.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(extra);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        cmd
    }

    /// Waits until a started `serve` says it is listening.
    pub fn ready(mut child: Child) -> Self {
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let mut port = None;
        let mut pin = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("listening on ") {
                port = Some(addr.rsplit(':').next().unwrap().parse().unwrap());
            } else if let Some(p) = line.strip_prefix("pin ") {
                pin = Some(p.to_owned());
            } else if line.starts_with("backend ") {
                break;
            }
        }
        Self {
            child,
            port: port.expect("the server printed its address"),
            pin: pin.expect("the server printed its pin"),
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Sends a signal by name (`-HUP`, `-TERM`, `-KILL`) and, for TERM and KILL, waits for the exit.
    pub fn signal(&mut self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        if signal == "-KILL" || signal == "-TERM" {
            self.child.wait().unwrap();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with `args` and returns (success, stdout, stderr).
pub fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_headmaster-server"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
