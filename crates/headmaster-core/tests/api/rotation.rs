//! Data-key rotation: re-encryption of many rows with progress, retirement of the old version,
//! audit rows after retirement, automatic rotation by age, and rotation before a key's
//! encryption budget runs out. (A rotation killed mid-way: `rotation_kill`.)

use std::collections::BTreeSet;
use std::sync::Mutex;

use headmaster_core::access::Scope;
use headmaster_core::audit::AuditFilter;
use headmaster_core::ids::RoleId;
use headmaster_core::vault::rotation::Progress;
use headmaster_core::vault::seal::Aad;
use headmaster_core::vault::{
    no_progress, KeyScope, KeysStatus, ENCRYPTIONS_BEFORE_ROTATION, RETIRE_GRACE_MS,
};
use headmaster_core::Session;
use sqlx::SqlitePool;

use crate::common::{sign_in_to, source, Fixture, ADMIN};

const DAY_MS: i64 = 86_400_000;
/// Values in the instance scope sealed under its data key besides custom roles: the
/// organisation name, the first Admin's password hash and the first workspace's name.
/// (Usernames are sealed under each user's own subject key and are not rotated.)
pub const OTHER_INSTANCE_ROWS: u64 = 3;

/// Inserts `count` custom roles named `{prefix}-00000`… exactly as `create_role` stores them
/// (sealed name bound to its row, blind index, capability list), in one transaction. Going
/// through `create_role` would cost a durable commit and an audit append per role; the rows
/// are the same, and the tests read them back through the public API.
pub async fn seed_roles(fx: &Fixture, prefix: &str, count: usize) -> BTreeSet<String> {
    let vault = fx.test_vault().await;
    let pool = fx.raw().await;
    let creator: String = sqlx::query_scalar("SELECT id FROM users ORDER BY created_at LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut rows = Vec::with_capacity(count);
    for i in 0..count {
        let id = RoleId::new().to_string();
        let name = format!("{prefix}-{i:05}");
        let index = vault
            .blind_index("instance", "roles.name", &name.to_lowercase())
            .await
            .unwrap();
        let sealed = vault
            .seal(&Aad::new("instance", "roles", "name", &id), name.as_bytes())
            .await
            .unwrap();
        rows.push((id, index, sealed, name));
    }
    let mut tx = pool.begin().await.unwrap();
    for (id, index, sealed, _) in &rows {
        sqlx::query(
            "INSERT INTO roles (id, name_idx, name, capabilities, created_by, created_at)
             VALUES (?, ?, ?, 'workspace.read', ?, 0)",
        )
        .bind(id)
        .bind(index)
        .bind(sealed)
        .bind(&creator)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    pool.close().await;
    rows.into_iter().map(|(_, _, _, name)| name).collect()
}

/// Custom role names as `list_roles` returns them.
async fn custom_role_names(fx: &Fixture, session: &Session) -> BTreeSet<String> {
    fx.instance
        .list_roles(session)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.builtin)
        .map(|r| r.name)
        .collect()
}

/// `(version, state, rows)` of the data keys of one scope in a status report.
pub fn data_versions(status: &KeysStatus, scope: &str) -> Vec<(u32, &'static str, Option<u64>)> {
    status
        .scopes
        .iter()
        .find(|s| s.scope == scope)
        .unwrap_or_else(|| panic!("scope {scope} missing from {status:?}"))
        .versions
        .iter()
        .filter(|v| v.purpose == "data")
        .map(|v| (v.version, v.state, v.rows))
        .collect()
}

/// The newest version of a series in a status report.
fn current(status: &KeysStatus, scope: &str, purpose: &str) -> u32 {
    status
        .scopes
        .iter()
        .find(|s| s.scope == scope)
        .unwrap()
        .versions
        .iter()
        .filter(|v| v.purpose == purpose && v.state == "active")
        .map(|v| v.version)
        .max()
        .unwrap()
}

/// Custom-role names sealed under data-key `version`, counted on the stored bytes.
pub async fn roles_on_version(pool: &SqlitePool, version: u32) -> i64 {
    let mut header = vec![1u8];
    header.extend_from_slice(&version.to_be_bytes());
    sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE substr(name, 1, 5) = ?")
        .bind(header)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn rotation_moves_every_row_to_the_new_key_and_retires_the_old_one() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let mut names = seed_roles(&fx, "bulk", 2_000).await;
    fx.instance
        .create_role(&admin, "made through the API", &["audit.read".into()])
        .await
        .unwrap();
    names.insert("made through the API".into());
    // The seeded rows are what `create_role` writes: the blind index finds them by name.
    fx.instance.delete_role(&admin, "BULK-01999").await.unwrap();
    names.remove("bulk-01999");
    let rows = names.len() as u64 + OTHER_INSTANCE_ROWS;

    let before = fx.instance.keys_status(&admin, None).await.unwrap();
    assert_eq!(
        data_versions(&before, "instance"),
        [(1, "active", Some(rows))]
    );

    let seen = Mutex::new(Vec::<Progress>::new());
    let report = fx
        .instance
        .rotate_keys(&admin, KeyScope::Instance, &|p| {
            seen.lock().unwrap().push(p)
        })
        .await
        .unwrap();
    assert_eq!(report.data_version, 2);
    assert_eq!(report.rows_reencrypted, rows);
    assert!(
        report.retired.is_empty(),
        "retired before the grace period: {report:?}"
    );
    assert_eq!(report.awaiting_retirement, [1]);
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        seen.first(),
        Some(&Progress {
            done: 0,
            total: rows
        })
    );
    assert_eq!(
        seen.last(),
        Some(&Progress {
            done: rows,
            total: rows
        })
    );
    assert!(seen.len() >= 5, "progress reported per batch: {seen:?}");
    assert!(seen
        .windows(2)
        .all(|w| w[0].done <= w[1].done && w[1].total == rows));

    let after = fx.instance.keys_status(&admin, None).await.unwrap();
    assert_eq!(
        data_versions(&after, "instance"),
        [(1, "retired", Some(0)), (2, "active", Some(rows))]
    );
    assert_eq!(current(&after, "instance", "audit"), 2);
    assert_eq!(
        roles_on_version(&fx.raw().await, 2).await,
        names.len() as i64
    );

    // The old version is destroyed only after the grace period.
    assert!(fx
        .instance
        .retire_unused_keys(&admin, KeyScope::Instance)
        .await
        .unwrap()
        .is_empty());
    fx.clock.advance_ms(RETIRE_GRACE_MS);
    assert_eq!(
        fx.instance
            .retire_unused_keys(&admin, KeyScope::Instance)
            .await
            .unwrap(),
        [1]
    );
    let retired = fx.instance.keys_status(&admin, None).await.unwrap();
    assert_eq!(
        data_versions(&retired, "instance"),
        [(2, "active", Some(rows))]
    );

    assert_eq!(custom_role_names(&fx, &admin).await, names);
    assert_eq!(fx.instance.org_name().await.unwrap(), "Acme");
    let restarted = fx.reopen().await;
    let session = sign_in_to(&restarted, ADMIN).await;
    assert_eq!(
        restarted.list_workspaces(&session).await.unwrap()[0].name,
        "Acme"
    );
    assert_eq!(
        restarted.list_roles(&session).await.unwrap().len(),
        names.len() + 4
    );
}

