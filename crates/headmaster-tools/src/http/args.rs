//! Arguments of the HTTP actions: validation, the reviewer's description, and the request
//! they become once credentials are substituted.

use std::collections::BTreeMap;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::ArgError;
use crate::files::MAX_CONFIGURABLE_BYTES;
use crate::secret::{mentions_reference, references_in};

/// Longest accepted URL, in bytes.
pub const MAX_URL_BYTES: usize = 8192;
/// Most request headers.
pub const MAX_HEADERS: usize = 32;
/// Longest header name, in bytes.
pub const MAX_HEADER_NAME_BYTES: usize = 128;
/// Longest header value, in bytes (before substitution).
pub const MAX_HEADER_VALUE_BYTES: usize = 8192;
/// Characters of the body shown to a reviewer.
pub const BODY_PREVIEW_CHARS: usize = 1000;

/// Headers the HTTP client owns: overriding them could smuggle a second request, confuse
/// virtual hosting, or break framing.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "upgrade",
    "te",
    "trailer",
    "expect",
];

/// The method of an HTTP action; each is a separate action in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `http.get`
    Get,
    /// `http.head`
    Head,
    /// `http.post`
    Post,
    /// `http.put`
    Put,
    /// `http.patch`
    Patch,
    /// `http.delete`
    Delete,
}

impl HttpMethod {
    /// The method name on the wire (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether the method may change state on the server (everything but GET and HEAD).
    pub fn is_mutating(self) -> bool {
        !matches!(self, HttpMethod::Get | HttpMethod::Head)
    }

    pub(crate) fn to_reqwest(self) -> Method {
        match self {
            HttpMethod::Get => Method::GET,
            HttpMethod::Head => Method::HEAD,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Patch => Method::PATCH,
            HttpMethod::Delete => Method::DELETE,
        }
    }
}

/// Arguments of every `http.*` action (`body` only for the mutating ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequestArgs {
    /// An absolute http or https URL; `{{credential:NAME}}` is allowed in the query string.
    pub url: String,
    /// Request headers; `{{credential:NAME}}` is allowed in values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body (text); `{{credential:NAME}}` is allowed. Not for GET or HEAD.
    #[serde(default)]
    pub body: Option<String>,
}

/// One request header as the reviewer sees it: credential references stay references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderPreview {
    /// The header's name.
    pub name: String,
    /// The value as written in the arguments (`Bearer {{credential:API}}`), never a secret.
    pub value: String,
    /// The credentials it references.
    pub credentials: Vec<String>,
}

/// What a reviewer must see before an HTTP request is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpAffected {
    /// `GET`, `POST`, …
    pub method: HttpMethod,
    /// The full URL as written (credential references unexpanded).
    pub url: String,
    /// The host the request goes to.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Whether the host:port is an Admin's exception to the internal-address ban.
    pub internal_exception: bool,
    /// The request headers.
    pub headers: Vec<HeaderPreview>,
    /// The first characters of the body.
    pub body_preview: Option<String>,
    /// The body's full size in bytes.
    pub body_bytes: u64,
    /// Every credential the request uses.
    pub credentials: Vec<String>,
}

