//! Push sinks: the SIEM feed forwarded to a receiver, each sink with its own cursor.
//!
//! - `syslog+tls://HOST:PORT`: RFC 5424 messages in RFC 5425 octet-counting frames over TLS 1.3.
//! - `hec+https://HOST:PORT[/PATH]`: Splunk's HTTP Event Collector (`/services/collector/event`
//!   unless a path is given), with its token.
//!
//! A sink reads the stored feed (never the ingest path), so a receiver that is down or slow
//! never slows an upload: its cursor just stays behind. Each batch is retried with exponential
//! backoff until the receiver takes it; an event the receiver refuses for good is counted and
//! kept as a dead letter, and the cursor moves past it. Sinks live in the database with a
//! lease, so of several replicas exactly one pushes each sink at a time.

pub mod hec;
pub mod push;
pub mod syslog;

use serde::Serialize;

use crate::keys::DataKey;
use crate::store::sink::{NewSink, SinkRow};
use crate::store::Store;

/// A receiver's address, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `syslog` or `hec`.
    pub kind: &'static str,
    /// The host the certificate must name.
    pub host: String,
    pub port: u16,
    /// For HEC, the full `https://` URL of the collector endpoint.
    pub url: Option<String>,
}

/// The HEC endpoint path when the target names none.
pub const HEC_PATH: &str = "/services/collector/event";

impl Target {
    /// Parses `syslog+tls://HOST:PORT` or `hec+https://HOST:PORT[/PATH]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let usage = "write syslog+tls://HOST:PORT or hec+https://HOST:PORT";
        let url =
            url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e}); {usage}"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{text:?} names no host; {usage}"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{text:?} carries credentials in the URL; give the HEC token with --token-file instead"
            ));
        }
        match url.scheme() {
            "syslog+tls" => {
                let port = url
                    .port()
                    .ok_or_else(|| format!("{text:?} names no port (6514 is the usual one)"))?;
                if !matches!(url.path(), "" | "/") || url.query().is_some() {
                    return Err(format!("{text:?}: a syslog target is only HOST:PORT"));
                }
                Ok(Self {
                    kind: "syslog",
                    host,
                    port,
                    url: None,
                })
            }
            "hec+https" => {
                let port = url.port().unwrap_or(8088);
                let path = match url.path() {
                    "" | "/" => HEC_PATH,
                    p => p,
                };
                let authority = if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                };
                Ok(Self {
                    kind: "hec",
                    url: Some(format!("https://{authority}{path}")),
                    host,
                    port,
                })
            }
            other => Err(format!("{other:?} is not a sink kind; {usage}")),
        }
    }
}

/// The data-key place of a sink's secret.
pub fn secret_place(sink_id: &str) -> String {
    format!("sink-secret|{sink_id}")
}

/// What `sink add` is given.
#[derive(Debug, Default)]
pub struct SinkSpec {
    pub target: String,
    pub name: Option<String>,
    /// PEM certificates the receiver's must chain to.
    pub ca_pem: Option<String>,
    /// The HEC token.
    pub token: Option<String>,
    /// Start at the end of the feed instead of its beginning.
    pub from_now: bool,
}

/// Adds a sink after checking its target, CA and token; returns its id.
pub async fn add(store: &dyn Store, key: &DataKey, spec: SinkSpec) -> Result<String, String> {
    let target = Target::parse(&spec.target)?;
    if let Some(pem) = &spec.ca_pem {
        crate::tls::client_config(Some(pem))?;
    }
    let token = spec.token.map(|t| t.trim().to_owned());
    match (target.kind, &token) {
        ("hec", None) => return Err("a HEC sink needs its token: --token-file FILE".into()),
        ("hec", Some(t)) if t.is_empty() || t.chars().any(|c| c.is_whitespace()) => {
            return Err("the HEC token is empty or has spaces inside; check the token file".into())
        }
        ("syslog", Some(_)) => return Err("a syslog sink takes no token".into()),
        _ => {}
    }
    let id = uuid::Uuid::now_v7().to_string();
    let cursor = if spec.from_now {
        Some(store.siem_end().await.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let sink = NewSink {
        secret_sealed: token.map(|t| key.seal(secret_place(&id).as_bytes(), t.as_bytes())),
        id: id.clone(),
        kind: target.kind.to_owned(),
        name: spec.name.unwrap_or_else(|| spec.target.clone()),
        target: spec.target,
        ca_pem: spec.ca_pem,
        cursor,
        created_ms: crate::clock::now_ms(),
    };
    store.add_sink(&sink).await.map_err(|e| e.to_string())?;
    Ok(id)
}

/// A sink as `sink list` and `status` show it.
#[derive(Debug, Serialize)]
pub struct SinkView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub target: String,
    /// Events of the feed not yet delivered.
    pub pending: Option<i64>,
    pub delivered: i64,
    pub dead_letters: i64,
    /// Failed attempts in a row (0 when the last one worked).
    pub failures: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub last_success_at: Option<String>,
    pub cursor: Option<String>,
    /// The replica pushing it, while its lease runs.
    pub pushed_by: Option<String>,
}

/// Every sink in service with its cursor, counters and last error.
pub async fn views(store: &dyn Store) -> Result<Vec<SinkView>, crate::store::StoreError> {
    let now = crate::clock::now_ms();
    let mut out = Vec::new();
    for s in store.sinks().await? {
        out.push(view(store, s, now).await?);
    }
    Ok(out)
}

async fn view(
    store: &dyn Store,
    s: SinkRow,
    now: i64,
) -> Result<SinkView, crate::store::StoreError> {
    Ok(SinkView {
        pending: store.siem_backlog(s.cursor.as_deref()).await?,
        pushed_by: s
            .lease_owner
            .filter(|_| s.lease_until_ms.is_some_and(|t| t >= now)),
        id: s.id,
        name: s.name,
        kind: s.kind,
        target: s.target,
        delivered: s.delivered,
        dead_letters: s.dead_letters,
        failures: s.failures,
        last_error: s.last_error,
        last_error_at: s.last_error_ms.map(crate::clock::rfc3339),
        last_success_at: s.last_success_ms.map(crate::clock::rfc3339),
        cursor: s.cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn targets_parse_or_say_what_to_write() {
        let t = Target::parse("syslog+tls://127.0.0.1:6514").unwrap();
        assert_eq!(
            (t.kind, t.host.as_str(), t.port),
            ("syslog", "127.0.0.1", 6514)
        );
        let t = Target::parse("hec+https://splunk.example:8088").unwrap();
        assert_eq!(
            t.url.as_deref(),
            Some("https://splunk.example:8088/services/collector/event")
        );
        let t = Target::parse("hec+https://[::1]:9000/custom").unwrap();
        assert_eq!(t.url.as_deref(), Some("https://[::1]:9000/custom"));
        for bad in [
            "syslog+tls://host",
            "syslog://host:514",
            "syslog+tls://host:6514/path",
            "hec+https://user:pw@host:8088",
            "not a url",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