#[tokio::test]
async fn audit_payloads_stay_readable_after_rotation_and_retirement() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    fx.instance
        .create_role(&admin, "auditors", &["audit.read".into()])
        .await
        .unwrap();
    let before = fx
        .instance
        .query_audit(&admin, Scope::Org, &AuditFilter::default())
        .await
        .unwrap();
    assert!(before.entries.len() >= 4, "{before:?}");

    fx.instance
        .rotate_keys(&admin, KeyScope::Instance, &no_progress)
        .await
        .unwrap();
    fx.clock.advance_ms(RETIRE_GRACE_MS);
    assert_eq!(
        fx.instance
            .retire_unused_keys(&admin, KeyScope::Instance)
            .await
            .unwrap(),
        [1]
    );

    // The audit log is immutable, so its rows are never re-encrypted: every event written
    // before the rotation must still open after the old data key was destroyed.
    let pool = fx.raw().await;
    let stored: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, payload FROM audit_events ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    let vault = fx.test_vault().await;
    let mut unreadable = Vec::new();
    for (seq, payload) in &stored {
        let row = seq.to_string();
        if let Err(e) = vault
            .open(
                &Aad::new("instance", "audit_events", "payload", &row),
                payload,
            )
            .await
        {
            unreadable.push((*seq, e.to_string()));
        }
    }
    assert!(
        unreadable.is_empty(),
        "audit payloads lost with the retired data key: {unreadable:?}"
    );
    let after = fx
        .instance
        .query_audit(&admin, Scope::Org, &AuditFilter::default())
        .await
        .unwrap();
    assert!(after.entries.len() > before.entries.len());
}