impl HttpRequestArgs {
    /// Checks the URL, headers and body against the rules of `method`.
    pub fn validate(&self, method: HttpMethod) -> Result<(), ArgError> {
        self.check_url()?;
        if self.headers.len() > MAX_HEADERS {
            return Err(ArgError::new(
                "headers",
                format!("has {} entries", self.headers.len()),
                format!("at most {MAX_HEADERS} headers"),
            ));
        }
        let mut seen = Vec::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let lower = check_header(name, value)?;
            if seen.contains(&lower) {
                return Err(ArgError::new(
                    format!("headers.{name}"),
                    "repeats a header given with other letter case",
                    "each header name once",
                ));
            }
            seen.push(lower);
        }
        if let Some(body) = &self.body {
            if !method.is_mutating() {
                return Err(ArgError::new(
                    "body",
                    format!("is given for {}", method.as_str()),
                    "a body only for POST, PUT, PATCH and DELETE",
                ));
            }
            if body.len() as u64 > MAX_CONFIGURABLE_BYTES {
                return Err(ArgError::new(
                    "body",
                    format!("is {} bytes", body.len()),
                    format!("at most {MAX_CONFIGURABLE_BYTES} bytes"),
                ));
            }
            check_references("body", body)?;
        }
        Ok(())
    }

    /// Every credential these arguments reference (in the query, header values and body).
    pub fn credential_references(&self) -> Vec<String> {
        let texts = std::iter::once(self.url.as_str())
            .chain(self.headers.values().map(String::as_str))
            .chain(self.body.as_deref());
        let mut names: Vec<String> = texts
            .filter_map(|text| references_in(text).ok())
            .flatten()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    pub(crate) fn parsed_url(&self) -> Result<Url, ArgError> {
        Url::parse(&self.url).map_err(|error| {
            ArgError::new(
                "url",
                format!("is not a valid URL ({error})"),
                "an absolute http or https URL such as `https://api.example.com/v1/items`",
            )
        })
    }

    pub(crate) fn check_body_limit(&self, limit: u64) -> Result<(), ArgError> {
        match &self.body {
            Some(body) if body.len() as u64 > limit => Err(ArgError::new(
                "body",
                format!("is {} bytes", body.len()),
                format!("at most {limit} bytes (this workspace's `max_request_bytes`)"),
            )),
            _ => Ok(()),
        }
    }

    pub(crate) fn describe(
        &self,
        method: HttpMethod,
        host: String,
        port: u16,
        internal_exception: bool,
    ) -> HttpAffected {
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| HeaderPreview {
                name: name.clone(),
                value: value.clone(),
                credentials: references_in(value).unwrap_or_default(),
            })
            .collect();
        HttpAffected {
            method,
            url: self.url.clone(),
            host,
            port,
            internal_exception,
            headers,
            body_preview: self
                .body
                .as_ref()
                .map(|body| body.chars().take(BODY_PREVIEW_CHARS).collect()),
            body_bytes: self.body.as_ref().map_or(0, |body| body.len() as u64),
            credentials: self.credential_references(),
        }
    }

    fn check_url(&self) -> Result<(), ArgError> {
        if self.url.len() > MAX_URL_BYTES {
            return Err(ArgError::new(
                "url",
                format!("is {} bytes long", self.url.len()),
                format!("at most {MAX_URL_BYTES} bytes"),
            ));
        }
        // References are checked on the raw text first: a reference in the host would
        // otherwise surface as a puzzling URL syntax error.
        let where_allowed = "references only in query values (`?key={{credential:NAME}}`), in header values and in the body";
        let (before_query, query) = split_query(&self.url);
        if mentions_reference(before_query) {
            return Err(ArgError::new(
                "url",
                "has a `{{credential:…}}` reference outside the query string",
                where_allowed,
            ));
        }
        if query
            .find('#')
            .is_some_and(|hash| mentions_reference(&query[hash..]))
        {
            return Err(ArgError::new(
                "url",
                "has a `{{credential:…}}` reference in the fragment",
                where_allowed,
            ));
        }
        check_references("url", query)?;
        let url = self.parsed_url()?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ArgError::new(
                "url",
                format!("has the scheme `{}`", url.scheme()),
                "http or https URLs only",
            ));
        }
        if url.host().is_none() {
            return Err(ArgError::new(
                "url",
                "has no host",
                "an absolute http or https URL such as `https://api.example.com/v1/items`",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ArgError::new(
                "url",
                "carries a user name or password",
                "credentials in a header such as `Authorization: Basic {{credential:NAME}}`",
            ));
        }
        Ok(())
    }
}

/// Splits a URL into everything up to the query, and the query with the fragment after it.
pub(crate) fn split_query(url: &str) -> (&str, &str) {
    match url.find('?') {
        Some(index) => url.split_at(index),
        None => (url, ""),
    }
}

fn check_references(field: &str, text: &str) -> Result<(), ArgError> {
    references_in(text).map(drop).map_err(|error| {
        ArgError::new(
            field,
            error.to_string(),
            "well-formed `{{credential:NAME}}` references",
        )
    })
}

