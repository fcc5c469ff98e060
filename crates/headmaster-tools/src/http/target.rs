//! Deciding whether a URL may be requested, and to which addresses the connection may go.
//!
//! Every hop (the first URL and each redirect) passes the same checks, in this order: scheme,
//! no user-info, host on the allowlist, no cloud-metadata name, then the name is resolved *here*
//! (through the injectable [`NameResolver`]) and every address must be public. An Admin's exact
//! `host:port` exception in `allowed_internal` skips the name and address checks for that host
//! and port only. The addresses returned are the only ones the connection may use
//! (see [`super::fetch`]), so a DNS answer that changes between check and connect is never used.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use url::{Host, Url};

use super::address::non_public_range;
use super::error::HttpError;
use super::HttpConfig;
use crate::error::{ArgError, ToolError};

/// The future returned by [`NameResolver::lookup`].
pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Resolves host names for the HTTP tools. The system resolver is the default; tests (and
/// deployments with their own DNS policy) can supply another.
pub trait NameResolver: Send + Sync + fmt::Debug {
    /// All addresses of `host` (`port` is passed for resolvers that care; most ignore it).
    fn lookup<'a>(&'a self, host: &'a str, port: u16) -> LookupFuture<'a>;
}

/// The operating system's resolver (`getaddrinfo`, via tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl NameResolver for SystemResolver {
    fn lookup<'a>(&'a self, host: &'a str, port: u16) -> LookupFuture<'a> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host, port)).await?;
            Ok(addrs.map(|addr| addr.ip()).collect())
        })
    }
}

/// Names that always mean an internal service, whatever DNS says about them.
const INTERNAL_NAMES: &[&str] = &[
    "metadata",
    "metadata.goog",
    "metadata.google.internal",
    "instance-data",
];
/// Suffixes reserved for private or cloud-internal names (`*.ec2.internal`, `*.c.PROJECT.internal`).
const INTERNAL_SUFFIXES: &[&str] = &[".internal"];

/// A host as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostKey {
    Domain(String),
    Ip(IpAddr),
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKey::Domain(name) => f.write_str(name),
            HostKey::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            HostKey::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The allowlist and exceptions of one workspace, parsed.
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    exact: Vec<HostKey>,
    wildcard_suffixes: Vec<String>,
    internal: Vec<(HostKey, u16)>,
}

/// A hop that passed the checks: where to connect, and only there.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub host: HostKey,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

impl HostPolicy {
    /// Parses the allowlist (`api.example.com`, `*.example.com`, `203.0.113.9`, `[2001:db8::1]`)
    /// and the exceptions (`intranet.example:8443`, `127.0.0.1:8080`, `[::1]:8080`).
    pub fn from_config(config: &HttpConfig) -> Result<Self, ToolError> {
        let mut policy = HostPolicy {
            exact: Vec::new(),
            wildcard_suffixes: Vec::new(),
            internal: Vec::new(),
        };
        for (index, entry) in config.allowed_hosts.iter().enumerate() {
            let field = format!("allowed_hosts[{index}]");
            match entry.strip_prefix("*.") {
                Some(suffix) => match parse_host(&field, suffix)? {
                    HostKey::Domain(name) if name.contains('.') => {
                        policy.wildcard_suffixes.push(format!(".{name}"))
                    }
                    _ => return Err(config_error(
                        &field,
                        "is a wildcard over a top-level domain or an address",
                        "`*.` followed by a domain of at least two labels, such as `*.example.com`",
                    )),
                },
                None => policy.exact.push(parse_host(&field, entry)?),
            }
        }
        for (index, entry) in config.allowed_internal.iter().enumerate() {
            let field = format!("allowed_internal[{index}]");
            let (host, port) = entry
                .rsplit_once(':')
                .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
                .ok_or_else(|| {
                    config_error(
                        &field,
                        "has no port",
                        "`host:port` with an explicit port, IPv6 in brackets: `[::1]:8080`",
                    )
                })?;
            if host.contains(':') && !host.starts_with('[') {
                // `::1:8080` is itself a valid IPv6 address; only brackets make the port certain.
                return Err(config_error(
                    &field,
                    "has an IPv6 address without brackets",
                    "`[IPv6]:port`, for example `[::1]:8080`",
                ));
            }
            policy.internal.push((parse_host(&field, host)?, port));
        }
        Ok(policy)
    }

