//! `http.*` through the gate: private, loopback, link-local and metadata targets are refused
//! at execution even after a person approved the call (addresses are checked after resolution
//! and on every redirect), while a loopback server that an Admin allowed by its exact
//! `host:port` is reached. Nothing ever connects to a refused target.

use headmaster_core::access::Role;
use headmaster_core::states::ApprovalStatus;
use headmaster_core::tools::CallOutcome;
use serde_json::json;

use crate::support::http::{HttpServer, Reply};
use crate::support::{having, pending_id, pending_tier, tool_code, Gate};

/// Proposes `GET url` as the Admin, has `confirmer` confirm it, and returns the error the
/// execution ended with, after checking that the refusal is audited against the request.
async fn refused_after_approval(
    gate: &Gate,
    confirmer: &headmaster_core::Session,
    url: &str,
) -> String {
    let mark = gate.mark().await;
    let outcome = gate
        .propose(&gate.admin, "http.get", json!({ "url": url }))
        .await
        .unwrap_or_else(|e| panic!("{url}: the request should be filed, got {e}"));
    let id = pending_id(&outcome);
    let error = gate
        .approve(confirmer, &id)
        .await
        .expect_err(&format!("{url} was fetched"));
    assert_eq!(gate.status(&id).await, "failed", "{url}");
    let events = gate.events_after(mark).await;
    let failed = having(&events, "tool.failed", "failed");
    assert_eq!(failed.len(), 1, "{url}: {events:?}");
    assert_eq!(failed[0].approval_id, id);
    assert!(having(&events, "tool.executed", "allowed").is_empty());
    tool_code(&error).to_string()
}

#[tokio::test]
async fn loopback_private_link_local_and_metadata_targets_are_refused_after_approval() {
    let gate = Gate::new().await;
    gate.enable("http").await;
    let operator = gate.member("oscar", Role::Operator).await;
    let v4 = HttpServer::start(Reply::Text("internal".into()));
    let v6 = HttpServer::on("[::1]:0", Reply::Text("internal".into()));
    // Every host is on the allowlist, so only the address checks stand in the way.
    gate.configure(
        "http",
        &[(
            "allowed_hosts",
            "127.0.0.1,[::1],169.254.169.254,10.0.0.1,localhost,0.0.0.0",
        )],
    )
    .await;

    for url in [
        format!("http://127.0.0.1:{}/", v4.port()),
        format!("http://[::1]:{}/", v6.port()),
        format!("http://localhost:{}/", v4.port()),
        "http://169.254.169.254/latest/meta-data/iam/".to_string(),
        "http://10.0.0.1/admin".to_string(),
        format!("http://0.0.0.0:{}/", v4.port()),
    ] {
        let code = refused_after_approval(&gate, &operator, &url).await;
        assert_eq!(code, "http_address_refused", "{url}");
    }
    assert_eq!(
        v4.connections(),
        0,
        "a refused loopback target was connected to"
    );
    assert_eq!(
        v6.connections(),
        0,
        "a refused IPv6 loopback target was connected to"
    );
}

#[tokio::test]
async fn a_redirect_from_an_allowed_server_to_an_internal_address_is_refused() {
    let gate = Gate::new().await;
    gate.enable("http").await;
    let operator = gate.member("oscar", Role::Operator).await;
    let other = HttpServer::start(Reply::Text("other loopback service".into()));
    let to_loopback = HttpServer::start(Reply::Redirect(other.url("/internal")));
    let to_metadata = HttpServer::start(Reply::Redirect(
        "http://169.254.169.254/latest/meta-data/".into(),
    ));
    // Only the two redirecting servers are allowed, each by its exact host:port.
    gate.configure(
        "http",
        &[(
            "allowed_internal",
            &format!("{},{}", to_loopback.host_port(), to_metadata.host_port()),
        )],
    )
    .await;

    for (server, what) in [
        (&to_loopback, "another loopback port"),
        (&to_metadata, "metadata"),
    ] {
        let code = refused_after_approval(&gate, &operator, &server.url("/start")).await;
        assert!(
            matches!(
                code.as_str(),
                "http_redirect_refused" | "http_address_refused" | "http_host_not_allowed"
            ),
            "redirect to {what}: {code}"
        );
        assert_eq!(
            server.requests().len(),
            1,
            "the allowed server was asked once"
        );
    }
    assert_eq!(
        other.connections(),
        0,
        "the redirect target was connected to"
    );
}

