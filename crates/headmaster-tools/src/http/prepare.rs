//! Turning validated arguments into the request that is sent: credential references are
//! substituted here, at execution only, and every value used is registered with the call's
//! [`Scrubber`].
//!
//! Values land in three places: the URL query (percent-encoded, so a value cannot add
//! parameters or break out of its own), header values (marked sensitive, so the HTTP stack
//! never prints them), and the body (verbatim). Our own copies are zeroized on drop; the copies
//! reqwest makes while sending are not under our control and live only as long as the request.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use url::Url;
use zeroize::Zeroizing;

use super::args::{split_query, HttpMethod, HttpRequestArgs};
use super::fetch::Prepared;
use crate::error::{ArgError, ToolError};
use crate::secret::{
    mentions_reference, references_in, substitute, substitute_with, CredentialError,
    CredentialResolver, Scrubber,
};

impl HttpRequestArgs {
    /// Substitutes credentials and builds the request. Secret values go into the query
    /// (percent-encoded), header values (marked sensitive) and the body, and into `scrubber`.
    pub(crate) fn prepare(
        &self,
        method: HttpMethod,
        credentials: &dyn CredentialResolver,
        scrubber: &mut Scrubber,
    ) -> Result<Prepared, ToolError> {
        let url = self.substituted_url(credentials, scrubber)?;
        let mut headers = HeaderMap::new();
        let mut credential_headers = Vec::new();
        for (name, template) in &self.headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ArgError::new(
                    format!("headers.{name}"),
                    "is not a valid header name",
                    "an HTTP token",
                )
            })?;
            let refs = references_in(template)?;
            let value = substitute(template, credentials, scrubber)?;
            let mut value = HeaderValue::from_str(&value).map_err(|_| CredentialError::UnfitValue {
                name: refs.join(", "),
                field: format!("header `{name}`"),
                problem: "it contains characters a header value cannot hold (line breaks, control or non-ASCII characters)".to_owned(),
            })?;
            if !refs.is_empty() {
                value.set_sensitive(true);
                credential_headers.push(header.clone());
            }
            headers.insert(header, value);
        }
        if !headers.contains_key(USER_AGENT) {
            headers.insert(
                USER_AGENT,
                HeaderValue::from_static(concat!("headmaster/", env!("CARGO_PKG_VERSION"))),
            );
        }
        let body = match &self.body {
            Some(body) => {
                let text = substitute(body, credentials, scrubber)?;
                Some(Zeroizing::new(text.as_bytes().to_vec()))
            }
            None => None,
        };
        let body_has_credentials = self.body.as_deref().is_some_and(mentions_reference);
        Ok(Prepared {
            method: method.to_reqwest(),
            url,
            headers,
            credential_headers,
            body,
            body_has_credentials,
        })
    }

    /// The URL with query references replaced by percent-encoded values.
    fn substituted_url(
        &self,
        credentials: &dyn CredentialResolver,
        scrubber: &mut Scrubber,
    ) -> Result<Url, ToolError> {
        let (before_query, query) = split_query(&self.url);
        if !mentions_reference(query) {
            return Ok(self.parsed_url()?);
        }
        let query = substitute_with(query, credentials, scrubber, |value, out| {
            out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()))
        })?;
        let full = Zeroizing::new(format!("{before_query}{}", query.as_str()));
        Url::parse(&full).map_err(|_| {
            ToolError::from(ArgError::new(
                "url",
                "is not a valid URL once its credentials are substituted",
                "an absolute http or https URL",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{CredentialSet, SecretValue};

    fn credentials(pairs: &[(&str, &str)]) -> CredentialSet {
        let mut set = CredentialSet::new();
        for (name, value) in pairs {
            set.insert(*name, SecretValue::new((*value).to_owned()));
        }
        set
    }

    fn args(url: &str, headers: &[(&str, &str)]) -> HttpRequestArgs {
        HttpRequestArgs {
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: None,
        }
    }

    #[test]
    fn query_values_are_percent_encoded_and_cannot_add_parameters() {
        let set = credentials(&[("KEY", "a b&admin=true")]);
        let mut scrubber = Scrubber::new();
        let prepared = args("https://example.com/p?key={{credential:KEY}}&x=1", &[])
            .prepare(HttpMethod::Get, &set, &mut scrubber)
            .unwrap();
        assert_eq!(
            prepared.url.as_str(),
            "https://example.com/p?key=a+b%26admin%3Dtrue&x=1"
        );
        let pairs: Vec<_> = prepared.url.query_pairs().collect();
        assert_eq!(pairs.len(), 2);
        assert_eq!(
            scrubber.scrub_str(prepared.url.as_str()),
            "https://example.com/p?key=[credential:KEY]&x=1"
        );
    }

    #[test]
    fn credential_headers_are_sensitive_and_unfit_values_are_not_quoted() {
        let set = credentials(&[("TOKEN", "t0k"), ("BROKEN", "line\r\nX-Evil: 1")]);
        let mut scrubber = Scrubber::new();
        let prepared = args(
            "https://example.com/",
            &[
                ("Authorization", "Bearer {{credential:TOKEN}}"),
                ("X-Plain", "v"),
            ],
        )
        .prepare(HttpMethod::Get, &set, &mut scrubber)
        .unwrap();
        assert!(prepared.headers["authorization"].is_sensitive());
        assert!(!prepared.headers["x-plain"].is_sensitive());
        assert_eq!(
            prepared.credential_headers,
            [HeaderName::from_static("authorization")]
        );
        assert!(prepared.headers.contains_key(USER_AGENT));

        let error = args(
            "https://example.com/",
            &[("X-Token", "{{credential:BROKEN}}")],
        )
        .prepare(HttpMethod::Get, &set, &mut Scrubber::new())
        .unwrap_err();
        assert_eq!(error.code(), "credential_unfit");
        assert!(!error.to_string().contains("X-Evil"), "{error}");
    }
}
