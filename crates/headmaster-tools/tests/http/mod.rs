//! `http.*` against real servers on loopback: what an Admin allowed works (with caps and
//! timeouts), and every SSRF route is refused before a connection is made.

mod refusals;

use std::sync::Arc;

use headmaster_tools::files::{FileConfig, FileScope};
use headmaster_tools::http::{
    HttpConfig, HttpContext, HttpError, HttpMethod, NameResolver, SystemResolver,
};
use headmaster_tools::{
    AffectedResources, CredentialSet, ToolCall, ToolContext, ToolError, ToolOutput,
};
use serde_json::{json, Value};

use crate::support::http_server::{Reply, TestServer};

/// A context with `config` and `resolver`; the files folder is unused by these tests.
pub fn context(config: HttpConfig, resolver: Arc<dyn NameResolver>) -> ToolContext {
    ToolContext {
        files: FileScope::new("/nonexistent", FileConfig::default()),
        http: HttpContext::with_resolver(config, resolver).unwrap(),
        email: None,
    }
}

/// A context allowing exactly `127.0.0.1:PORT` of `server` as an internal exception.
fn allowing(server: &TestServer) -> ToolContext {
    context(
        HttpConfig {
            allowed_internal: vec![format!("127.0.0.1:{}", server.port())],
            ..HttpConfig::default()
        },
        Arc::new(SystemResolver),
    )
}

async fn call(ctx: &ToolContext, action: &str, args: Value) -> Result<ToolOutput, ToolError> {
    let call = ToolCall::parse(action, &args)?;
    ctx.execute(&call, &CredentialSet::new()).await
}

fn response(output: ToolOutput) -> headmaster_tools::http::HttpResponse {
    match output {
        ToolOutput::Http(response) => response,
        other => panic!("expected an HTTP response, got {other:?}"),
    }
}

#[tokio::test]
async fn an_explicitly_allowed_loopback_server_is_reached() {
    let server = TestServer::start(Reply::ok("hello from loopback")).await;
    let ctx = allowing(&server);
    let out = response(
        call(
            &ctx,
            "http.get",
            json!({"url": server.url("/status?x=1"), "headers": {"Accept": "text/plain"}}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(out.status, 200);
    assert_eq!(out.body, "hello from loopback");
    assert!(!out.truncated);
    assert_eq!(out.url, server.url("/status?x=1"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("GET", "/status?x=1")
    );
    assert_eq!(requests[0].header("accept"), Some("text/plain"));
}

#[tokio::test]
async fn a_post_carries_its_body_and_the_reviewer_sees_method_url_and_preview() {
    let server = TestServer::start(Reply::ok("created")).await;
    let ctx = allowing(&server);
    let args = json!({"url": server.url("/items"), "headers": {"Content-Type": "application/json"}, "body": "{\"name\":\"x\"}"});
    let affected = ctx
        .affected(&ToolCall::parse("http.post", &args).unwrap())
        .await
        .unwrap();
    let AffectedResources::Http(affected) = affected else {
        panic!("expected an HTTP description")
    };
    assert_eq!(affected.method, HttpMethod::Post);
    assert_eq!(affected.url, server.url("/items"));
    assert_eq!(
        (
            affected.host.as_str(),
            affected.port,
            affected.internal_exception
        ),
        ("127.0.0.1", server.port(), true)
    );
    assert_eq!(affected.body_preview.as_deref(), Some("{\"name\":\"x\"}"));
    assert_eq!(affected.body_bytes, 12);
    let out = response(call(&ctx, "http.post", args).await.unwrap());
    assert_eq!(out.status, 200);
    let requests = server.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].body, b"{\"name\":\"x\"}");
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn a_redirect_within_the_allowed_server_is_followed() {
    let server = TestServer::start(Reply::RedirectOnce {
        location: "/final".to_owned(),
        body: b"arrived".to_vec(),
    })
    .await;
    let ctx = allowing(&server);
    let out = response(
        call(&ctx, "http.get", json!({"url": server.url("/start")}))
            .await
            .unwrap(),
    );
    assert_eq!((out.status, out.body.as_str()), (200, "arrived"));
    assert_eq!(out.redirects, vec![server.url("/final")]);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/start", "/final"]);
}

#[tokio::test]
async fn the_body_is_cut_at_the_byte_cap() {
    let server = TestServer::start(Reply::Fixed {
        status: 200,
        headers: vec![],
        body: vec![b'a'; 10_000],
    })
    .await;
    let mut ctx = allowing(&server);
    ctx.http = HttpContext::new(HttpConfig {
        max_response_bytes: 1000,
        ..ctx.http.config().clone()
    })
    .unwrap();
    let out = response(
        call(&ctx, "http.get", json!({"url": server.url("/big")}))
            .await
            .unwrap(),
    );
    assert!(out.truncated);
    assert_eq!(out.body, "a".repeat(1000));
}

#[tokio::test]
async fn the_total_timeout_fires_on_a_server_that_never_answers() {
    let server = TestServer::start(Reply::Silent).await;
    let mut ctx = allowing(&server);
    ctx.http = HttpContext::new(HttpConfig {
        total_timeout_ms: 300,
        ..ctx.http.config().clone()
    })
    .unwrap();
    let error = call(&ctx, "http.get", json!({"url": server.url("/hang")}))
        .await
        .unwrap_err();
    assert_eq!(error, ToolError::Http(HttpError::Timeout { limit_ms: 300 }));
    assert_eq!(
        server.connections(),
        1,
        "the request must have reached the silent server"
    );
}

#[tokio::test]
async fn head_returns_headers_without_a_body() {
    let server = TestServer::start(Reply::Fixed {
        status: 204,
        headers: vec![("X-Kind".into(), "probe".into())],
        body: vec![],
    })
    .await;
    let ctx = allowing(&server);
    let out = response(
        call(&ctx, "http.head", json!({"url": server.url("/")}))
            .await
            .unwrap(),
    );
    assert_eq!(out.status, 204);
    assert!(out
        .headers
        .iter()
        .any(|h| h.name == "x-kind" && h.value == "probe"));
    assert_eq!(server.requests()[0].method, "HEAD");
}
