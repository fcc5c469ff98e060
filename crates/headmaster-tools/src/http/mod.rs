//! `http.get`, `http.head`, and the mutating `http.post`, `http.put`, `http.patch`,
//! `http.delete`: requests to allowlisted hosts, with an SSRF defence.
//!
//! The defence, hop by hop: only http(s); the host must be on the workspace allowlist; names of
//! cloud-metadata services are refused; the name is resolved here and *every* address must be
//! public ([`non_public_range`]); the connection is pinned to exactly those addresses; redirects are
//! followed by hand and each target passes the same checks. An Admin may allow an internal
//! service by its exact `host:port` (`allowed_internal`), and then only that host and port.
//! Bodies are read up to a byte cap, and the whole exchange (DNS, redirects, body) runs under
//! one total time limit.

mod address;
mod args;
mod error;
mod fetch;
mod prepare;
mod target;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{ArgError, ToolError};
use crate::files::{ContentEncoding, MAX_CONFIGURABLE_BYTES};
use crate::secret::{CredentialResolver, Scrubber};

pub use address::non_public_range;
pub use args::{HeaderPreview, HttpAffected, HttpMethod, HttpRequestArgs};
pub use error::HttpError;
pub use target::{LookupFuture, NameResolver, SystemResolver};

use target::HostPolicy;

/// Per-workspace settings of the HTTP tools. The default allows no host at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Hosts that may be requested: exact names (`api.example.com`), wildcards over subdomains
    /// (`*.example.com`, which does not include `example.com` itself), or IP addresses.
    pub allowed_hosts: Vec<String>,
    /// Exact `host:port` pairs an Admin allows even though they resolve to internal addresses
    /// (`intranet.example:8443`, `127.0.0.1:8080`, `[::1]:8080`). Such a pair needs no separate
    /// allowlist entry.
    pub allowed_internal: Vec<String>,
    /// Time allowed to establish a connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Time allowed for the whole exchange (resolution, redirects, body), in milliseconds.
    pub total_timeout_ms: u64,
    /// Largest response body kept; the rest is cut and `truncated` is set.
    pub max_response_bytes: u64,
    /// Largest request body accepted.
    pub max_request_bytes: u64,
    /// Most redirects followed.
    pub max_redirects: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_hosts: Vec::new(),
            allowed_internal: Vec::new(),
            connect_timeout_ms: 5_000,
            total_timeout_ms: 30_000,
            max_response_bytes: 1 << 20,
            max_request_bytes: 1 << 20,
            max_redirects: 5,
        }
    }
}

impl HttpConfig {
    /// Checks every host entry and every limit.
    pub fn validate(&self) -> Result<(), ToolError> {
        HostPolicy::from_config(self)?;
        let refuse = |field: &str, value: u64, allowed: &str| ToolError::InvalidConfig {
            tool: "http",
            error: ArgError::new(field, format!("is {value}"), allowed),
        };
        for (field, value) in [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("total_timeout_ms", self.total_timeout_ms),
        ] {
            if value == 0 || value > 600_000 {
                return Err(refuse(field, value, "1 to 600000 milliseconds"));
            }
        }
        for (field, value) in [
            ("max_response_bytes", self.max_response_bytes),
            ("max_request_bytes", self.max_request_bytes),
        ] {
            if value == 0 || value > MAX_CONFIGURABLE_BYTES {
                return Err(refuse(field, value, "1 to 67108864 bytes"));
            }
        }
        if self.max_redirects > 20 {
            return Err(refuse(
                "max_redirects",
                self.max_redirects.into(),
                "0 to 20",
            ));
        }
        Ok(())
    }
}

/// The HTTP tools' view of one workspace: its settings (checked and parsed once) and the
/// resolver to use.
#[derive(Debug, Clone)]
pub struct HttpContext {
    config: HttpConfig,
    policy: HostPolicy,
    resolver: Arc<dyn NameResolver>,
}

impl HttpContext {
    /// Checks `config` and uses the system resolver.
    pub fn new(config: HttpConfig) -> Result<Self, ToolError> {
        HttpContext::with_resolver(config, Arc::new(SystemResolver))
    }