/// Checks one header and returns its lower-case name.
fn check_header(name: &str, value: &str) -> Result<String, ArgError> {
    let field = format!("headers.{name}");
    let lower = name.to_ascii_lowercase();
    if name.is_empty()
        || name.len() > MAX_HEADER_NAME_BYTES
        || HeaderName::from_bytes(name.as_bytes()).is_err()
    {
        return Err(ArgError::new(
            field,
            "is not a valid header name",
            format!("an HTTP token of 1 to {MAX_HEADER_NAME_BYTES} characters (letters, digits, `-`, …)"),
        ));
    }
    if FORBIDDEN_HEADERS.contains(&lower.as_str()) {
        return Err(ArgError::new(
            field,
            "may not be set by a tool call",
            "any header except Host, Content-Length, Transfer-Encoding, Connection, Keep-Alive, Proxy-*, Upgrade, TE, Trailer and Expect",
        ));
    }
    if value.len() > MAX_HEADER_VALUE_BYTES {
        return Err(ArgError::new(
            field,
            format!("has a value of {} bytes", value.len()),
            format!("values of at most {MAX_HEADER_VALUE_BYTES} bytes"),
        ));
    }
    if HeaderValue::from_str(value).is_err() {
        return Err(ArgError::new(
            field,
            "has a value with line breaks, control or non-ASCII characters",
            "visible ASCII characters, spaces and tabs",
        ));
    }
    check_references(&field, value)?;
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str, headers: &[(&str, &str)], body: Option<&str>) -> HttpRequestArgs {
        HttpRequestArgs {
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.map(str::to_owned),
        }
    }

    fn problem(args: HttpRequestArgs, method: HttpMethod) -> (String, String) {
        let error = args.validate(method).unwrap_err();
        (error.field, error.problem)
    }

    #[test]
    fn headers_are_checked_by_name_value_and_case_insensitive_uniqueness() {
        let url = "https://example.com/";
        assert_eq!(
            problem(
                args(url, &[("Transfer-Encoding", "chunked")], None),
                HttpMethod::Get
            ),
            (
                "headers.Transfer-Encoding".to_owned(),
                "may not be set by a tool call".to_owned()
            )
        );
        assert_eq!(
            problem(
                args(url, &[("X-A", "1"), ("x-a", "2")], None),
                HttpMethod::Get
            ),
            (
                "headers.x-a".to_owned(),
                "repeats a header given with other letter case".to_owned()
            )
        );
        assert_eq!(
            problem(
                args(url, &[("X-A", "a\r\nInjected: 1")], None),
                HttpMethod::Get
            )
            .1,
            "has a value with line breaks, control or non-ASCII characters"
        );
        assert_eq!(
            problem(args(url, &[("Bad Name", "1")], None), HttpMethod::Get).1,
            "is not a valid header name"
        );
    }

    #[test]
    fn references_are_allowed_only_in_query_header_values_and_body() {
        let ok = args(
            "https://example.com/v1?key={{credential:KEY}}",
            &[("Authorization", "Bearer {{credential:TOKEN}}")],
            Some("{\"secret\":\"{{credential:BODY}}\"}"),
        );
        assert_eq!(ok.validate(HttpMethod::Post), Ok(()));
        assert_eq!(ok.credential_references(), ["BODY", "KEY", "TOKEN"]);
        assert_eq!(
            problem(
                args("https://example.com/{{credential:K}}", &[], None),
                HttpMethod::Get
            )
            .1,
            "has a `{{credential:…}}` reference outside the query string"
        );
        assert_eq!(
            problem(
                args("https://example.com/?a=1#{{credential:K}}", &[], None),
                HttpMethod::Get
            )
            .1,
            "has a `{{credential:…}}` reference in the fragment"
        );
        assert_eq!(
            problem(
                args(
                    "https://example.com/",
                    &[("X-A", "{{credential:bad name}}")],
                    None
                ),
                HttpMethod::Get
            )
            .0,
            "headers.X-A"
        );
        assert_eq!(
            problem(
                args("https://example.com/", &[], Some("x")),
                HttpMethod::Head
            ),
            ("body".to_owned(), "is given for HEAD".to_owned())
        );
    }
}
