//! Who is calling: the device-signed request extractor.
//!
//! [`DeviceCall`] reads the body (up to the limit), checks the content type of a body, finds
//! the enrolled device by the fingerprint header, refuses a revoked one, checks the signature
//! over method, path, time, nonce and body, and spends the nonce (a second use is a replay,
//! whichever replica sees it). Only then does a handler run.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use headmaster_protocol::request::{
    RequestError, RequestParts, DEVICE_HEADER, MAX_SKEW_MS, NONCE_HEADER, SIGNATURE_HEADER,
    TIME_HEADER,
};

use super::error::ApiError;
use super::{Caller, State};
use crate::store::DeviceRow;

/// The largest request body accepted.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A request signed by an enrolled, unrevoked device.
#[derive(Debug)]
pub struct DeviceCall {
    /// The device.
    pub device: DeviceRow,
    /// The body.
    pub body: Bytes,
}

impl FromRequest<State> for DeviceCall {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &State) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let caller = parts.extensions.get::<Caller>().cloned();
        let body = read_body(&parts.method, &parts.headers, body).await?;
        let header = |name: &'static str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| unsigned(RequestError::Header(name)))
        };
        let fingerprint = header(DEVICE_HEADER)?;
        if let Some(caller) = &caller {
            caller.set(format!("device:{fingerprint}"));
        }
        let time_ms: i64 = header(TIME_HEADER)?
            .parse()
            .map_err(|_| unsigned(RequestError::Header(TIME_HEADER)))?;
        let nonce = header(NONCE_HEADER)?;
        let signature = header(SIGNATURE_HEADER)?;
        let device = state
            .store
            .device_by_fingerprint(fingerprint)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "auth.unknown_device",
                    format!("no device with key {fingerprint} is enrolled; join the server with an enrollment token first"),
                )
            })?;
        if device.revoked_ms.is_some() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "auth.revoked",
                "this device was revoked on the server; an Admin must enroll it again with a new token",
            ));
        }
        let key = device_key(&device)?;
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let now = crate::clock::now_ms();
        RequestParts {
            method: parts.method.as_str(),
            path_and_query: path,
            device: fingerprint,
            time_ms,
            nonce,
            body: &body,
        }
        .verify(signature, &key, now)
        .map_err(unsigned)?;
        // The nonce is remembered past the whole window the time check accepts.
        let fresh = state
            .store
            .use_nonce(&device.id, nonce, time_ms + MAX_SKEW_MS + 1, now)
            .await?;
        if !fresh {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "auth.replay",
                "this request was sent before (its nonce was used); sign every request with a fresh nonce",
            ));
        }
        Ok(Self { device, body })
    }
}

/// The device's verifying key from its stored OpenSSH line.
pub fn device_key(device: &DeviceRow) -> Result<ed25519_dalek::VerifyingKey, ApiError> {
    parse_public_key(&device.public_key).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server.device_key",
            "the stored key of this device does not parse; revoke the device and enroll it again",
        )
    })
}

/// Parses an OpenSSH `ssh-ed25519` public key line.
pub fn parse_public_key(line: &str) -> Result<ed25519_dalek::VerifyingKey, String> {
    let key = ssh_key::PublicKey::from_openssh(line.trim()).map_err(|e| e.to_string())?;
    let ed = key
        .key_data()
        .ed25519()
        .ok_or_else(|| "not an ssh-ed25519 key".to_owned())?;
    ed25519_dalek::VerifyingKey::from_bytes(&ed.0).map_err(|e| e.to_string())
}

/// Reads a request body up to [`MAX_BODY`], requiring `application/json` when there is one.
pub async fn read_body(
    method: &Method,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<Bytes, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            format!("the request body is larger than {MAX_BODY} bytes; send smaller segments"),
        )
    })?;
    let wants_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if wants_body {
        let json = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.content_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
    }
    Ok(bytes)
}

fn unsigned(e: RequestError) -> ApiError {
    let code = match e {
        RequestError::Header(_) => "auth.unsigned",
        RequestError::Stale { .. } => "auth.stale",
        RequestError::BadSignature => "auth.bad_signature",
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, e.to_string())
}