#[tokio::test]
async fn an_allowed_loopback_server_is_reached_only_once_an_admin_allowed_it() {
    let gate = Gate::new().await;
    gate.enable("http").await;
    let operator = gate.member("oscar", Role::Operator).await;
    let server = HttpServer::start(Reply::Text("hello from loopback".into()));
    let url = server.url("/status?check=1");

    // Loopback without the Admin's exception: refused, before anyone is asked to approve.
    let before = gate
        .propose(&gate.admin, "http.get", json!({ "url": url }))
        .await
        .expect_err("a loopback host that nobody allowed was accepted");
    assert_eq!(before.code(), "invalid_input", "{before}");

    gate.configure("http", &[("allowed_internal", &server.host_port())])
        .await;
    let outcome = gate
        .propose(&gate.admin, "http.get", json!({ "url": url }))
        .await
        .unwrap();
    // Boundary-crossing: never automatic, even for a read.
    assert_eq!(pending_tier(&outcome), ("medium".to_string(), 1));
    let id = pending_id(&outcome);
    assert_eq!(
        server.connections(),
        0,
        "nothing is sent while the request waits"
    );
    let detail = gate
        .instance()
        .show_approval(&operator, gate.ws, &id)
        .await
        .unwrap();
    assert_eq!(detail.affected["kind"], "http");
    assert_eq!(detail.affected["method"], "GET");
    assert_eq!(detail.affected["url"], url.as_str());
    assert_eq!(detail.affected["internal_exception"], true);

    let decision = gate.approve(&operator, &id).await.unwrap();
    assert_eq!(decision.status, ApprovalStatus::Executed);
    let Some(CallOutcome::Executed { output, .. }) = &decision.executed else {
        panic!("the confirmed call did not run: {decision:?}");
    };
    assert_eq!(output["status"], 200);
    assert_eq!(output["body"], "hello from loopback");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].head.starts_with("GET /status?check=1 HTTP/1.1"),
        "{}",
        requests[0].head
    );

    // A mutating method is a separate action, disabled on its own and high when enabled.
    gate.instance()
        .disable_tool(&gate.admin, gate.ws, "http.post")
        .await
        .unwrap();
    let post = gate
        .propose(&gate.admin, "http.post", json!({ "url": url, "body": "x" }))
        .await
        .unwrap();
    assert!(matches!(post, CallOutcome::Denied { .. }), "{post:?}");
    gate.enable("http.post").await;
    let post = gate
        .propose(&gate.admin, "http.post", json!({ "url": url, "body": "x" }))
        .await
        .unwrap();
    assert_eq!(pending_tier(&post), ("high".to_string(), 1));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn refusals_found_while_filing_a_request_are_audited_as_refusals() {
    let gate = Gate::new().await;
    gate.enable("http").await;
    gate.enable("file").await;
    let outside = tempfile::tempdir_in(gate.fx.home()).unwrap();
    let notes = gate.files_created().join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::os::unix::fs::symlink(outside.path().join("target.txt"), notes.join("link.txt")).unwrap();

    for (action, args) in [
        // The host is on no allowlist: refused while describing the request for reviewers.
        (
            "http.get",
            json!({ "url": "http://169.254.169.254/latest/meta-data/" }),
        ),
        // High (outside drafts/), and the path is a link: refused while computing the diff.
        (
            "file.write",
            json!({ "path": "notes/link.txt", "content": "x" }),
        ),
    ] {
        let mark = gate.mark().await;
        let error = gate
            .propose(&gate.admin, action, args.clone())
            .await
            .expect_err(&format!("{action} {args} was filed for approval"));
        assert_ne!(error.code(), "storage", "{error}");
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM approvals")
            .fetch_one(gate.raw())
            .await
            .unwrap();
        assert_eq!(
            pending, 0,
            "nobody is asked to approve a call that cannot run"
        );
        let events = gate.events_after(mark).await;
        let refusals: Vec<_> = events
            .iter()
            .filter(|e| e.target == action && matches!(e.outcome.as_str(), "denied" | "failed"))
            .collect();
        assert_eq!(
            refusals.len(),
            1,
            "{action}: the refusal must be audited as such, not left as a pending proposal: {events:?}"
        );
    }
    assert!(!outside.path().join("target.txt").exists());
}