#[tokio::test]
async fn keys_older_than_the_rotation_period_are_rotated_at_start() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let second = fx
        .instance
        .create_workspace(&admin, "Second")
        .await
        .unwrap();
    let first = fx.first_workspace(&admin).await.to_string();

    fx.clock.advance_ms(89 * DAY_MS);
    assert!(fx
        .instance
        .maintain_keys(&source(), &no_progress)
        .await
        .unwrap()
        .is_empty());
    fx.clock.advance_ms(2 * DAY_MS);
    let reports = fx
        .instance
        .maintain_keys(&source(), &no_progress)
        .await
        .unwrap();
    let mut rotated: Vec<(String, u32)> = reports
        .iter()
        .map(|r| (r.scope.clone(), r.data_version))
        .collect();
    rotated.sort();
    let mut expected = vec![
        ("instance".to_string(), 2),
        (first.clone(), 2),
        (second.id.clone(), 2),
    ];
    expected.sort();
    assert_eq!(rotated, expected);

    let admin = fx.admin().await;
    let status = fx.instance.keys_status(&admin, None).await.unwrap();
    for scope in ["instance", first.as_str(), second.id.as_str()] {
        assert_eq!(current(&status, scope, "data"), 2, "{scope}");
        assert_eq!(current(&status, scope, "audit"), 2, "{scope}");
        let entry = status.scopes.iter().find(|s| s.scope == scope).unwrap();
        assert!(!entry.rotation_due && !entry.rotation_pending, "{entry:?}");
        assert!(entry.last_rotation.is_some());
    }
    assert!(fx
        .instance
        .maintain_keys(&source(), &no_progress)
        .await
        .unwrap()
        .is_empty());

    // The period is configurable.
    fx.instance.set_rotation_period(&admin, 30).await.unwrap();
    fx.clock.advance_ms(30 * DAY_MS);
    let reports = fx
        .instance
        .maintain_keys(&source(), &no_progress)
        .await
        .unwrap();
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| r.data_version == 3), "{reports:?}");
    assert_eq!(fx.instance.org_name().await.unwrap(), "Acme");
}

#[tokio::test]
async fn a_key_is_replaced_before_its_encryption_budget_runs_out() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let workspace = fx.first_workspace(&admin).await;
    fx.instance
        .create_role(&admin, "before the limit", &["workspace.read".into()])
        .await
        .unwrap();
    let pool = fx.raw().await;
    let near_limit = ENCRYPTIONS_BEFORE_ROTATION as i64 - 10;
    for (scope, purpose) in [
        ("instance".to_string(), "data"),
        ("instance".to_string(), "audit"),
        (workspace.to_string(), "data"),
    ] {
        sqlx::query(
            "UPDATE wrapped_keys SET encryptions = ? WHERE scope = ? AND purpose = ? AND version = 1",
        )
        .bind(near_limit)
        .bind(&scope)
        .bind(purpose)
        .execute(&pool)
        .await
        .unwrap();
    }

    // A restarted process reserves encryptions afresh and finds the budget spent.
    let restarted = fx.reopen().await;
    let session = sign_in_to(&restarted, ADMIN).await;
    restarted
        .create_role(&session, "after the limit", &["workspace.read".into()])
        .await
        .unwrap();
    restarted
        .rename_workspace(&session, workspace, "Acme renamed")
        .await
        .unwrap();
    assert_eq!(
        roles_on_version(&pool, 2).await,
        1,
        "the new role is sealed under version 2"
    );
    let status = restarted.keys_status(&session, None).await.unwrap();
    assert_eq!(current(&status, "instance", "data"), 2);
    assert_eq!(current(&status, "instance", "audit"), 2);
    assert_eq!(current(&status, &workspace.to_string(), "data"), 2);
    let old = status.scopes[0]
        .versions
        .iter()
        .find(|v| v.purpose == "data" && v.version == 1)
        .unwrap();
    assert_eq!(old.state, "retired");
    assert!(old.encryptions >= ENCRYPTIONS_BEFORE_ROTATION);
    let roles: BTreeSet<String> = restarted
        .list_roles(&session)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(roles.contains("before the limit") && roles.contains("after the limit"));
    assert_eq!(
        restarted.list_workspaces(&session).await.unwrap()[0].name,
        "Acme renamed"
    );
}
