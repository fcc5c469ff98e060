//! GDPR erasure: after erasing a subject, neither a raw scan of the data directory nor a fresh
//! export contains their personal data, the chain still verifies, and the erasure is recorded.

use headmaster_core::access::{Role, Scope};
use headmaster_core::audit::{AuditFilter, Source};
use headmaster_core::Error;
use headmaster_protocol::bundle::{verify_bundle, Trust};

use crate::common::{secret, Fixture};
use crate::support::{scan, verify};

const MARKER: &str = "zqxmarker";

fn marked_source() -> Source {
    Source {
        client: "cli".into(),
        host: Some(format!("{MARKER}-laptop")),
        os_user: Some(format!("{MARKER}-os")),
        ip: Some("192.0.2.77".into()),
        user_agent: Some(format!("{MARKER}-agent/1.0")),
    }
}

#[tokio::test]
async fn erasure_leaves_no_trace_and_the_chain_still_verifies() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let username = format!("{MARKER}.user");
    fx.instance
        .add_user(
            &admin,
            &username,
            &secret("subject's long password"),
            Role::Viewer,
        )
        .await
        .unwrap();
    let ws = fx.instance.resolve_workspace(&admin, None).await.unwrap();
    let ws_id = ws.id.parse().unwrap();
    fx.instance
        .add_member(&admin, ws_id, &username, "viewer")
        .await
        .unwrap();
    let subject = fx
        .instance
        .sign_in(
            &username,
            &secret("subject's long password"),
            marked_source(),
        )
        .await
        .unwrap()
        .session;
    // The subject acts: a denied admin action is audited with their source in the workspace chain.
    let denied = fx
        .instance
        .add_member(&subject, ws_id, "alice", "viewer")
        .await
        .unwrap_err();
    assert!(matches!(denied, Error::Forbidden { .. }));

    // Before erasure: nothing in clear on disk, but the export names them.
    assert!(
        scan(fx.dir.path(), MARKER.as_bytes()).is_empty(),
        "personal data stored in clear"
    );
    let before = fx.dir.path().join("before");
    fx.instance
        .export_audit(&admin, Scope::Org, &before, &|_, _| {})
        .await
        .unwrap();
    assert!(
        !scan(&before, MARKER.as_bytes()).is_empty(),
        "the export should name the subject before erasure"
    );

    let report = fx.instance.erase_subject(&admin, &username).await.unwrap();

    // After: raw scan of the data dir, fresh exports of both chains: no marker anywhere.
    assert!(scan(
        fx.dir.path().join("instance.db").parent().unwrap(),
        MARKER.as_bytes()
    )
    .iter()
    .all(|f| f.starts_with(&before)));
    let after_org = fx.dir.path().join("after-org");
    let after_ws = fx.dir.path().join("after-ws");
    fx.instance
        .export_audit(&admin, Scope::Org, &after_org, &|_, _| {})
        .await
        .unwrap();
    fx.instance
        .export_audit(&admin, Scope::Workspace(ws_id), &after_ws, &|_, _| {})
        .await
        .unwrap();
    assert!(
        scan(&after_org, MARKER.as_bytes()).is_empty(),
        "marker in the org export after erasure"
    );
    assert!(
        scan(&after_ws, MARKER.as_bytes()).is_empty(),
        "marker in the workspace export after erasure"
    );
    let events = std::fs::read_to_string(after_ws.join("events.jsonl")).unwrap();
    assert!(
        events.contains("[erased]"),
        "erased fields should read [erased]"
    );
    assert!(verify_bundle(&after_ws, Trust::BundleKey)
        .unwrap()
        .problems
        .is_empty());

    // The chains still verify, and the erasure is recorded without personal data.
    assert!(verify(&fx, &admin).await.valid);
    let ws_outcome = fx
        .instance
        .verify_audit(&admin, Scope::Workspace(ws_id), &|_, _| {})
        .await
        .unwrap();
    assert!(ws_outcome.valid, "{ws_outcome:?}");
    let erased = fx
        .instance
        .query_audit(
            &admin,
            Scope::Org,
            &AuditFilter {
                action: Some("subject.erased".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(erased.entries.len(), 1);
    assert_eq!(erased.entries[0].target, report.subject_id);
    assert!(!erased.entries[0].payload.to_string().contains(MARKER));

    // The subject's own events now show them as erased; they can no longer sign in or be found.
    let theirs = fx
        .instance
        .query_audit(
            &admin,
            Scope::Workspace(ws_id),
            &AuditFilter {
                actor: Some(report.subject_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!theirs.entries.is_empty());
    for entry in &theirs.entries {
        assert_eq!(entry.actor_name, "[erased]");
        assert_eq!(entry.source.host.as_deref(), Some("[erased]"));
    }
    assert!(fx
        .instance
        .sign_in(
            &username,
            &secret("subject's long password"),
            marked_source()
        )
        .await
        .is_err());
    assert!(matches!(
        fx.instance.export_subject(&admin, &username).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        fx.instance.whoami(&subject).await,
        Err(Error::SessionExpired | Error::AccountDisabled)
    ));
}

#[tokio::test]
async fn the_subject_access_export_holds_their_data_and_events() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    fx.instance
        .add_user(
            &admin,
            "carol",
            &secret("carol's long password"),
            Role::Viewer,
        )
        .await
        .unwrap();
    fx.instance
        .sign_in("carol", &secret("carol's long password"), marked_source())
        .await
        .unwrap();
    let export = fx.instance.export_subject(&admin, "carol").await.unwrap();
    assert_eq!(export.username, "carol");
    let org = export
        .events
        .iter()
        .find(|e| e.scope == "instance")
        .unwrap();
    let sign_in = org
        .entries
        .iter()
        .find(|e| e.action == "auth.sign_in")
        .unwrap();
    assert_eq!(sign_in.source.host.as_deref(), Some("zqxmarker-laptop"));
    let viewer = fx
        .instance
        .sign_in("carol", &secret("carol's long password"), marked_source())
        .await
        .unwrap()
        .session;
    assert!(matches!(
        fx.instance.export_subject(&viewer, "carol").await,
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        fx.instance.erase_subject(&admin, "alice").await,
        Err(Error::Conflict(_))
    ));
}
