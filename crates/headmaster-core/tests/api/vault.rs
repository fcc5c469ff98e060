//! Sealed values at rest, attacked at the SQL level: values moved to another row or column,
//! altered bytes, and unlocking with the wrong passphrase. Every failure must be a
//! clean `decrypt_failed` (or the unlock error), never a panic, garbage, or a write. (Values
//! carried between workspace files: `isolation`.)

use headmaster_core::access::Role;
use headmaster_core::store::Layout;
use headmaster_core::{Instance, Unlock};
use sqlx::SqlitePool;

use crate::common::{env, secret, source, Fixture, PASSWORD};

async fn column(pool: &SqlitePool, table: &str, col: &str, id: &str) -> Vec<u8> {
    sqlx::query_scalar(&format!("SELECT {col} FROM {table} WHERE id = ?"))
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn set_column(pool: &SqlitePool, table: &str, col: &str, id: &str, value: &[u8]) {
    let done = sqlx::query(&format!("UPDATE {table} SET {col} = ? WHERE id = ?"))
        .bind(value)
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

#[tokio::test]
async fn a_sealed_value_moved_to_another_row_or_column_does_not_open() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let first = fx.first_workspace(&admin).await.to_string();
    let second = fx
        .instance
        .create_workspace(&admin, "Second")
        .await
        .unwrap()
        .id;
    let pool = fx.raw().await;

    // Row: the first workspace's name copied onto the second workspace's row.
    let second_name = column(&pool, "workspaces", "name", &second).await;
    let first_name = column(&pool, "workspaces", "name", &first).await;
    set_column(&pool, "workspaces", "name", &second, &first_name).await;
    let err = fx.instance.list_workspaces(&admin).await.unwrap_err();
    assert_eq!(err.code(), "decrypt_failed", "{err}");
    // Put back, the listing works again: the failure was the moved value.
    set_column(&pool, "workspaces", "name", &second, &second_name).await;
    assert_eq!(fx.instance.list_workspaces(&admin).await.unwrap().len(), 2);

    // Column: the organisation name (same scope and key) copied into a workspace name.
    let org_name: Vec<u8> = sqlx::query_scalar("SELECT org_name FROM instance")
        .fetch_one(&pool)
        .await
        .unwrap();
    set_column(&pool, "workspaces", "name", &second, &org_name).await;
    let err = fx.instance.list_workspaces(&admin).await.unwrap_err();
    assert_eq!(err.code(), "decrypt_failed", "{err}");
    set_column(&pool, "workspaces", "name", &second, &second_name).await;

    // Custom roles: one role's sealed name on another role's row.
    let a = fx
        .instance
        .create_role(&admin, "role a", &["audit.read".into()])
        .await
        .unwrap();
    let b = fx
        .instance
        .create_role(&admin, "role b", &["audit.read".into()])
        .await
        .unwrap();
    let a_name = column(&pool, "roles", "name", &a.id).await;
    set_column(&pool, "roles", "name", &b.id, &a_name).await;
    let err = fx.instance.list_roles(&admin).await.unwrap_err();
    assert_eq!(err.code(), "decrypt_failed", "{err}");
}

#[tokio::test]
async fn a_password_hash_moved_to_another_user_signs_nobody_in() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let bob_password = "bob's own long password";
    let bob = fx
        .instance
        .add_user(&admin, "bob", &secret(bob_password), Role::Viewer)
        .await
        .unwrap();
    let pool = fx.raw().await;
    let alice_hash = column(&pool, "users", "password_hash", &admin.user_id.to_string()).await;
    set_column(&pool, "users", "password_hash", &bob.id, &alice_hash).await;

    // With Alice's hash on his row, neither Alice's password nor Bob's signs Bob in.
    for password in [PASSWORD, bob_password] {
        let err = fx
            .instance
            .sign_in("bob", &secret(password), source())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "decrypt_failed", "{err}");
    }
    fx.admin().await;
}

#[tokio::test]
async fn altered_ciphertext_fails_to_decrypt_cleanly() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let id = fx.first_workspace(&admin).await.to_string();
    let pool = fx.raw().await;
    let original = column(&pool, "workspaces", "name", &id).await;

    let mut cases = Vec::new();
    for at in [original.len() / 2, original.len() - 1, 7] {
        let mut flipped = original.clone();
        flipped[at] ^= 0x01;
        cases.push((format!("bit flip at byte {at}"), flipped));
    }
    let mut relabelled = original.clone();
    relabelled[4] = 9;
    cases.push(("key version relabelled to 9".into(), relabelled));
    cases.push(("truncated".into(), original[..10].to_vec()));
    cases.push(("empty".into(), Vec::new()));

    for (what, altered) in cases {
        set_column(&pool, "workspaces", "name", &id, &altered).await;
        let err = fx.instance.list_workspaces(&admin).await.unwrap_err();
        assert_eq!(err.code(), "decrypt_failed", "{what}: {err}");
        let err = fx.instance.whoami(&admin).await.unwrap_err();
        assert_eq!(err.code(), "decrypt_failed", "{what}: {err}");
    }
    set_column(&pool, "workspaces", "name", &id, &original).await;
    assert_eq!(
        fx.instance.list_workspaces(&admin).await.unwrap()[0].name,
        "Acme"
    );
}

#[tokio::test]
async fn a_wrong_or_missing_passphrase_unlocks_nothing_and_writes_nothing() {
    let fx = Fixture::new().await;
    let files = ["instance.db", "instance.db-wal"].map(|f| fx.home().join(f));
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    let open = |passphrase: Option<&str>| {
        Instance::open(
            Layout::new(fx.home()),
            Unlock {
                passphrase: passphrase.map(secret),
            },
            env(&fx.clock),
        )
    };
    let err = open(Some("not the passphrase at all")).await.unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase");
    let err = open(None).await.unwrap_err();
    assert_eq!(err.code(), "passphrase_required");
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    assert!(
        before == after,
        "a failed unlock changed the database files"
    );
    assert!(open(Some(crate::common::PASSPHRASE)).await.is_ok());
}

#[tokio::test]
async fn a_long_transaction_may_outrun_its_reservation_and_the_count_catches_up() {
    let fx = crate::common::Fixture::new().await;
    let vault = fx.test_vault().await;
    let keys = vault.keys("instance").await.unwrap();
    let aad = headmaster_core::vault::seal::Aad::new("instance", "t", "c", "r");
    // Far more seals than one reservation block, with no `keys()` call in between (as inside a
    // single write transaction): none may fail.
    for _ in 0..70_000 {
        keys.seal_now(&aad, b"x").unwrap();
    }
    drop(keys);
    vault.keys("instance").await.unwrap();
    let counted: i64 = sqlx::query_scalar(
        "SELECT encryptions FROM wrapped_keys WHERE scope = 'instance' AND purpose = 'data' ORDER BY version DESC LIMIT 1",
    )
    .fetch_one(&fx.raw().await)
    .await
    .unwrap();
    assert!(
        counted >= 70_000,
        "the stored count is an upper bound of what was sealed: {counted}"
    );
}
