//! The Splunk HEC sink: `POST /services/collector/event` with `Authorization: Splunk TOKEN`,
//! the body one JSON object per event, each `{"time", "host", "source", "sourcetype", "event"}`.
//!
//! HTTP 200 means the collector took the batch. 400 means it refused something in it (Splunk
//! codes 5 to 13: no data, bad format, missing or blank event): the batch is split and sent
//! again event by event, and an event refused alone is a dead letter. 401 and 403 (token
//! refused or disabled) and anything else (429, 5xx, no answer) are failures retried later.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::push::{Batch, Deliver};
use super::Target;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// One event in Splunk's HEC shape.
pub fn hec_event(event: &Value) -> Value {
    let host = event["device"]["name"]
        .as_str()
        .or(event["device"]["uid"].as_str())
        .unwrap_or("headmaster");
    let mut out = json!({
        "host": host,
        "source": "headmaster",
        "sourcetype": "ocsf",
        "event": event,
    });
    if let Some(ms) = event["time"].as_i64() {
        // Seconds with milliseconds, as Splunk reads `time`.
        out["time"] = json!(ms as f64 / 1000.0);
    }
    out
}

/// Sends batches to one HTTP Event Collector.
pub struct Hec {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Hec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hec")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Hec {
    /// A sender to `target` with `token`, checking its certificate against `ca_pem`.
    pub fn new(target: Target, ca_pem: Option<&str>, token: String) -> Result<Self, String> {
        let tls = crate::tls::client_config(ca_pem)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .timeout(TIMEOUT)
            .user_agent(concat!("headmaster-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make the HTTPS client: {e}"))?;
        Ok(Self {
            url: target.url.expect("a HEC target has a URL"),
            token,
            http,
        })
    }

    /// Posts `events`: `Ok(None)` when taken, `Ok(Some(reason))` when the collector refused
    /// the data itself (400), `Err` for anything to retry.
    async fn post(&self, events: &[Value]) -> Result<Option<String>, String> {
        let mut body = Vec::new();
        for event in events {
            serde_json::to_writer(&mut body, &hec_event(event))
                .expect("writing JSON to a Vec cannot fail");
            body.push(b'\n');
        }
        let response = self
            .http
            .post(&self.url)
            .header("authorization", format!("Splunk {}", self.token))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the collector did not answer: {e}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(300).collect();
        match status {
            s if s.is_success() => Ok(None),
            StatusCode::BAD_REQUEST => Ok(Some(format!("refused by the collector: {text}"))),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(format!(
                "the collector refused the token (HTTP {}: {text}); remove the sink and add it \
                 again with a valid --token-file",
                status.as_u16()
            )),
            s => Err(format!(
                "the collector answered HTTP {}: {text}",
                s.as_u16()
            )),
        }
    }
}

#[async_trait::async_trait]
impl Deliver for Hec {
    async fn deliver(&self, events: &[Value]) -> Result<Batch, String> {
        let mut batch = Batch::default();
        if self.post(events).await?.is_none() {
            batch.delivered = events.len() as i64;
            return Ok(batch);
        }
        // Something in the batch was refused: find it, one event at a time.
        for event in events {
            match self.post(std::slice::from_ref(event)).await? {
                None => batch.delivered += 1,
                Some(reason) => batch.refuse(event, reason),
            }
        }
        Ok(batch)
    }
}

/// Builds a HEC sender for a stored sink.
pub fn sender(
    target: Target,
    ca_pem: Option<&str>,
    token: String,
) -> Result<Arc<dyn Deliver>, String> {
    Ok(Arc::new(Hec::new(target, ca_pem, token)?))
}

#[cfg(test)]
mod tests {
    use super::hec_event;

    #[test]
    fn events_take_the_hec_shape() {
        let event = serde_json::json!({"time": 1_796_360_401_250i64, "device": {"name": "laptop"}});
        let hec = hec_event(&event);
        assert_eq!(hec["time"], 1_796_360_401.25);
        assert_eq!(hec["host"], "laptop");
        assert_eq!(hec["sourcetype"], "ocsf");
        assert_eq!(hec["event"], event);
    }
}