    /// Checks `config` and uses `resolver` for every name (tests map names to chosen
    /// addresses this way).
    pub fn with_resolver(
        config: HttpConfig,
        resolver: Arc<dyn NameResolver>,
    ) -> Result<Self, ToolError> {
        config.validate()?;
        let policy = HostPolicy::from_config(&config)?;
        Ok(HttpContext {
            config,
            policy,
            resolver,
        })
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }
}

/// One response header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpHeader {
    /// Lower-case name.
    pub name: String,
    /// Value (bytes that are not UTF-8 are shown as U+FFFD).
    pub value: String,
}

/// Result of an `http.*` action. Every secret used by the call is replaced by
/// `[credential:NAME]` in every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpResponse {
    /// The status code of the final response.
    pub status: u16,
    /// The URL that produced it (after redirects).
    pub url: String,
    /// The redirect targets followed, in order.
    pub redirects: Vec<String>,
    /// The final response's headers.
    pub headers: Vec<HttpHeader>,
    /// The body, as text or base64.
    pub body: String,
    /// `utf8` or `base64`.
    pub body_encoding: ContentEncoding,
    /// Whether the body was cut at `max_response_bytes`.
    pub truncated: bool,
}

/// What a reviewer must see before the request is sent (no DNS is done for this).
pub fn affected(
    ctx: &HttpContext,
    method: HttpMethod,
    args: &HttpRequestArgs,
) -> Result<HttpAffected, ToolError> {
    args.validate(method)?;
    args.check_body_limit(ctx.config.max_request_bytes)?;
    let url = args.parsed_url()?;
    let (host, port, internal_exception) = ctx.policy.check_static(&url)?;
    Ok(args.describe(method, host.to_string(), port, internal_exception))
}

/// Sends the request. Credentials referenced by the arguments are fetched from `credentials`
/// here and nowhere else; the output and any error are scrubbed of their values.
pub async fn execute(
    ctx: &HttpContext,
    method: HttpMethod,
    args: &HttpRequestArgs,
    credentials: &dyn CredentialResolver,
) -> Result<HttpResponse, ToolError> {
    args.validate(method)?;
    args.check_body_limit(ctx.config.max_request_bytes)?;
    let mut scrubber = Scrubber::new();
    let result = async {
        let prepared = args.prepare(method, credentials, &mut scrubber)?;
        let limit = Duration::from_millis(ctx.config.total_timeout_ms);
        let fetched = tokio::time::timeout(
            limit,
            fetch::fetch(prepared, &ctx.config, &ctx.policy, ctx.resolver.as_ref()),
        )
        .await
        .map_err(|_| HttpError::Timeout {
            limit_ms: ctx.config.total_timeout_ms,
        })??;
        Ok::<_, ToolError>(fetched)
    }
    .await;
    match result {
        Ok(fetched) => Ok(scrubbed_response(fetched, &scrubber)),
        Err(error) => Err(error.scrub(&scrubber)),
    }
}

fn scrubbed_response(fetched: fetch::Fetched, scrubber: &Scrubber) -> HttpResponse {
    let mut body = scrubber.scrub_bytes(&fetched.body);
    if fetched.truncated {
        scrubber.trim_partial_suffix(&mut body);
        // A cut inside a multi-byte character would make valid text look binary.
        if let Err(error) = std::str::from_utf8(&body) {
            if error.error_len().is_none() {
                body.truncate(error.valid_up_to());
            }
        }
    }
    let (body, body_encoding) = match String::from_utf8(body) {
        Ok(text) => (text, ContentEncoding::Utf8),
        Err(error) => (
            base64::engine::general_purpose::STANDARD.encode(error.as_bytes()),
            ContentEncoding::Base64,
        ),
    };
    HttpResponse {
        status: fetched.status,
        url: scrubber.scrub_str(fetched.url.as_str()),
        redirects: fetched
            .redirects
            .iter()
            .map(|url| scrubber.scrub_str(url.as_str()))
            .collect(),
        headers: fetched
            .headers
            .iter()
            .map(|(name, value)| HttpHeader {
                name: scrubber.scrub_str(name),
                value: scrubber.scrub_str(&String::from_utf8_lossy(value)),
            })
            .collect(),
        body,
        body_encoding,
        truncated: fetched.truncated,
    }
}
