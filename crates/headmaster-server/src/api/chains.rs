//! Audit ingest and chain status.

use axum::extract::{Path, State as Extract};
use axum::http::StatusCode;
use axum::Json;
use headmaster_protocol::segment::{Segment, SegmentError, SegmentJson};
use serde::{Deserialize, Serialize};

use super::auth::{device_key, DeviceCall};
use super::error::ApiError;
use super::State;
use crate::ingest::{self, Outcome, Refusal, Upload};
use crate::store::ChainRowStatus;
use crate::store::RefusalRow;

/// What the server holds of one chain.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChainStatusJson {
    pub scope: String,
    /// The last seq held, 0 when nothing is.
    pub last_seq: u64,
    /// Its hash, hex.
    pub last_hash: String,
    /// The latest receipt the server signed for the chain.
    pub receipt: Option<serde_json::Value>,
    /// When the last segment was accepted (RFC 3339).
    pub last_upload: Option<String>,
}

impl From<&ChainRowStatus> for ChainStatusJson {
    fn from(c: &ChainRowStatus) -> Self {
        Self {
            scope: c.scope.clone(),
            last_seq: c.last_seq as u64,
            last_hash: hex::encode(&c.last_hash),
            receipt: c
                .receipt
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            last_upload: c.last_upload_ms.map(crate::clock::rfc3339),
        }
    }
}

/// The answer to an accepted segment.
#[derive(Debug, Serialize, Deserialize)]
pub struct Accepted {
    /// Rows this upload stored (0 for a replay).
    pub stored: u64,
    /// The server's receipt for the chain.
    pub receipt: serde_json::Value,
}

/// `POST /api/v1/chains/{scope}/segments`.
pub async fn upload(
    Extract(state): Extract<State>,
    Path(scope): Path<String>,
    call: DeviceCall,
) -> Result<Json<Accepted>, ApiError> {
    let now_ms = crate::clock::now_ms();
    let refuse =
        |code: &'static str, status: StatusCode, message: String, seqs: Option<(i64, i64)>| {
            let record = RefusalRow {
                device_id: Some(call.device.id.clone()),
                scope: Some(scope.clone()),
                code: code.to_owned(),
                first_seq: seqs.map(|s| s.0),
                last_seq: seqs.map(|s| s.1),
                detail: message.clone(),
                time_ms: now_ms,
            };
            (record, ApiError::new(status, code, message))
        };
    let json: SegmentJson = match serde_json::from_slice(&call.body) {
        Ok(json) => json,
        Err(e) => {
            let (record, error) = refuse(
                "segment.malformed",
                StatusCode::BAD_REQUEST,
                format!("the body is not a segment {{scope, rows, events, checkpoint}}: {e}"),
                None,
            );
            state.store.record_refusal(&record).await?;
            return Err(error);
        }
    };
    let seqs = match (json.rows.first(), json.rows.last()) {
        (Some(a), Some(b)) => Some((a.seq as i64, b.seq as i64)),
        _ => None,
    };
    if json.scope != scope {
        let (record, error) = refuse(
            "segment.scope_mismatch",
            StatusCode::BAD_REQUEST,
            format!("the segment is of scope {:?} but was sent to /chains/{scope}; send it to its own chain", json.scope),
            seqs,
        );
        state.store.record_refusal(&record).await?;
        return Err(error);
    }
    let key = device_key(&call.device)?;
    let segment = match Segment::check(json, &key) {
        Ok(segment) => segment,
        Err(e) => {
            let status = match e {
                SegmentError::BadSignature(_) => StatusCode::FORBIDDEN,
                SegmentError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let (record, error) = refuse(e.code(), status, e.to_string(), seqs);
            state.store.record_refusal(&record).await?;
            return Err(error);
        }
    };
    let tx = state.store.chain_tx(&call.device.id, &scope).await?;
    let outcome = ingest::run(
        tx,
        Upload {
            device: &call.device,
            segment: &segment,
            body: &call.body,
            data_key: &state.data_key,
            server_key: &state.server_key,
            now_ms,
        },
    )
    .await?;
    match outcome {
        Outcome::Accepted { receipt, stored } => {
            if stored > 0 {
                state.feed_wake.notify_waiters();
            }
            Ok(Json(Accepted {
                stored,
                receipt: serde_json::to_value(receipt).expect("a receipt serialises"),
            }))
        }
        Outcome::Refused(refusal) => {
            let mut error = ApiError::new(StatusCode::CONFLICT, refusal.code(), refusal.message());
            error = match &refusal {
                Refusal::Gap { expected } => error.with("expected_seq", *expected),
                Refusal::Fork { seq, quarantine_id } | Refusal::Rollback { seq, quarantine_id } => {
                    error
                        .with("seq", *seq)
                        .with("quarantine_id", quarantine_id.clone())
                }
            };
            Err(error)
        }
    }
}

/// `GET /api/v1/chains/{scope}`: how far the server holds the caller's chain, with the receipt.
pub async fn status(
    Extract(state): Extract<State>,
    Path(scope): Path<String>,
    call: DeviceCall,
) -> Result<Json<ChainStatusJson>, ApiError> {
    let chains = state.store.chains(Some(&call.device.id)).await?;
    Ok(Json(match chains.iter().find(|c| c.scope == scope) {
        Some(chain) => ChainStatusJson::from(chain),
        None => ChainStatusJson {
            last_hash: hex::encode(headmaster_protocol::chain::genesis(&scope)),
            scope,
            last_seq: 0,
            receipt: None,
            last_upload: None,
        },
    }))
}
