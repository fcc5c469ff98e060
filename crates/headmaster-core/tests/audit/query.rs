//! Query filters and paging over sealed events.

use headmaster_core::access::Scope;
use headmaster_core::audit::AuditFilter;
use headmaster_core::clock::rfc3339_ms;

use crate::common::{secret, source, Fixture, START_MS};
use crate::support::fill;

#[tokio::test]
async fn filters_by_actor_action_outcome_and_time_and_pages() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    fill(&fx, &admin, 30, 1000).await;
    fx.instance
        .sign_in("alice", &secret("wrong password!"), source())
        .await
        .unwrap_err();
    let q = |filter: AuditFilter| {
        let fx = &fx;
        let admin = admin.clone();
        async move {
            fx.instance
                .query_audit(&admin, Scope::Org, &filter)
                .await
                .unwrap()
        }
    };
    let failed = q(AuditFilter {
        outcome: Some("failed".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(failed.entries.len(), 1);
    assert_eq!(failed.entries[0].action, "auth.sign_in_failed");

    let auth = q(AuditFilter {
        action: Some("auth.".into()),
        ..Default::default()
    })
    .await;
    assert!(auth.entries.iter().all(|e| e.action.starts_with("auth.")));
    assert!(auth.entries.len() >= 2);
    let star = q(AuditFilter {
        action: Some("auth.*".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(star.entries.len(), auth.entries.len());

    let by_alice = q(AuditFilter {
        actor: Some("alice".into()),
        action: Some("key.period_changed".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_alice.entries.len(), 30);
    assert!(by_alice.entries.iter().all(|e| e.actor_name == "alice"));
    assert!(
        by_alice.entries.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );

    let window = q(AuditFilter {
        action: Some("key.period_changed".into()),
        since: Some(rfc3339_ms(START_MS + 10_000)),
        until: Some(rfc3339_ms(START_MS + 20_000)),
        ..Default::default()
    })
    .await;
    assert_eq!(
        window.entries.len(),
        10,
        "{:?}",
        window.entries.iter().map(|e| &e.time).collect::<Vec<_>>()
    );

    let mut filter = AuditFilter {
        action: Some("key.period_changed".into()),
        limit: Some(7),
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = q(filter.clone()).await;
        assert!(page.entries.len() <= 7);
        seen.extend(page.entries.iter().map(|e| e.seq));
        match page.next_before {
            Some(before) => filter.before_seq = Some(before),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 30, "pages overlap");

    let bad = fx
        .instance
        .query_audit(
            &admin,
            Scope::Org,
            &AuditFilter {
                since: Some("yesterday".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(bad.unwrap_err().code(), "invalid_input");
    let unknown = fx
        .instance
        .query_audit(
            &admin,
            Scope::Org,
            &AuditFilter {
                actor: Some("nobody".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(unknown.unwrap_err().code(), "not_found");
}

#[tokio::test]
async fn a_viewer_reads_the_workspace_chain_but_not_the_instance_chain() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    fx.instance
        .add_user(
            &admin,
            "vera",
            &secret("vera's long password"),
            headmaster_core::access::Role::Viewer,
        )
        .await
        .unwrap();
    let ws = fx.instance.resolve_workspace(&admin, None).await.unwrap();
    let ws_id = ws.id.parse().unwrap();
    fx.instance
        .add_member(&admin, ws_id, "vera", "viewer")
        .await
        .unwrap();
    let vera = fx
        .instance
        .sign_in("vera", &secret("vera's long password"), source())
        .await
        .unwrap()
        .session;
    let page = fx
        .instance
        .query_audit(&vera, Scope::Workspace(ws_id), &AuditFilter::default())
        .await
        .unwrap();
    assert!(page.entries.iter().any(|e| e.action == "member.added"));
    let err = fx
        .instance
        .query_audit(&vera, Scope::Org, &AuditFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let export = fx
        .instance
        .export_audit(
            &vera,
            Scope::Workspace(ws_id),
            &fx.dir.path().join("x"),
            &|_, _| {},
        )
        .await;
    assert_eq!(export.unwrap_err().code(), "forbidden");
    assert!(!fx.dir.path().join("x").exists());
}
