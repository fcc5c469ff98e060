//! A rotation killed mid-way: a real child process (this test binary, re-executed) rotates
//! thousands of rows and is SIGKILLed as soon as the first batch committed; a restart finishes
//! the rotation, and every row is readable, on the new key, none lost or doubled.

use std::collections::BTreeSet;
use std::time::Duration;

use headmaster_core::vault::no_progress;

use crate::child::{self, Task};
use crate::common::{sign_in_to, source, wait_until, Fixture, ADMIN};
use crate::rotation::{data_versions, roles_on_version, seed_roles, OTHER_INSTANCE_ROWS};

/// A child process rotating the instance keys, once its first re-encrypted batch committed.
async fn rotating_child(fx: &Fixture, pool: &sqlx::SqlitePool) -> std::process::Child {
    let mut child = child::spawn(Task::Rotate, fx.home(), &fx.service, &[]);
    wait_until(
        Duration::from_secs(60),
        "the child's first re-encrypted batch",
        || {
            let pool = pool.clone();
            let exited = child.try_wait().unwrap();
            async move {
                assert!(
                    exited.is_none(),
                    "the child finished or failed before its first batch: {exited:?}"
                );
                roles_on_version(&pool, 2).await > 0
            }
        },
    )
    .await;
    child
}

#[tokio::test]
async fn a_rotation_killed_mid_way_resumes_without_losing_a_row() {
    const ROLES: usize = 5_000;
    let fx = Fixture::new().await;
    let names = seed_roles(&fx, "kill", ROLES).await;
    let pool = fx.raw().await;

    let mut child = rotating_child(&fx, &pool).await;
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        child::result_line(&String::from_utf8_lossy(&output.stdout)).is_none(),
        "the rotation completed before the kill"
    );

    let moved = roles_on_version(&pool, 2).await;
    assert!(
        moved > 0 && moved < ROLES as i64,
        "killed mid-way: {moved} of {ROLES} rows moved"
    );
    let unfinished: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM key_rotations WHERE finished_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(unfinished, 1);

    // A restart finishes the interrupted rotation.
    let restarted = fx.reopen().await;
    let reports = restarted
        .maintain_keys(&source(), &no_progress)
        .await
        .unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].data_version, 2);
    assert_eq!(
        reports[0].rows_reencrypted,
        ROLES as u64 - moved as u64,
        "every row still on the old key, and only those, was re-encrypted"
    );

    let session = sign_in_to(&restarted, ADMIN).await;
    let status = restarted.keys_status(&session, None).await.unwrap();
    let total = ROLES as u64 + OTHER_INSTANCE_ROWS;
    assert_eq!(
        data_versions(&status, "instance"),
        [(1, "retired", Some(0)), (2, "active", Some(total))]
    );
    assert!(!status.scopes[0].rotation_pending);
    let listed: Vec<String> = restarted
        .list_roles(&session)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.builtin)
        .map(|r| r.name)
        .collect();
    assert_eq!(listed.len(), ROLES, "no role lost or doubled");
    assert_eq!(
        listed.into_iter().collect::<BTreeSet<_>>(),
        names,
        "every role survived"
    );
}

#[tokio::test]
async fn while_another_process_rotates_a_scope_this_one_neither_rotates_nor_finishes_it() {
    const ROLES: usize = 5_000;
    let fx = Fixture::new().await;
    seed_roles(&fx, "busy", ROLES).await;
    let pool = fx.raw().await;

    let mut child = rotating_child(&fx, &pool).await;
    // The child holds the rotation's lease: this process's maintenance leaves the scope alone
    // (it does not re-encrypt the same rows at the same time) and a manual rotation refuses.
    let here = fx.reopen().await;
    let reports = here.maintain_keys(&source(), &no_progress).await.unwrap();
    let still_running = child.try_wait().unwrap().is_none();
    // A rotation of this process's own is legitimate once the child has finished.
    let mut rotations = 1;
    if still_running {
        assert!(
            reports.iter().all(|r| r.scope != "instance"),
            "finished the child's rotation while the child ran: {reports:?}"
        );
        let session = sign_in_to(&here, ADMIN).await;
        match here
            .rotate_keys(
                &session,
                headmaster_core::vault::KeyScope::Instance,
                &no_progress,
            )
            .await
        {
            Err(e) => {
                assert_eq!(e.code(), "conflict", "{e}");
                assert!(e.to_string().contains("another process"), "{e}");
            }
            // Only possible if the child finished between the two checks (the sign-in alone
            // takes an Argon2 hash); then this process rotated after it, on its own.
            Ok(report) => {
                assert!(child.try_wait().unwrap().is_some(), "{report:?}");
                rotations = 2;
            }
        }
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the child's rotation failed: {output:?}"
    );
    let rotated: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM key_rotations WHERE scope = 'instance' AND finished_at IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rotated, rotations, "each rotation finished once");
    assert_eq!(roles_on_version(&pool, 1).await, 0, "every row moved");
}
