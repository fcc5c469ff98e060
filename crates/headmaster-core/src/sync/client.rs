//! Requests to the shared server: the URL and pins checked, unsigned for joining, signed by the
//! device key afterwards, and every answer that is not a success turned into a [`SyncError`]
//! that says what to do.

use ed25519_dalek::SigningKey;
use headmaster_protocol::request::{
    RequestParts, DEVICE_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER,
};
use rand::RngCore as _;
use serde_json::Value;

use super::tls::{pinned_client, SeenPin};
use super::SyncError;
use crate::error::{Error, Result};

/// The device identity that signs requests.
pub(crate) struct Signer<'a> {
    pub key: &'a SigningKey,
    pub fingerprint: &'a str,
    pub now_ms: i64,
}

/// A client for one server URL and its pins.
pub(crate) struct ServerClient {
    base: String,
    http: reqwest::Client,
    seen: SeenPin,
}

impl ServerClient {
    /// A client for `base`; it follows no redirect, uses no proxy from the environment and
    /// speaks https only, so nothing it sends can leave the pinned connection.
    pub(crate) fn new(base: &str, pins: &[String]) -> Self {
        let (http, seen) = pinned_client(pins);
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            seen,
        }
    }

    /// An unsigned GET.
    pub(crate) async fn get(&self, path: &str) -> Result<Value, SyncError> {
        self.send("GET", path, Vec::new(), None).await
    }

    /// An unsigned POST of JSON.
    pub(crate) async fn post(&self, path: &str, body: Vec<u8>) -> Result<Value, SyncError> {
        self.send("POST", path, body, None).await
    }

    /// A request signed by the device key.
    pub(crate) async fn signed(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        signer: &Signer<'_>,
    ) -> Result<Value, SyncError> {
        self.send(method, path, body, Some(signer)).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        signer: Option<&Signer<'_>>,
    ) -> Result<Value, SyncError> {
        let method_value: reqwest::Method = method.parse().expect("a known HTTP method");
        let mut request = self
            .http
            .request(method_value, format!("{}{path}", self.base));
        if method == "POST" {
            request = request.header("content-type", "application/json");
        }
        if let Some(signer) = signer {
            let mut nonce = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut nonce);
            let nonce = hex::encode(nonce);
            let signed = RequestParts {
                method,
                path_and_query: path,
                device: signer.fingerprint,
                time_ms: signer.now_ms,
                nonce: &nonce,
                body: &body,
            }
            .sign(signer.key);
            request = request
                .header(DEVICE_HEADER, signed.device)
                .header(TIME_HEADER, signed.time)
                .header(NONCE_HEADER, signed.nonce)
                .header(SIGNATURE_HEADER, signed.signature);
        }
        let response = match request.body(body).send().await {
            Ok(response) => response,
            Err(e) => return Err(self.transport_error(&e)),
        };
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let error = &value["error"];
        Err(SyncError::Refused {
            status: status.as_u16(),
            code: error["code"].as_str().unwrap_or("unknown").to_owned(),
            message: error["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {status} with no error body")),
            expected_seq: error["expected_seq"].as_u64(),
        })
    }

    fn transport_error(&self, e: &reqwest::Error) -> SyncError {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(presented) = seen {
            return SyncError::PinMismatch {
                url: self.base.clone(),
                presented,
            };
        }
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            reason.push_str(": ");
            reason.push_str(&inner.to_string());
            source = inner.source();
        }
        SyncError::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }
}

/// One or two well-formed pins.
pub(crate) fn check_pins(pins: &[String]) -> Result<()> {
    if pins.is_empty() || pins.len() > 2 {
        return Err(Error::InvalidInput(
            "give one --pin (or two while the server's certificate rolls over)".into(),
        ));
    }
    for pin in pins {
        super::tls::check_pin(pin).map_err(Error::InvalidInput)?;
    }
    Ok(())
}

/// `https://host[:port]` with nothing after the authority but an optional `/`.
pub(crate) fn check_url(url: &str) -> Result<String> {
    let parsed = url::Url::parse(url).map_err(|e| {
        Error::InvalidInput(format!(
            "{url:?} is not a server URL ({e}); give it as https://HOST:PORT"
        ))
    })?;
    if parsed.scheme() != "https" {
        return Err(Error::InvalidInput(format!(
            "{url:?} is not https: the server is only reached over TLS 1.3; give https://HOST:PORT"
        )));
    }
    if parsed.host_str().is_none()
        || parsed.path() != "/"
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(Error::InvalidInput(format!(
            "{url:?} must be just https://HOST:PORT, with no path, query or user"
        )));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}
