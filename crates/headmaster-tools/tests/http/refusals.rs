//! Every SSRF route of the brief, each refused with its exact error and, where a live server
//! stands behind the address, without a single connection reaching it.

use std::sync::Arc;
use std::time::Duration;

use headmaster_tools::http::{HttpConfig, HttpError, SystemResolver};
use headmaster_tools::{ArgError, ToolError};
use serde_json::json;

use super::{call, context};
use crate::support::http_server::{Reply, TestServer};
use crate::support::ScriptedResolver;

fn hosts(allowed: &[&str]) -> HttpConfig {
    HttpConfig {
        allowed_hosts: allowed.iter().map(|h| (*h).to_owned()).collect(),
        ..HttpConfig::default()
    }
}

fn refused(host: &str, port: u16, address: &str, range: &str) -> ToolError {
    ToolError::Http(HttpError::AddressRefused {
        host: host.to_owned(),
        port,
        address: address.to_owned(),
        range: range.to_owned(),
    })
}

async fn get(config: HttpConfig, url: &str) -> ToolError {
    let ctx = context(config, Arc::new(ScriptedResolver::default()));
    call(&ctx, "http.get", json!({ "url": url }))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn loopback_literals_are_refused_even_when_allowlisted() {
    let server = TestServer::start(Reply::ok("must not be reached")).await;
    let port = server.port();
    assert_eq!(
        get(hosts(&["127.0.0.1"]), &server.url("/")).await,
        refused("127.0.0.1", port, "127.0.0.1", "loopback 127.0.0.0/8")
    );
    assert_eq!(
        get(hosts(&["[::1]"]), &format!("http://[::1]:{port}/")).await,
        refused("[::1]", port, "::1", "loopback ::1")
    );
    assert_eq!(
        get(
            hosts(&["::ffff:127.0.0.1"]),
            &format!("http://[::ffff:127.0.0.1]:{port}/")
        )
        .await,
        refused(
            "[::ffff:127.0.0.1]",
            port,
            "::ffff:127.0.0.1",
            "IPv4-mapped IPv6 address of 127.0.0.1, loopback 127.0.0.0/8"
        )
    );
    // The WHATWG parser reads 0x7f000001 as 127.0.0.1, exactly as the HTTP client would.
    assert_eq!(
        get(hosts(&["127.0.0.1"]), &format!("http://0x7f000001:{port}/")).await,
        refused("127.0.0.1", port, "127.0.0.1", "loopback 127.0.0.0/8")
    );
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn metadata_and_private_addresses_are_refused() {
    assert_eq!(
        get(
            hosts(&["169.254.169.254"]),
            "http://169.254.169.254/latest/meta-data/"
        )
        .await,
        refused(
            "169.254.169.254",
            80,
            "169.254.169.254",
            "link-local 169.254.0.0/16 (cloud metadata services live here)"
        )
    );
    assert_eq!(
        get(hosts(&["10.0.0.1"]), "http://10.0.0.1/").await,
        refused("10.0.0.1", 80, "10.0.0.1", "private network 10.0.0.0/8")
    );
    assert_eq!(
        get(
            hosts(&["metadata.google.internal"]),
            "http://metadata.google.internal/computeMetadata/v1/"
        )
        .await,
        ToolError::Http(HttpError::NameRefused {
            host: "metadata.google.internal".to_owned(),
            port: 80
        })
    );
}

#[tokio::test]
async fn localhost_through_the_system_resolver_is_refused() {
    let server = TestServer::start(Reply::ok("must not be reached")).await;
    let ctx = context(hosts(&["localhost"]), Arc::new(SystemResolver));
    let error = call(
        &ctx,
        "http.get",
        json!({"url": format!("http://localhost:{}/", server.port())}),
    )
    .await
    .unwrap_err();
    let ToolError::Http(HttpError::AddressRefused {
        host,
        port,
        address,
        range,
    }) = &error
    else {
        panic!("expected an address refusal, got {error:?}");
    };
    assert_eq!((host.as_str(), *port), ("localhost", server.port()));
    assert!(address == "127.0.0.1" || address == "::1", "{address}");
    assert!(range.starts_with("loopback"), "{range}");
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_refused() {
    let resolver = ScriptedResolver::default()
        .with("intranet.example.com", &["10.0.0.1"])
        .with("mixed.example.com", &["93.184.216.34", "192.168.1.10"]);
    let ctx = context(hosts(&["*.example.com"]), Arc::new(resolver));
    assert_eq!(
        call(
            &ctx,
            "http.get",
            json!({"url": "https://intranet.example.com/"})
        )
        .await
        .unwrap_err(),
        refused(
            "intranet.example.com",
            443,
            "10.0.0.1",
            "private network 10.0.0.0/8"
        )
    );
    // One internal answer among public ones is enough to refuse.
    assert_eq!(
        call(
            &ctx,
            "http.get",
            json!({"url": "https://mixed.example.com/"})
        )
        .await
        .unwrap_err(),
        refused(
            "mixed.example.com",
            443,
            "192.168.1.10",
            "private network 192.168.0.0/16"
        )
    );
}

#[tokio::test]
async fn hosts_off_the_allowlist_and_other_schemes_are_refused() {
    let not_allowed = |host: &str| {
        ToolError::Http(HttpError::HostNotAllowed {
            host: host.to_owned(),
        })
    };
    assert_eq!(
        get(hosts(&["example.com"]), "https://example.org/").await,
        not_allowed("example.org")
    );
    assert_eq!(
        get(hosts(&["*.example.com"]), "https://example.com/").await,
        not_allowed("example.com")
    );
    assert_eq!(
        get(hosts(&["*.example.com"]), "https://evilexample.com/").await,
        not_allowed("evilexample.com")
    );
    assert_eq!(
        get(HttpConfig::default(), "https://example.com/").await,
        not_allowed("example.com")
    );
    for (url, scheme) in [
        ("ftp://example.com/file", "ftp"),
        ("file:///etc/passwd", "file"),
        ("gopher://example.com/", "gopher"),
    ] {
        assert_eq!(
            get(hosts(&["example.com"]), url).await,
            ToolError::InvalidArguments(ArgError::new(
                "url",
                format!("has the scheme `{scheme}`"),
                "http or https URLs only"
            ))
        );
    }
}

#[tokio::test]
async fn a_redirect_to_another_loopback_port_is_refused() {
    let target = TestServer::start(Reply::ok("internal admin panel")).await;
    let redirector = TestServer::start(Reply::Redirect(target.url("/admin"))).await;
    // The Admin allowed the redirecting server's exact host:port, and nothing else internal.
    let config = HttpConfig {
        allowed_hosts: vec!["127.0.0.1".to_owned()],
        allowed_internal: vec![format!("127.0.0.1:{}", redirector.port())],
        ..HttpConfig::default()
    };
    let ctx = context(config, Arc::new(SystemResolver));
    let error = call(&ctx, "http.get", json!({"url": redirector.url("/start")}))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ToolError::Http(HttpError::RedirectRefused {
            hop: 1,
            location: target.url("/admin"),
            reason: Box::new(HttpError::AddressRefused {
                host: "127.0.0.1".to_owned(),
                port: target.port(),
                address: "127.0.0.1".to_owned(),
                range: "loopback 127.0.0.0/8".to_owned(),
            }),
        })
    );
    assert_eq!(redirector.requests().len(), 1);
    assert_eq!(
        target.connections(),
        0,
        "the redirect target must never be contacted"
    );
}

#[tokio::test]
async fn redirect_loops_stop_at_the_limit() {
    let server = TestServer::start(Reply::Redirect("/again".to_owned())).await;
    let config = HttpConfig {
        allowed_internal: vec![format!("127.0.0.1:{}", server.port())],
        max_redirects: 3,
        ..HttpConfig::default()
    };
    let ctx = context(config, Arc::new(SystemResolver));
    let error = tokio::time::timeout(
        Duration::from_secs(10),
        call(&ctx, "http.get", json!({"url": server.url("/")})),
    )
    .await
    .expect("a redirect loop must end");
    assert_eq!(
        error.unwrap_err(),
        ToolError::Http(HttpError::TooManyRedirects { limit: 3 })
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn forbidden_headers_and_misplaced_credentials_are_refused_by_validation() {
    let ctx = context(
        hosts(&["example.com"]),
        Arc::new(ScriptedResolver::default()),
    );
    let error = call(
        &ctx,
        "http.get",
        json!({"url": "https://example.com/", "headers": {"Host": "internal"}}),
    )
    .await
    .unwrap_err();
    let ToolError::InvalidArguments(arg) = error else {
        panic!("expected an argument error")
    };
    assert_eq!(
        (arg.field.as_str(), arg.problem.as_str()),
        ("headers.Host", "may not be set by a tool call")
    );
    let error = call(
        &ctx,
        "http.get",
        json!({"url": "https://{{credential:T}}.example.com/"}),
    )
    .await
    .unwrap_err();
    let ToolError::InvalidArguments(arg) = error else {
        panic!("expected an argument error")
    };
    assert_eq!(
        (arg.field.as_str(), arg.problem.as_str()),
        (
            "url",
            "has a `{{credential:…}}` reference outside the query string"
        )
    );
    let error = call(
        &ctx,
        "http.get",
        json!({"url": "https://example.com/", "body": "x"}),
    )
    .await
    .unwrap_err();
    let ToolError::InvalidArguments(arg) = error else {
        panic!("expected an argument error")
    };
    assert_eq!(
        (arg.field.as_str(), arg.problem.as_str()),
        ("body", "is given for GET")
    );
}
