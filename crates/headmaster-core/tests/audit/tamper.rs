//! Each tamper kind performed with raw SQL or bytes, and the exact report `verify` gives.

use headmaster_core::access::Scope;

use crate::common::Fixture;
use crate::support::{breaks, exec, fill, raw, verify};

const TEN_MINUTES: i64 = 10 * 60 * 1000;

/// An instance chain of `n` events with checkpoints every 10 minutes of clock time.
async fn chain(n: usize) -> (Fixture, headmaster_core::Session) {
    let fx = Fixture::new().await;
    let session = fx.admin().await;
    fill(&fx, &session, n, TEN_MINUTES / 4).await;
    (fx, session)
}

#[tokio::test]
async fn an_untouched_chain_verifies() {
    let (fx, session) = chain(20).await;
    let outcome = verify(&fx, &session).await;
    assert!(outcome.valid, "{outcome:?}");
    assert!(outcome.breaks.is_empty());
    assert!(outcome.checkpoints_checked >= 5, "{outcome:?}");
    assert_eq!(outcome.valid_ranges, vec![(1, outcome.events_checked)]);
}

#[tokio::test]
async fn an_edited_row_is_named_by_seq() {
    let (fx, session) = chain(20).await;
    let pool = raw(&fx).await;
    exec(&pool, "DROP TRIGGER audit_events_no_update").await;
    exec(
        &pool,
        "UPDATE audit_events SET outcome = 'denied' WHERE seq = 10",
    )
    .await;
    let outcome = verify(&fx, &session).await;
    assert!(!outcome.valid);
    assert_eq!(breaks(&outcome), vec![("hash_mismatch".to_string(), 10)]);
    assert_eq!(outcome.valid_ranges[0], (1, 9));
    assert_eq!(outcome.valid_ranges[1].0, 11);
}

#[tokio::test]
async fn a_deleted_row_is_reported_missing() {
    let (fx, session) = chain(20).await;
    let pool = raw(&fx).await;
    exec(&pool, "DROP TRIGGER audit_events_no_delete").await;
    exec(&pool, "DELETE FROM audit_events WHERE seq = 12").await;
    let outcome = verify(&fx, &session).await;
    assert!(!outcome.valid);
    assert_eq!(outcome.breaks[0].kind, "missing_seq");
    assert_eq!(outcome.breaks[0].seq, 12);
    assert_eq!(outcome.valid_ranges[0], (1, 11));
}

#[tokio::test]
async fn swapped_rows_are_detected() {
    let (fx, session) = chain(20).await;
    let pool = raw(&fx).await;
    exec(&pool, "DROP TRIGGER audit_events_no_update").await;
    // Move row 8 to seq 1000, row 9 to 8, then row 1000 to 9: the two rows trade places.
    exec(&pool, "UPDATE audit_events SET seq = 1000 WHERE seq = 8").await;
    exec(&pool, "UPDATE audit_events SET seq = 8 WHERE seq = 9").await;
    exec(&pool, "UPDATE audit_events SET seq = 9 WHERE seq = 1000").await;
    let outcome = verify(&fx, &session).await;
    assert!(!outcome.valid);
    // Both rows fail their own hash; the signed checkpoint at seq 9 no longer matches, so the
    // verifier trusts nothing after the previous checkpoint (seq 1) up to the break.
    assert_eq!(
        breaks(&outcome),
        vec![
            ("hash_mismatch".to_string(), 8),
            ("hash_mismatch".to_string(), 9),
            ("checkpoint_mismatch".to_string(), 9),
        ]
    );
    assert_eq!(
        outcome.valid_ranges,
        vec![(1, 1), (10, outcome.events_checked)]
    );
}

#[tokio::test]
async fn an_altered_checkpoint_signature_is_reported() {
    let (fx, session) = chain(20).await;
    let pool = raw(&fx).await;
    exec(&pool, "DROP TRIGGER audit_checkpoints_no_update").await;
    let seq: i64 =
        sqlx::query_scalar("SELECT seq FROM audit_checkpoints ORDER BY seq LIMIT 1 OFFSET 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq = ?")
        .bind(seq)
        .execute(&pool)
        .await
        .unwrap();
    let outcome = verify(&fx, &session).await;
    assert!(!outcome.valid);
    assert_eq!(
        breaks(&outcome),
        vec![("bad_checkpoint_signature".to_string(), seq as u64)]
    );
}

#[tokio::test]
async fn a_truncated_tail_is_caught_by_the_last_checkpoint() {
    let (fx, session) = chain(20).await;
    let pool = raw(&fx).await;
    let last_checkpoint: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    exec(&pool, "DROP TRIGGER audit_events_no_delete").await;
    sqlx::query("DELETE FROM audit_events WHERE seq >= ?")
        .bind(last_checkpoint - 1)
        .execute(&pool)
        .await
        .unwrap();
    let outcome = verify(&fx, &session).await;
    assert!(!outcome.valid);
    assert_eq!(
        outcome.breaks.last().unwrap().kind,
        "checkpoint_beyond_end",
        "{outcome:?}"
    );
}