    /// The checks that need no DNS: scheme, user-info, allowlist and internal names.
    /// Returns the host and port, and whether an Admin's exception covers them.
    pub fn check_static(&self, url: &Url) -> Result<(HostKey, u16, bool), HttpError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HttpError::SchemeRefused {
                scheme: url.scheme().to_owned(),
            });
        }
        let invalid = |problem: &str| HttpError::InvalidUrl {
            url: url.to_string(),
            problem: problem.to_owned(),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it carries a user name or password; use a header with a `{{credential:NAME}}` reference instead"));
        }
        let host = match url.host() {
            Some(Host::Domain(name)) if name.ends_with('.') => {
                return Err(invalid("the host ends with a dot; write it without"))
            }
            Some(Host::Domain(name)) => HostKey::Domain(name.to_owned()),
            Some(Host::Ipv4(ip)) => HostKey::Ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => HostKey::Ip(IpAddr::V6(ip)),
            None => return Err(invalid("it has no host")),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| invalid("it has no port"))?;
        if self.internal.iter().any(|(h, p)| *h == host && *p == port) {
            return Ok((host, port, true));
        }
        if !self.allows(&host) {
            return Err(HttpError::HostNotAllowed {
                host: host.to_string(),
            });
        }
        if let HostKey::Domain(name) = &host {
            let internal_name = INTERNAL_NAMES.contains(&name.as_str())
                || INTERNAL_SUFFIXES
                    .iter()
                    .any(|suffix| name.ends_with(suffix));
            if internal_name {
                return Err(HttpError::NameRefused {
                    host: name.clone(),
                    port,
                });
            }
        }
        Ok((host, port, false))
    }

    /// All checks, including resolution and the address ranges.
    pub async fn check(&self, url: &Url, resolver: &dyn NameResolver) -> Result<Target, HttpError> {
        let (host, port, exception) = self.check_static(url)?;
        let addrs = match &host {
            HostKey::Ip(ip) => vec![*ip],
            HostKey::Domain(name) => {
                let mut addrs =
                    resolver
                        .lookup(name, port)
                        .await
                        .map_err(|error| HttpError::Resolve {
                            host: name.clone(),
                            message: error.to_string(),
                        })?;
                addrs.sort();
                addrs.dedup();
                if addrs.is_empty() {
                    return Err(HttpError::Resolve {
                        host: name.clone(),
                        message: "the resolver returned no addresses".to_owned(),
                    });
                }
                addrs
            }
        };
        if !exception {
            for ip in &addrs {
                if let Some(range) = non_public_range(*ip) {
                    return Err(HttpError::AddressRefused {
                        host: host.to_string(),
                        port,
                        address: ip.to_string(),
                        range,
                    });
                }
            }
        }
        Ok(Target { host, port, addrs })
    }

    fn allows(&self, host: &HostKey) -> bool {
        self.exact.contains(host)
            || matches!(host, HostKey::Domain(name)
                if self.wildcard_suffixes.iter().any(|suffix| name.ends_with(suffix.as_str())))
    }
}

/// Parses one host of the configuration the way URLs are parsed (lower case, IDNA, IPv4 forms).
fn parse_host(field: &str, text: &str) -> Result<HostKey, ToolError> {
    let allowed =
        "a host name such as `api.example.com`, an IPv4 address, or an IPv6 address in brackets";
    let bare = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(HostKey::Ip(ip));
    }
    if text.is_empty() || text.ends_with('.') || text.contains(['/', ':', '@', '*']) {
        return Err(config_error(
            field,
            &format!("`{text}` is not a host"),
            allowed,
        ));
    }
    match Host::parse(text) {
        Ok(Host::Domain(name)) => Ok(HostKey::Domain(name)),
        Ok(Host::Ipv4(ip)) => Ok(HostKey::Ip(IpAddr::V4(ip))),
        Ok(Host::Ipv6(ip)) => Ok(HostKey::Ip(IpAddr::V6(ip))),
        Err(error) => Err(config_error(
            field,
            &format!("`{text}` is not a host ({error})"),
            allowed,
        )),
    }
}

