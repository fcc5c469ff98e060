//! Reading facts out of a call's JSON arguments without allocating: recipient addresses and
//! their domains, workspace-relative paths, HTTP hosts.
//!
//! Every reader distinguishes "absent or malformed" from a value, so the evaluator can treat
//! a malformed argument as unknown and fail closed.

use serde_json::Value;
use std::borrow::Cow;

/// The arguments that carry email recipients.
pub(crate) const RECIPIENT_FIELDS: [&str; 3] = ["to", "cc", "bcc"];

/// A recipient argument was present but was neither a string nor a list of strings.
#[derive(Debug)]
pub(crate) struct Malformed;

/// Calls `f` with every recipient address until it returns true; returns whether it did.
pub(crate) fn any_recipient(
    args: &Value,
    mut f: impl FnMut(&str) -> bool,
) -> Result<bool, Malformed> {
    for field in RECIPIENT_FIELDS {
        match args.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                if split_addresses(s).any(&mut f) {
                    return Ok(true);
                }
            }
            Some(Value::Array(items)) => {
                for item in items {
                    let s = item.as_str().ok_or(Malformed)?;
                    if split_addresses(s).any(&mut f) {
                        return Ok(true);
                    }
                }
            }
            Some(_) => return Err(Malformed),
        }
    }
    Ok(false)
}

/// How many recipient addresses the call names.
pub(crate) fn recipient_count(args: &Value) -> Result<usize, Malformed> {
    let mut n = 0;
    any_recipient(args, |_| {
        n += 1;
        false
    })?;
    Ok(n)
}

fn split_addresses(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|a| !a.is_empty())
}

/// The domain of an address (`Bob <bob@Example.org>` gives `Example.org`), or `None` when the
/// address has no `@`.
pub(crate) fn domain_of(address: &str) -> Option<&str> {
    let inner = match (address.rfind('<'), address.rfind('>')) {
        (Some(open), Some(close)) if open < close => &address[open + 1..close],
        _ => address,
    };
    let (_, domain) = inner.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.');
    (!domain.is_empty()).then_some(domain)
}

/// True when `domain` is `own` or a subdomain of it, ignoring ASCII case.
pub(crate) fn domain_within(domain: &str, own: &str) -> bool {
    let (d, o) = (domain.as_bytes(), own.as_bytes());
    if d.len() == o.len() {
        return d.eq_ignore_ascii_case(o);
    }
    d.len() > o.len()
        && d[d.len() - o.len() - 1] == b'.'
        && d[d.len() - o.len()..].eq_ignore_ascii_case(o)
}

/// A path after lexical normalisation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathForm<'a> {
    /// Inside the workspace, without `.`/`..`/empty segments or a trailing slash.
    Relative(Cow<'a, str>),
    /// Absolute (`/etc/passwd`) or home-relative (`~/x`): outside the workspace.
    Absolute(Cow<'a, str>),
    /// Climbs out of the workspace with `..`.
    Escapes,
}

/// Normalises a workspace-relative path lexically. Borrows when nothing needs to change.
pub(crate) fn normalize(path: &str) -> PathForm<'_> {
    let lead = if path.starts_with('/') { "/" } else { "" };
    let absolute = !lead.is_empty() || path.starts_with('~');
    let body = path.trim_start_matches('/');
    let clean = !body
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..");
    let cow = if (clean || body.is_empty()) && !path.starts_with("//") {
        Cow::Borrowed(path)
    } else {
        let mut parts: Vec<&str> = Vec::new();
        for seg in body.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() && !absolute {
                        return PathForm::Escapes;
                    }
                }
                s => parts.push(s),
            }
        }
        Cow::Owned(format!("{lead}{}", parts.join("/")))
    };
    if absolute {
        PathForm::Absolute(cow)
    } else {
        PathForm::Relative(cow)
    }
}

/// True when the normalised relative `path` is the folder `prefix` or inside it. `prefix` is
/// itself normalised (no trailing slash); an empty prefix is the workspace root.
pub(crate) fn path_under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.len() > prefix.len()
            && path.starts_with(prefix)
            && path.as_bytes()[prefix.len()] == b'/')
}

/// The last segment of a path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The host of a call: the `host` argument, else the host part of the `url` argument.
pub(crate) fn host_of(args: &Value) -> Option<&str> {
    if let Some(h) = args.get("host").and_then(Value::as_str) {
        return Some(h.trim_end_matches('.'));
    }
    let url = args.get("url")?.as_str()?;
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        match hostport.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => hostport,
        }
    };
    let host = host.trim_end_matches('.');
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recipients_come_from_strings_lists_and_display_names() {
        let args = json!({"to": "a@x.org, Bob <bob@Y.org>", "cc": ["c@z.org"], "bcc": null});
        assert_eq!(recipient_count(&args).unwrap(), 3);
        let mut domains = Vec::new();
        any_recipient(&args, |a| {
            domains.push(domain_of(a).unwrap().to_owned());
            false
        })
        .unwrap();
        assert_eq!(domains, ["x.org", "Y.org", "z.org"]);
        assert!(recipient_count(&json!({"to": 5})).is_err());
        assert!(recipient_count(&json!({"to": [1]})).is_err());
    }

    #[test]
    fn subdomains_are_within_but_lookalikes_are_not() {
        assert!(domain_within("mail.ACME.com", "acme.com"));
        assert!(domain_within("acme.com", "acme.com"));
        assert!(!domain_within("evilacme.com", "acme.com"));
        assert!(!domain_within("acme.com.evil.org", "acme.com"));
    }

    #[test]
    fn paths_normalise_and_escapes_are_detected() {
        assert_eq!(
            normalize("drafts/a.txt"),
            PathForm::Relative("drafts/a.txt".into())
        );
        assert_eq!(
            normalize("./drafts//x/../a.txt"),
            PathForm::Relative("drafts/a.txt".into())
        );
        assert_eq!(normalize("drafts/../../etc"), PathForm::Escapes);
        assert_eq!(
            normalize("/etc/passwd"),
            PathForm::Absolute("/etc/passwd".into())
        );
        assert_eq!(normalize("//etc/./x/"), PathForm::Absolute("/etc/x".into()));
        assert!(matches!(normalize("~/.ssh/id_rsa"), PathForm::Absolute(_)));
        assert!(path_under("drafts/a", "drafts") && path_under("drafts", "drafts"));
        assert!(!path_under("drafts2/a", "drafts"));
    }

    #[test]
    fn hosts_are_read_from_urls_with_ports_users_and_ipv6() {
        let host = |u: &str| host_of(&json!({ "url": u })).map(str::to_owned);
        assert_eq!(
            host("https://user@Api.Example.org:8443/x?y").as_deref(),
            Some("Api.Example.org")
        );
        assert_eq!(host("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(host("example.org/path").as_deref(), Some("example.org"));
        assert_eq!(host_of(&json!({})), None);
    }
}
