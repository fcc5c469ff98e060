//! `GET /api/v1/events`: the SIEM pull API, for read-only API tokens.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State as Extract};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::devices::token_hash;
use super::error::ApiError;
use super::{Caller, State};
use crate::siem::{write_page, EventFilter, DEFAULT_PAGE, MAX_PAGE};
use crate::store::ApiTokenRow;

/// The response header that carries the cursor of the next page.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";
/// The only token scope there is so far.
pub const SIEM_READ: &str = "siem.read";

/// The query parameters of the feed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Where to continue (the previous page's `x-next-cursor`).
    pub cursor: Option<String>,
    /// Events per page, 1 to 10,000 (default 1,000).
    pub limit: Option<i64>,
    /// Events at or after this time: RFC 3339 or milliseconds since the epoch.
    pub since: Option<String>,
    /// Events before this time.
    pub until: Option<String>,
    /// One workspace (chain scope), or `instance`.
    pub workspace: Option<String>,
    /// One device, by id or `SHA256:` fingerprint.
    pub device: Option<String>,
    /// One OCSF class.
    pub class_uid: Option<i32>,
    /// One actor id.
    pub actor: Option<String>,
}

/// A request made with a valid, unrevoked `siem.read` token.
#[derive(Debug)]
pub struct SiemCall {
    /// The token.
    pub token: ApiTokenRow,
}

impl FromRequestParts<State> for SiemCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "auth.bad_token",
                "send a read-only API token as `Authorization: Bearer TOKEN` (make one with `headmaster-server token create --scope siem.read`)",
            )
        };
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        let row = state
            .store
            .use_api_token(&token_hash(token), crate::clock::now_ms())
            .await?
            .ok_or_else(unauthorized)?;
        if let Some(caller) = parts.extensions.get::<Caller>() {
            caller.set(format!("token:{}", row.id));
        }
        if row.revoked_ms.is_some() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "auth.token_revoked",
                "this API token was revoked; ask the server's Admin for a new one",
            ));
        }
        if row.scope != SIEM_READ {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "auth.token_scope",
                format!("this token's scope is {}, not {SIEM_READ}", row.scope),
            ));
        }
        Ok(Self { token: row })
    }
}

/// `GET /api/v1/events`.
pub async fn events(
    Extract(state): Extract<State>,
    _call: SiemCall,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "siem.bad_query",
            format!("{e}; the parameters are cursor, limit, since, until, workspace, device, class_uid, actor"),
        )
    })?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "siem.bad_query",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let device_id = match &query.device {
        Some(d) if d.starts_with("SHA256:") => Some(
            state
                .store
                .device_by_fingerprint(d)
                .await?
                .map(|row| row.id)
                .unwrap_or_else(|| d.clone()),
        ),
        other => other.clone(),
    };
    let filter = EventFilter {
        since_ms: query.since.as_deref().map(parse_time).transpose()?,
        until_ms: query.until.as_deref().map(parse_time).transpose()?,
        scope: query.workspace.clone(),
        device_id,
        class_uid: query.class_uid,
        actor_id: query.actor.clone(),
    };
    let page = state
        .store
        .siem_page(&filter, query.cursor.as_deref(), limit)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "siem.bad_cursor",
                "the cursor is not one this server gave out; start without a cursor or use the last x-next-cursor",
            )
        })?;
    let devices = state.store.devices().await?;
    let mut body = Vec::with_capacity(page.rows.len() * 1024);
    write_page(&page.rows, &devices, &state.data_key, &mut body)
        .map_err(|why| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "siem.unreadable", why))?;
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(
        NEXT_CURSOR_HEADER,
        HeaderValue::from_str(&page.next).expect("cursors are ASCII"),
    );
    Ok(response)
}

/// An RFC 3339 time or milliseconds since the epoch.
fn parse_time(text: &str) -> Result<i64, ApiError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "siem.bad_query",
                format!("{text:?} is not a time: use RFC 3339 (2026-12-04T05:00:00Z) or milliseconds since the epoch"),
            )
        })
}
