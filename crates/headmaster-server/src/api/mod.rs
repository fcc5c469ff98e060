//! The HTTP API (axum): routes, the HSTS header on every response, and the access log.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /health` | anyone | `ok` when the database answers, 503 otherwise |
//! | `GET /api/v1/server` | anyone | the server's key, fingerprint and TLS pin |
//! | `POST /api/v1/devices` | enrollment token | registers a device key |
//! | `GET /api/v1/devices/self` | device | per chain: last seq held and the latest receipt |
//! | `DELETE /api/v1/devices/self` | device | the device revokes itself (it left the server) |
//! | `GET /api/v1/chains/{scope}` | device | one chain's status and receipt |
//! | `POST /api/v1/chains/{scope}/segments` | device | uploads a segment |
//! | `GET /api/v1/events` | `siem.read` token | the OCSF feed, NDJSON, cursor-paged, filtered |

pub mod auth;
mod chains;
pub mod devices;
pub mod error;
pub mod events;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State as Extract};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

pub use chains::{Accepted, ChainStatusJson};
pub use devices::{DeviceJson, Enrolled, ServerIdentity};

use crate::access::AccessLog;
use crate::keys::{DataKey, ServerKey};
use crate::store::Store;
use crate::tls::ReloadingCert;
use error::{ApiError, ErrorCode};

/// `Strict-Transport-Security` on every response: two years, subdomains included.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Everything a request handler may use.
#[derive(Debug)]
pub struct Server {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The key that seals stored values.
    pub data_key: Arc<DataKey>,
    /// The server's signing key.
    pub server_key: Arc<ServerKey>,
    /// The access log's writer.
    pub access: AccessLog,
    /// The certificate in service.
    pub cert: Arc<ReloadingCert>,
    /// This process among the replicas (the holder of its sink leases).
    pub replica: String,
    /// Woken when an upload commits, so idle sinks push at once.
    pub feed_wake: tokio::sync::Notify,
}

/// The shared state of the handlers.
pub type State = Arc<Server>;

impl Server {
    /// The server's identity as the API shows it.
    pub fn identity(&self) -> ServerIdentity {
        ServerIdentity {
            public_key: self.server_key.public_line(),
            fingerprint: self.server_key.fingerprint(),
            pin: self.cert.pin(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Who made a request, filled in by whichever extractor authenticates it, for the access log.
#[derive(Debug, Clone, Default)]
pub struct Caller(Arc<Mutex<Option<String>>>);

impl Caller {
    /// Names the caller (`device:SHA256:…`, `token:ID`, `enroll:SHA256:…`).
    pub fn set(&self, who: String) {
        *self.0.lock().expect("caller lock poisoned") = Some(who);
    }

    /// The caller, if one was named.
    pub fn get(&self) -> Option<String> {
        self.0.lock().expect("caller lock poisoned").clone()
    }
}

/// One API call as the access log records it.
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub time_ms: i64,
    pub caller: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub code: Option<&'static str>,
    pub duration_us: u64,
}

/// The router, with its state and layers.
pub fn router(state: State) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/server", get(devices::identity))
        .route("/api/v1/devices", post(devices::enroll))
        .route(
            "/api/v1/devices/self",
            get(devices::own_status).delete(devices::revoke_self),
        )
        .route("/api/v1/chains/{scope}", get(chains::status))
        .route("/api/v1/chains/{scope}/segments", post(chains::upload))
        .route("/api/v1/events", get(events::events))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), access_log))
        .layer(middleware::map_response(hsts))
        .with_state(state)
}

async fn health(Extract(state): Extract<State>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "backend": state.store.backend(),
            "version": env!("CARGO_PKG_VERSION"),
        }))
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; the API is under /api/v1",
    )
}

async fn hsts(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    response
}

async fn access_log(Extract(state): Extract<State>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let caller = Caller::default();
    req.extensions_mut().insert(caller.clone());
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let user_agent = req
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let entry = AccessEntry {
        time_ms: crate::clock::now_ms(),
        caller: caller.get(),
        ip,
        user_agent,
        method,
        path,
        status: response.status().as_u16(),
        code: response.extensions().get::<ErrorCode>().map(|c| c.0),
        duration_us: started.elapsed().as_micros() as u64,
    };
    tracing::info!(
        caller = entry.caller.as_deref().unwrap_or("-"),
        ip = entry.ip.as_deref().unwrap_or("-"),
        method = %entry.method,
        path = %entry.path,
        status = entry.status,
        code = entry.code.unwrap_or("-"),
        duration_us = entry.duration_us,
        "request"
    );
    state.access.record(entry).await;
    response
}
