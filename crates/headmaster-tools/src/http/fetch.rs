//! Sending a checked request, following redirects by hand, and reading a capped body.
//!
//! reqwest's own redirect handling would connect to the next hop before we could check it, so
//! the client is built with redirects off and every `Location` goes back through
//! [`HostPolicy::check`]. Each hop gets its own client whose DNS is replaced: the checked name
//! maps to exactly the checked addresses (`resolve_to_addrs`), and any other name fails
//! ([`NoDns`]), so nothing reqwest does can reach an address we did not approve.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
use reqwest::{Method, StatusCode};
use url::Url;
use zeroize::Zeroizing;

use super::error::HttpError;
use super::target::{HostKey, HostPolicy, NameResolver, Target};
use super::HttpConfig;

/// A request ready to send: credentials already substituted.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    /// Headers whose value came from a credential; dropped when a redirect changes origin.
    pub credential_headers: Vec<HeaderName>,
    pub body: Option<Zeroizing<Vec<u8>>>,
    /// Whether the body holds a credential; such a body is never re-sent to another origin.
    pub body_has_credentials: bool,
}

/// What came back, before scrubbing.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub status: u16,
    pub url: Url,
    pub redirects: Vec<Url>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// Sends `request`, following at most `config.max_redirects` redirects, each one checked.
pub(crate) async fn fetch(
    mut request: Prepared,
    config: &HttpConfig,
    policy: &HostPolicy,
    resolver: &dyn NameResolver,
) -> Result<Fetched, HttpError> {
    let mut redirects = Vec::new();
    loop {
        let hop = redirects.len() as u32;
        let target = policy
            .check(&request.url, resolver)
            .await
            .map_err(|reason| refused_hop(hop, &request.url, reason))?;
        let client = client_for(&target, config)?;
        let mut outgoing = client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        if let Some(body) = &request.body {
            outgoing = outgoing.body(body.to_vec());
        }
        let response = outgoing
            .send()
            .await
            .map_err(|error| describe(error, &target, config))?;
        let Some(location) = redirect_location(&response) else {
            return read(response, request, redirects, config).await;
        };
        if hop >= config.max_redirects {
            return Err(HttpError::TooManyRedirects {
                limit: config.max_redirects,
            });
        }
        let next = request.url.join(&location).map_err(|error| {
            refused_hop(
                hop + 1,
                &request.url,
                HttpError::InvalidUrl {
                    url: location.clone(),
                    problem: error.to_string(),
                },
            )
        })?;
        let status = response.status();
        let repeats_body = matches!(
            status,
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
        );
        if repeats_body && request.body_has_credentials && next.origin() != request.url.origin() {
            return Err(refused_hop(
                hop + 1,
                &next,
                HttpError::CredentialsAcrossOrigins {
                    status: status.as_u16(),
                },
            ));
        }
        request = follow(request, status, next.clone());
        redirects.push(next);
    }
}

/// Resolves nothing: every name a client may use was pinned with `resolve_to_addrs`.
struct NoDns;

impl reqwest::dns::Resolve for NoDns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let message = format!("`{}` was not checked, so it is not resolved", name.as_str());
        Box::pin(async move { Err(message.into()) })
    }
}

fn client_for(target: &Target, config: &HttpConfig) -> Result<reqwest::Client, HttpError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .referer(false)
        .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
        .dns_resolver(Arc::new(NoDns));
    if let HostKey::Domain(name) = &target.host {
        let addrs: Vec<SocketAddr> = target
            .addrs
            .iter()
            .map(|ip| SocketAddr::new(*ip, target.port))
            .collect();
        builder = builder.resolve_to_addrs(name, &addrs);
    }
    builder.build().map_err(|error| HttpError::Exchange {
        host: target.host.to_string(),
        message: format!("the HTTP client could not be built ({error})"),
    })
}

fn refused_hop(hop: u32, url: &Url, reason: HttpError) -> HttpError {
    if hop == 0 {
        return reason;
    }
    HttpError::RedirectRefused {
        hop,
        location: url.to_string(),
        reason: Box::new(reason),
    }
}

/// The `Location` of a redirect that should be followed, if this is one.
fn redirect_location(response: &reqwest::Response) -> Option<String> {
    let follows = matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    let location = response.headers().get(reqwest::header::LOCATION)?;
    follows.then(|| String::from_utf8_lossy(location.as_bytes()).into_owned())
}

/// The request for the next hop. 301/302/303 become GET without a body (as browsers and
/// reqwest do), 307/308 repeat the method and body. Credentials never follow a redirect to
/// another origin (scheme, host or port).
fn follow(mut request: Prepared, status: StatusCode, next: Url) -> Prepared {
    let keeps_method = matches!(
        status,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
    );
    if !keeps_method && request.method != Method::HEAD {
        request.method = Method::GET;
        request.body = None;
        request.headers.remove(CONTENT_TYPE);
        request.headers.remove(CONTENT_LENGTH);
    }
    if next.origin() != request.url.origin() {
        for name in request.credential_headers.drain(..) {
            request.headers.remove(name);
        }
        for name in [AUTHORIZATION, COOKIE] {
            request.headers.remove(name);
        }
    }
    request.url = next;
    request
}

async fn read(
    mut response: reqwest::Response,
    request: Prepared,
    redirects: Vec<Url>,
    config: &HttpConfig,
) -> Result<Fetched, HttpError> {
    let host = request.url.host_str().unwrap_or_default().to_owned();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let cap = usize::try_from(config.max_response_bytes).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    let mut truncated = false;
    if request.method != Method::HEAD {
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| HttpError::Exchange {
                host: host.clone(),
                message: error_chain(error),
            })?
        {
            let room = cap - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(Fetched {
        status,
        url: request.url,
        redirects,
        headers,
        body,
        truncated,
    })
}

fn describe(error: reqwest::Error, target: &Target, config: &HttpConfig) -> HttpError {
    let host = target.host.to_string();
    if error.is_connect() && error.is_timeout() {
        return HttpError::Connect {
            host,
            message: format!("no connection within {} ms", config.connect_timeout_ms),
        };
    }
    if error.is_connect() {
        return HttpError::Connect {
            host,
            message: error_chain(error),
        };
    }
    HttpError::Exchange {
        host,
        message: error_chain(error),
    }
}

/// The error and its causes, without the URL (which may carry a substituted query credential;
/// the scrubber would catch it, but there is no reason to carry it this far).
fn error_chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
