//! Enrollment and a device's own view of what the server holds.

use axum::extract::{Request, State as Extract};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::auth::{parse_public_key, read_body, DeviceCall};
use super::chains::ChainStatusJson;
use super::error::ApiError;
use super::{Caller, State};
use crate::store::{NewDevice, TokenProblem};

/// The body of `POST /api/v1/devices`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The one-time enrollment token.
    pub token: String,
    /// The device's Ed25519 public key, an OpenSSH `ssh-ed25519` line.
    pub public_key: String,
    /// A name people recognise, e.g. `finance-laptop`.
    pub name: String,
}

/// The server's identity, as enrollment returns it and `GET /api/v1/server` shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ServerIdentity {
    /// The server's Ed25519 key, an OpenSSH line (receipts are signed with it).
    pub public_key: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The TLS certificate's SPKI pin, `sha256//…`.
    pub pin: String,
    /// The server's version.
    pub version: String,
}

/// An enrolled device as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeviceJson {
    pub id: String,
    pub fingerprint: String,
    pub name: String,
}

/// The answer to a successful enrollment.
#[derive(Debug, Serialize, Deserialize)]
pub struct Enrolled {
    pub device: DeviceJson,
    pub server: ServerIdentity,
}

/// `GET /api/v1/server`.
pub async fn identity(Extract(state): Extract<State>) -> Json<ServerIdentity> {
    Json(state.identity())
}

/// `POST /api/v1/devices`: spends an enrollment token to register a device key.
pub async fn enroll(
    Extract(state): Extract<State>,
    req: Request,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    let (parts, body) = req.into_parts();
    let body = read_body(&parts.method, &parts.headers, body).await?;
    let request: EnrollRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "request.malformed",
            format!("the enrollment request is not {{token, public_key, name}}: {e}"),
        )
    })?;
    let key = parse_public_key(&request.public_key).map_err(|why| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "enroll.bad_key",
            format!("public_key must be an OpenSSH ssh-ed25519 line: {why}"),
        )
    })?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "enroll.bad_name",
            "name must be 1 to 100 printable characters",
        ));
    }
    let fingerprint = headmaster_protocol::checkpoint::key_fingerprint(&key);
    if let Some(caller) = parts.extensions.get::<Caller>() {
        caller.set(format!("enroll:{fingerprint}"));
    }
    // A revoked device that enrolls again with a fresh token (the Admin's consent) keeps its id,
    // so the chains the server holds of it continue; an enrolled one is refused as taken.
    let id = match state.store.device_by_fingerprint(&fingerprint).await? {
        Some(known) if known.revoked_ms.is_some() => known.id,
        _ => uuid::Uuid::now_v7().to_string(),
    };
    let device = NewDevice {
        name_sealed: state
            .data_key
            .seal(device_name_place(&id).as_bytes(), name.as_bytes()),
        id: id.clone(),
        fingerprint: fingerprint.clone(),
        public_key: ssh_line(&key),
    };
    let hash = token_hash(&request.token);
    match state
        .store
        .enroll(&hash, &device, crate::clock::now_ms())
        .await?
    {
        Ok(()) => {
            tracing::info!(device = %id, %fingerprint, "device enrolled");
            Ok((
                StatusCode::CREATED,
                Json(Enrolled {
                    device: DeviceJson {
                        id,
                        fingerprint,
                        name: name.to_owned(),
                    },
                    server: state.identity(),
                }),
            ))
        }
        Err(problem) => Err(token_refusal(problem)),
    }
}

/// `GET /api/v1/devices/self`: what the server holds of each of the caller's chains.
pub async fn own_status(
    Extract(state): Extract<State>,
    call: DeviceCall,
) -> Result<Json<serde_json::Value>, ApiError> {
    let chains = state.store.chains(Some(&call.device.id)).await?;
    let chains: Vec<ChainStatusJson> = chains.iter().map(ChainStatusJson::from).collect();
    Ok(Json(serde_json::json!({
        "device": { "id": call.device.id, "fingerprint": call.device.fingerprint },
        "chains": chains,
    })))
}

/// `DELETE /api/v1/devices/self`: a device that leaves revokes itself; every later request
/// with its key is refused as from a revoked device. What it uploaded stays archived.
pub async fn revoke_self(
    Extract(state): Extract<State>,
    call: DeviceCall,
) -> Result<Json<serde_json::Value>, ApiError> {
    let revoked = state
        .store
        .revoke_device(&call.device.id, crate::clock::now_ms())
        .await?;
    let revoked_ms = revoked.and_then(|d| d.revoked_ms);
    Ok(Json(serde_json::json!({
        "device": { "id": call.device.id, "fingerprint": call.device.fingerprint },
        "revoked": revoked_ms.map(crate::clock::rfc3339),
    })))
}

/// The SHA-256 under which a token is stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// Where a device's name is sealed.
pub fn device_name_place(id: &str) -> String {
    format!("device-name|{id}")
}

fn ssh_line(key: &ed25519_dalek::VerifyingKey) -> String {
    ssh_key::PublicKey::new(
        ssh_key::public::KeyData::Ed25519(ssh_key::public::Ed25519PublicKey::from(key)),
        "",
    )
    .to_openssh()
    .expect("encoding an Ed25519 public key cannot fail")
}

fn token_refusal(problem: TokenProblem) -> ApiError {
    let (status, code, message) = match problem {
        TokenProblem::Unknown => (
            StatusCode::UNAUTHORIZED,
            "enroll.unknown_token",
            "this enrollment token is not known to the server; ask an Admin for a new one (`headmaster-server enroll create`)",
        ),
        TokenProblem::Expired => (
            StatusCode::UNAUTHORIZED,
            "enroll.expired_token",
            "this enrollment token has expired; ask an Admin for a new one",
        ),
        TokenProblem::Used => (
            StatusCode::UNAUTHORIZED,
            "enroll.used_token",
            "this enrollment token was used already; tokens work once, ask an Admin for a new one",
        ),
        TokenProblem::KeyTaken => (
            StatusCode::CONFLICT,
            "enroll.key_taken",
            "this device key is enrolled already; the token was not spent",
        ),
    };
    ApiError::new(status, code, message)
}
