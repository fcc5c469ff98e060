//! What the admin commands do (`enroll create`, `device list|revoke`, `token`, `status`), on the
//! database and data key directly: they run on the server's own machine, as its operator.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use serde::Serialize;

use crate::api::devices::{device_name_place, token_hash};
use crate::keys::DataKey;
use crate::store::{DeviceRow, Store, StoreError};

/// The prefix of enrollment tokens, so one is recognised where it is pasted.
pub const ENROLL_PREFIX: &str = "hm-enroll-";

/// A new enrollment token.
#[derive(Debug, Serialize)]
pub struct NewToken {
    /// The token: shown once, stored only as its hash.
    pub token: String,
    /// When it stops working (RFC 3339).
    pub expires: String,
}

/// Makes a one-time enrollment token valid for `valid_ms`.
pub async fn create_enroll_token(store: &dyn Store, valid_ms: i64) -> Result<NewToken, StoreError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{ENROLL_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let now = crate::clock::now_ms();
    store
        .add_enroll_token(&token_hash(&token), now, now + valid_ms)
        .await?;
    Ok(NewToken {
        token,
        expires: crate::clock::rfc3339(now + valid_ms),
    })
}

/// The prefix of read-only API tokens.
pub const API_TOKEN_PREFIX: &str = "hm-siem-";

/// A new API token.
#[derive(Debug, Serialize)]
pub struct NewApiToken {
    /// Its id (for `token revoke`).
    pub id: String,
    /// The token: shown once, stored only as its hash.
    pub token: String,
    /// Its scope.
    pub scope: String,
}

/// Makes a read-only API token with `scope` (only `siem.read` exists).
pub async fn create_api_token(
    store: &dyn Store,
    scope: &str,
    name: &str,
) -> Result<NewApiToken, String> {
    if scope != crate::api::events::SIEM_READ {
        return Err(format!(
            "unknown scope {scope:?}; the only scope is siem.read"
        ));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{API_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let id = uuid::Uuid::now_v7().to_string();
    store
        .add_api_token(&crate::store::ApiTokenRow {
            id: id.clone(),
            hash: token_hash(&token).to_vec(),
            scope: scope.to_owned(),
            name: name.to_owned(),
            created_ms: crate::clock::now_ms(),
            revoked_ms: None,
            last_used_ms: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(NewApiToken {
        id,
        token,
        scope: scope.to_owned(),
    })
}

/// A device as the admin commands show it.
#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub id: String,
    pub name: String,
    pub fingerprint: String,
    pub enrolled: String,
    pub last_seen: Option<String>,
    pub revoked: Option<String>,
}

impl DeviceView {
    /// The view of a stored device, its name opened with the data key.
    pub fn of(row: &DeviceRow, key: &DataKey) -> Self {
        let name = key
            .open(device_name_place(&row.id).as_bytes(), &row.name_sealed)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| "[name does not open]".into());
        Self {
            id: row.id.clone(),
            name,
            fingerprint: row.fingerprint.clone(),
            enrolled: crate::clock::rfc3339(row.enrolled_ms),
            last_seen: row.last_seen_ms.map(crate::clock::rfc3339),
            revoked: row.revoked_ms.map(crate::clock::rfc3339),
        }
    }
}

/// Every device.
pub async fn devices(store: &dyn Store, key: &DataKey) -> Result<Vec<DeviceView>, StoreError> {
    Ok(store
        .devices()
        .await?
        .iter()
        .map(|d| DeviceView::of(d, key))
        .collect())
}

/// One chain in the status report.
#[derive(Debug, Serialize)]
pub struct ChainView {
    pub scope: String,
    pub last_seq: i64,
    pub last_upload: Option<String>,
    /// Seconds since the last accepted upload.
    pub lag_seconds: Option<i64>,
}

/// One device in the status report.
#[derive(Debug, Serialize)]
pub struct DeviceStatus {
    #[serde(flatten)]
    pub device: DeviceView,
    pub chains: Vec<ChainView>,
}

/// A quarantined upload in the status report.
#[derive(Debug, Serialize)]
pub struct QuarantineView {
    pub id: String,
    pub device_id: String,
    pub scope: String,
    pub kind: String,
    pub seq: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub received: String,
}

/// A recent refusal in the status report.
#[derive(Debug, Serialize)]
pub struct RefusalView {
    pub device_id: Option<String>,
    pub scope: Option<String>,
    pub code: String,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub detail: String,
    pub time: String,
}

/// `headmaster-server status`.
#[derive(Debug, Serialize)]
pub struct Status {
    pub backend: &'static str,
    pub devices: Vec<DeviceStatus>,
    pub quarantined: Vec<QuarantineView>,
    pub recent_refusals: Vec<RefusalView>,
    /// Push sinks with their cursors, counters and last errors.
    pub sinks: Vec<crate::sink::SinkView>,
}

/// Builds the status report.
pub async fn status(store: &dyn Store, key: &DataKey) -> Result<Status, StoreError> {
    let now = crate::clock::now_ms();
    let chains = store.chains(None).await?;
    let devices = store
        .devices()
        .await?
        .iter()
        .map(|d| DeviceStatus {
            device: DeviceView::of(d, key),
            chains: chains
                .iter()
                .filter(|c| c.device_id == d.id)
                .map(|c| ChainView {
                    scope: c.scope.clone(),
                    last_seq: c.last_seq,
                    last_upload: c.last_upload_ms.map(crate::clock::rfc3339),
                    lag_seconds: c.last_upload_ms.map(|t| (now - t) / 1000),
                })
                .collect(),
        })
        .collect();
    let quarantined = store
        .quarantined()
        .await?
        .into_iter()
        .map(|q| QuarantineView {
            id: q.id,
            device_id: q.device_id,
            scope: q.scope,
            kind: q.kind,
            seq: q.seq,
            first_seq: q.first_seq,
            last_seq: q.last_seq,
            received: crate::clock::rfc3339(q.received_ms),
        })
        .collect();
    let recent_refusals = store
        .refusals(20)
        .await?
        .into_iter()
        .map(|r| RefusalView {
            device_id: r.device_id,
            scope: r.scope,
            code: r.code,
            first_seq: r.first_seq,
            last_seq: r.last_seq,
            detail: r.detail,
            time: crate::clock::rfc3339(r.time_ms),
        })
        .collect();
    Ok(Status {
        backend: store.backend(),
        devices,
        quarantined,
        recent_refusals,
        sinks: crate::sink::views(store).await?,
    })
}

/// Parses a duration like `30m`, `24h` or `7d` into milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 30m, 24h or 7d"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?} has no unit; write e.g. 30m, 24h or 7d")),
    };
    if n == 0 || n > 365 * 86_400_000 / unit_ms {
        return Err(format!(
            "{text:?} must be more than zero and at most a year"
        ));
    }
    Ok(n * unit_ms)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_parse_with_their_unit_only() {
        assert_eq!(parse_duration("24h"), Ok(86_400_000));
        assert_eq!(parse_duration("30m"), Ok(1_800_000));
        assert_eq!(parse_duration("7d"), Ok(604_800_000));
        for bad in ["24", "h", "0h", "-1h", "2y", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