#[tokio::test]
async fn the_triggers_refuse_update_and_delete() {
    let (fx, _session) = chain(3).await;
    let pool = raw(&fx).await;
    let update = sqlx::query("UPDATE audit_events SET outcome = 'denied' WHERE seq = 1")
        .execute(&pool)
        .await;
    assert!(update.unwrap_err().to_string().contains("immutable"));
    let delete = sqlx::query("DELETE FROM audit_events WHERE seq = 1")
        .execute(&pool)
        .await;
    assert!(delete.unwrap_err().to_string().contains("immutable"));
    let checkpoint = sqlx::query("DELETE FROM audit_checkpoints")
        .execute(&pool)
        .await;
    assert!(checkpoint.is_err());
}

#[tokio::test]
async fn an_altered_archive_segment_is_reported_and_the_chain_spans_archive_and_hot_rows() {
    let fx = Fixture::new().await;
    let session = fx.admin().await;
    fill(&fx, &session, 10, 60_000).await;
    fx.clock.advance_ms(91 * 86_400_000);
    let session = fx.admin().await;
    fill(&fx, &session, 5, 60_000).await;
    let report = fx
        .instance
        .archive_audit(&session, Scope::Org)
        .await
        .unwrap();
    assert_eq!(report.segments, 1);
    assert!(report.events >= 10, "{report:?}");
    let outcome = verify(&fx, &session).await;
    assert!(outcome.valid, "{outcome:?}");
    assert_eq!(outcome.valid_ranges, vec![(1, outcome.events_checked)]);

    let archive = fx.dir.path().join("archive").join("instance");
    let segment = std::fs::read_dir(&archive)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&segment, bytes).unwrap();
    let outcome = verify(&fx, &session).await;
    assert!(!outcome.valid);
    assert_eq!(outcome.segment_problems.len(), 1);
    assert!(
        outcome.segment_problems[0].contains("was altered"),
        "{outcome:?}"
    );
    assert_eq!(outcome.breaks[0].kind, "missing_seq");
    assert_eq!(outcome.breaks[0].seq, 1);
}

#[tokio::test]
async fn maintenance_archives_every_chain_past_the_configured_retention() {
    let fx = Fixture::new().await;
    let session = fx.admin().await;
    fx.instance.set_audit_retention(&session, 30).await.unwrap();
    fill(&fx, &session, 5, 60_000).await;
    // Nothing is old enough yet: maintenance leaves the chains alone.
    let source = crate::common::source();
    assert!(fx
        .instance
        .maintain_audit(&source)
        .await
        .unwrap()
        .is_empty());
    fx.clock.advance_ms(31 * 86_400_000);
    let reports = fx.instance.maintain_audit(&source).await.unwrap();
    assert_eq!(
        reports.len(),
        2,
        "the instance chain and the workspace chain: {reports:?}"
    );
    assert!(
        reports.iter().all(|r| r.segments == 1 && r.events >= 2),
        "{reports:?}"
    );
    let session = fx.admin().await;
    let outcome = verify(&fx, &session).await;
    assert!(outcome.valid, "{outcome:?}");
    let ws = fx.instance.resolve_workspace(&session, None).await.unwrap();
    let ws_outcome = fx
        .instance
        .verify_audit(
            &session,
            Scope::Workspace(ws.id.parse().unwrap()),
            &|_, _| {},
        )
        .await
        .unwrap();
    assert!(ws_outcome.valid, "{ws_outcome:?}");
    let bad = fx
        .instance
        .set_audit_retention(&session, 0)
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_input");
}

#[tokio::test]
async fn a_payload_resealed_as_broken_json_fails_reads_naming_the_event() {
    let (fx, session) = chain(6).await;
    let filter = headmaster_core::audit::AuditFilter::default();
    let page = fx
        .instance
        .query_audit(&session, Scope::Org, &filter)
        .await
        .unwrap();
    assert!(page.entries.iter().all(|e| e.payload.is_object()));

    // Authentic ciphertext under the audit key, of JSON that does not parse: the read used to
    // show it as a null payload.
    let keys = fx.test_vault().await.keys("instance").await.unwrap();
    let sealed = keys
        .seal_audit_now(
            &headmaster_core::vault::seal::Aad::new("instance", "audit_events", "payload", "4"),
            b"{\"period_days\": ",
        )
        .unwrap();
    let pool = raw(&fx).await;
    exec(&pool, "DROP TRIGGER audit_events_no_update").await;
    sqlx::query("UPDATE audit_events SET payload = ? WHERE seq = 4")
        .bind(&sealed)
        .execute(&pool)
        .await
        .unwrap();

    let error = fx
        .instance
        .query_audit(&session, Scope::Org, &filter)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "corrupt_data", "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with("audit event payload 4 of chain instance is corrupt"),
        "{message}"
    );
    let out = fx.dir.path().join("export");
    let error = fx
        .instance
        .export_audit(&session, Scope::Org, &out, &|_, _| {})
        .await
        .unwrap_err();
    assert_eq!(error.code(), "corrupt_data", "{error}");
    // The advice holds: verification names the same row.
    let outcome = verify(&fx, &session).await;
    assert_eq!(breaks(&outcome), vec![("hash_mismatch".to_string(), 4)]);
}
