//! Refusals and failures of the HTTP tools.

/// Why an `http.*` action was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL (or a redirect's `Location`) cannot be used.
    #[error("the URL `{url}` cannot be used: {problem}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Only `http` and `https` are allowed.
    #[error("the scheme `{scheme}` is refused; only http and https URLs can be requested")]
    SchemeRefused {
        /// The scheme that was asked for.
        scheme: String,
    },
    /// The host is not on the workspace's allowlist.
    #[error("the host `{host}` is not on this workspace's HTTP allowlist; an Admin can add it to `allowed_hosts`")]
    HostNotAllowed {
        /// The host.
        host: String,
    },
    /// The name is one that always means an internal service (cloud metadata and the like).
    #[error("the host `{host}` names an internal or cloud-metadata service and is refused; an Admin can allow exactly `{host}:{port}` in `allowed_internal` if it must be reached")]
    NameRefused {
        /// The host.
        host: String,
        /// The port that was asked for.
        port: u16,
    },
    /// The name did not resolve.
    #[error("the host `{host}` could not be resolved: {message}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's explanation.
        message: String,
    },
    /// The host resolves to (or is) an address outside the public internet.
    #[error("the host `{host}` resolves to {address} ({range}); internal addresses are refused unless an Admin allows exactly `{host}:{port}` in `allowed_internal`")]
    AddressRefused {
        /// The host.
        host: String,
        /// The port that was asked for.
        port: u16,
        /// The refused address.
        address: String,
        /// The range it falls in.
        range: String,
    },
    /// A redirect pointed somewhere the same rules refuse.
    #[error("redirect {hop} to `{location}` was refused: {reason}")]
    RedirectRefused {
        /// Which redirect (1 for the first).
        hop: u32,
        /// Where it pointed.
        location: String,
        /// Why the target was refused.
        reason: Box<HttpError>,
    },
    /// A 307/308 redirect would re-send a body holding a credential to another origin.
    #[error("the server answered {status}, which would re-send a body holding a credential to another origin; credentials only go to the origin the request named")]
    CredentialsAcrossOrigins {
        /// The redirect status (307 or 308).
        status: u16,
    },
    /// More redirects than the workspace allows.
    #[error("the server redirected more than {limit} times; an Admin can raise `max_redirects`")]
    TooManyRedirects {
        /// The limit.
        limit: u32,
    },
    /// Connecting to the server failed.
    #[error("could not connect to `{host}`: {message}")]
    Connect {
        /// The host.
        host: String,
        /// The explanation.
        message: String,
    },
    /// The request did not complete within the total time limit.
    #[error(
        "the request did not complete within {limit_ms} ms; an Admin can raise `total_timeout_ms`"
    )]
    Timeout {
        /// The limit, in milliseconds.
        limit_ms: u64,
    },
    /// The exchange failed after connecting (TLS, protocol, reset).
    #[error("the request to `{host}` failed: {message}")]
    Exchange {
        /// The host.
        host: String,
        /// The explanation.
        message: String,
    },
}

impl HttpError {
    /// A stable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            HttpError::InvalidUrl { .. } => "http_invalid_url",
            HttpError::SchemeRefused { .. } => "http_scheme_refused",
            HttpError::HostNotAllowed { .. } => "http_host_not_allowed",
            HttpError::NameRefused { .. } => "http_name_refused",
            HttpError::Resolve { .. } => "http_resolve_failed",
            HttpError::AddressRefused { .. } => "http_address_refused",
            HttpError::RedirectRefused { .. } => "http_redirect_refused",
            HttpError::CredentialsAcrossOrigins { .. } => "http_credentials_across_origins",
            HttpError::TooManyRedirects { .. } => "http_too_many_redirects",
            HttpError::Connect { .. } => "http_connect_failed",
            HttpError::Timeout { .. } => "http_timeout",
            HttpError::Exchange { .. } => "http_exchange_failed",
        }
    }

    pub(crate) fn visit_text(&mut self, visit: &mut dyn FnMut(&mut String)) {
        match self {
            HttpError::InvalidUrl { url, problem } => {
                visit(url);
                visit(problem);
            }
            HttpError::SchemeRefused { scheme } => visit(scheme),
            HttpError::HostNotAllowed { host } | HttpError::NameRefused { host, .. } => visit(host),
            HttpError::AddressRefused { host, .. } => visit(host),
            HttpError::Resolve { host, message }
            | HttpError::Connect { host, message }
            | HttpError::Exchange { host, message } => {
                visit(host);
                visit(message);
            }
            HttpError::RedirectRefused {
                location, reason, ..
            } => {
                visit(location);
                reason.visit_text(visit);
            }
            HttpError::CredentialsAcrossOrigins { .. }
            | HttpError::TooManyRedirects { .. }
            | HttpError::Timeout { .. } => {}
        }
    }
}