fn config_error(field: &str, problem: &str, allowed: &str) -> ToolError {
    ToolError::InvalidConfig {
        tool: "http",
        error: ArgError::new(field, problem, allowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], internal: &[&str]) -> Result<HostPolicy, ToolError> {
        HostPolicy::from_config(&HttpConfig {
            allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            allowed_internal: internal.iter().map(|h| (*h).to_owned()).collect(),
            ..HttpConfig::default()
        })
    }

    fn config_field(result: Result<HostPolicy, ToolError>) -> String {
        match result {
            Err(ToolError::InvalidConfig {
                tool: "http",
                error,
            }) => error.field,
            other => panic!("expected an http configuration error, got {other:?}"),
        }
    }

    fn check(policy: &HostPolicy, url: &str) -> Result<(HostKey, u16, bool), HttpError> {
        policy.check_static(&Url::parse(url).unwrap())
    }

    #[test]
    fn configuration_entries_are_parsed_strictly() {
        assert_eq!(config_field(policy(&["*.com"], &[])), "allowed_hosts[0]");
        assert_eq!(
            config_field(policy(&["ok.example", "https://x.example/"], &[])),
            "allowed_hosts[1]"
        );
        assert_eq!(
            config_field(policy(&["a.example."], &[])),
            "allowed_hosts[0]"
        );
        assert_eq!(
            config_field(policy(&[], &["intranet.example"])),
            "allowed_internal[0]"
        );
        assert_eq!(
            config_field(policy(&[], &["::1:8080"])),
            "allowed_internal[0]"
        );
        let parsed = policy(&["API.Example.COM", "[2001:db8::1]"], &["[::1]:8080"]).unwrap();
        assert_eq!(
            parsed.exact[0],
            HostKey::Domain("api.example.com".to_owned())
        );
        assert_eq!(parsed.exact[1], HostKey::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(
            parsed.internal[0],
            (HostKey::Ip("::1".parse().unwrap()), 8080)
        );
    }

    #[test]
    fn internal_exceptions_cover_exactly_one_host_and_port() {
        let policy = policy(&[], &["127.0.0.1:8080", "metadata.google.internal:80"]).unwrap();
        let loopback = HostKey::Ip("127.0.0.1".parse().unwrap());
        assert_eq!(
            check(&policy, "http://127.0.0.1:8080/"),
            Ok((loopback, 8080, true))
        );
        assert_eq!(
            check(&policy, "http://127.0.0.1:8081/"),
            Err(HttpError::HostNotAllowed {
                host: "127.0.0.1".to_owned()
            })
        );
        assert!(matches!(
            check(&policy, "http://metadata.google.internal/"),
            Ok((_, 80, true))
        ));
    }

    #[test]
    fn urls_with_user_info_or_a_trailing_dot_are_refused() {
        let policy = policy(&["example.com"], &[]).unwrap();
        assert!(matches!(
            check(&policy, "https://user:pw@example.com/"),
            Err(HttpError::InvalidUrl { problem, .. }) if problem.starts_with("it carries a user name")
        ));
        assert!(matches!(
            check(&policy, "https://example.com./"),
            Err(HttpError::InvalidUrl { problem, .. }) if problem.starts_with("the host ends with a dot")
        ));
        assert_eq!(
            check(&policy, "https://sub.internal/"),
            Err(HttpError::HostNotAllowed {
                host: "sub.internal".to_owned()
            })
        );
        let with_internal = super::tests::policy(&["*.corp.internal"], &[]).unwrap();
        assert_eq!(
            check(&with_internal, "https://db.corp.internal/"),
            Err(HttpError::NameRefused {
                host: "db.corp.internal".to_owned(),
                port: 443
            })
        );
    }
}
