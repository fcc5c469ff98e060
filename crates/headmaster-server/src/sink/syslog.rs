//! The syslog sink: RFC 5424 messages, RFC 5425 framing (`MSG-LEN SP SYSLOG-MSG`), TLS 1.3.
//!
//! Syslog has no acknowledgement, so a batch counts as delivered only when the receiver closes
//! the connection after our `close_notify`: it has then read every frame before it (TCP keeps
//! them in order). A connection that breaks before that leaves the cursor where it was and the
//! batch is sent again; the event uids (`metadata.uid`) let a SIEM drop a copy if the receiver
//! had read part of it.
//!
//! Each message: `<PRI>1 TIMESTAMP HOSTNAME headmaster - MSGID - JSON`, where PRI is facility
//! 13 (log audit) with a severity from the OCSF `severity_id`, TIMESTAMP the event's time,
//! HOSTNAME the device's name, MSGID the OCSF class uid, and the message the event as one line
//! of JSON.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::push::{Batch, Deliver};
use super::Target;

/// The largest message sent; a bigger event is a dead letter (receivers truncate or drop
/// long messages; rsyslog's `maxMessageSize` must be at least this to take every event).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Facility 13, "log audit".
const FACILITY: u32 = 13;
/// How long to connect, and how long the receiver has to close after the batch.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The RFC 5424 severity for an OCSF `severity_id`.
fn severity(event: &Value) -> u32 {
    match event["severity_id"].as_u64() {
        Some(6) => 1, // fatal → alert
        Some(5) => 2, // critical → critical
        Some(4) => 3, // high → error
        Some(3) => 4, // medium → warning
        Some(2) => 5, // low → notice
        _ => 6,       // informational, unknown, other → informational
    }
}

/// `text` as a syslog header field: printable US-ASCII without spaces, at most `max` long,
/// `-` when nothing is left.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() {
        "-".into()
    } else {
        field
    }
}

/// One event as an RFC 5424 message.
pub fn message(event: &Value) -> Vec<u8> {
    let time = event["time"]
        .as_i64()
        .map(crate::clock::rfc3339)
        .unwrap_or_else(|| "-".into());
    let host = header_field(
        event["device"]["name"]
            .as_str()
            .or(event["device"]["uid"].as_str())
            .unwrap_or(""),
        255,
    );
    let msgid = header_field(&event["class_uid"].to_string(), 32);
    let pri = FACILITY * 8 + severity(event);
    let mut out = format!("<{pri}>1 {time} {host} headmaster - {msgid} - ").into_bytes();
    serde_json::to_writer(&mut out, event).expect("writing JSON to a Vec cannot fail");
    out
}

/// `message` in an RFC 5425 frame.
pub fn frame(message: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("{} ", message.len()).as_bytes());
    out.extend_from_slice(message);
}

/// Sends batches to one syslog receiver.
pub struct Syslog {
    target: Target,
    tls: TlsConnector,
}

impl std::fmt::Debug for Syslog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syslog")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Syslog {
    /// A sender to `target`, checking its certificate against `ca_pem` (or the Mozilla roots).
    pub fn new(target: Target, ca_pem: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            tls: TlsConnector::from(crate::tls::client_config(ca_pem)?),
            target,
        })
    }

    async fn send(&self, bytes: &[u8]) -> Result<(), String> {
        let addr = (self.target.host.as_str(), self.target.port);
        let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| "connecting timed out".to_owned())?
            .map_err(|e| format!("cannot connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(self.target.host.clone())
            .map_err(|e| format!("{:?} is not a host name: {e}", self.target.host))?;
        let mut tls = tokio::time::timeout(TIMEOUT, self.tls.connect(name, tcp))
            .await
            .map_err(|_| "the TLS handshake timed out".to_owned())?
            .map_err(|e| format!("TLS handshake failed: {e} (check --ca and the host name)"))?;
        let confirm = async {
            tls.write_all(bytes).await?;
            // close_notify, then our FIN; the receiver's close says it read everything.
            tls.shutdown().await?;
            let mut rest = Vec::new();
            match tls.read_to_end(&mut rest).await {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
                Err(e) => Err(e),
            }
        };
        tokio::time::timeout(
            TIMEOUT + Duration::from_secs(bytes.len() as u64 >> 20),
            confirm,
        )
        .await
        .map_err(|_| "the receiver did not close the connection after the batch".to_owned())?
        .map_err(|e| format!("the connection broke before the receiver confirmed: {e}"))
    }
}

#[async_trait::async_trait]
impl Deliver for Syslog {
    async fn deliver(&self, events: &[Value]) -> Result<Batch, String> {
        let mut bytes = Vec::new();
        let mut batch = Batch::default();
        for event in events {
            let message = message(event);
            if message.len() > MAX_MESSAGE {
                batch.refuse(event, format!("larger than {MAX_MESSAGE} bytes"));
                continue;
            }
            frame(&message, &mut bytes);
            batch.delivered += 1;
        }
        if !bytes.is_empty() {
            self.send(&bytes).await?;
        }
        Ok(batch)
    }
}

/// Builds a syslog sender for a stored sink.
pub fn sender(target: Target, ca_pem: Option<&str>) -> Result<Arc<dyn Deliver>, String> {
    Ok(Arc::new(Syslog::new(target, ca_pem)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_rfc_5424_and_frames_count_octets() {
        let event = serde_json::json!({
            "time": 1_796_360_401_000i64, "class_uid": 3002, "severity_id": 4,
            "device": {"uid": "d1", "name": "Ann's laptop"}, "metadata": {"uid": "d1:instance:1"},
        });
        let text = String::from_utf8(message(&event)).unwrap();
        assert!(
            text.starts_with("<107>1 2026-12-04T05:00:01.000Z Ann'slaptop headmaster - 3002 - {"),
            "{text}"
        );
        let mut out = Vec::new();
        frame("héllo".as_bytes(), &mut out);
        assert_eq!(out, "6 héllo".as_bytes());
        let bare = serde_json::json!({"class_uid": 1, "device": {"uid": ""}});
        let text = String::from_utf8(message(&bare)).unwrap();
        assert!(text.starts_with("<110>1 - - headmaster - 1 - "), "{text}");
    }
}
