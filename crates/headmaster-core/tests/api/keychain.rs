//! The KEK in the real OS keychain: gnome-keyring's Secret Service, started inside a private
//! D-Bus session by `scripts/keyring-session.sh` (as `make test` does). Each test stores its
//! entries under a service name of its own.

use headmaster_core::vault::keys::Key256;

use crate::child::{self, Task};
use crate::common::{unique_service, Fixture};

/// The keychain entry of a KEK version, read with the `keyring` crate directly.
fn entry(fx: &Fixture, version: u32) -> keyring::Entry {
    keyring::Entry::new(&fx.service, &format!("kek:{}:v{version}", fx.instance_id())).unwrap()
}

/// The bytes of a file and its write-ahead log: everything a write would change.
fn stored_bytes(fx: &Fixture) -> Vec<Vec<u8>> {
    ["instance.db", "instance.db-wal"]
        .iter()
        .map(|f| std::fs::read(fx.home().join(f)).unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn the_kek_is_stored_loaded_and_rotated_through_the_keychain() {
    let fx = Fixture::keychain().await;
    let first = entry(&fx, 1).get_secret().unwrap();
    assert_eq!(first.len(), 32);
    let admin = fx.admin().await;
    fx.instance
        .create_role(&admin, "kept across rotations", &["audit.read".into()])
        .await
        .unwrap();

    // A restart loads the KEK from the keychain.
    let restarted = fx.reopen().await;
    assert_eq!(restarted.org_name().await.unwrap(), "Acme");

    let version = fx.instance.rotate_kek(&admin, None).await.unwrap();
    assert_eq!(version, 2);
    assert!(
        matches!(entry(&fx, 1).get_secret(), Err(keyring::Error::NoEntry)),
        "the old KEK is gone from the keychain"
    );
    let second = entry(&fx, 2).get_secret().unwrap();
    assert_eq!(second.len(), 32);
    assert_ne!(second, first);
    // The running instance switched to the new KEK.
    assert_eq!(fx.instance.list_roles(&admin).await.unwrap().len(), 5);

    let again = fx.reopen().await;
    assert_eq!(again.org_name().await.unwrap(), "Acme");
    let session = crate::common::sign_in_to(&again, crate::common::ADMIN).await;
    let roles = again.list_roles(&session).await.unwrap();
    assert!(roles.iter().any(|r| r.name == "kept across rotations"));
    let status = again.keys_status(&session, None).await.unwrap();
    assert_eq!(status.protection, "keychain");
    assert_eq!(status.keychain_available, Some(true));
    assert_eq!(status.kek_version, 2);
    entry(&fx, 2).delete_credential().unwrap();
}

#[tokio::test]
async fn a_missing_keychain_entry_is_reported_and_nothing_is_written() {
    let fx = Fixture::keychain().await;
    entry(&fx, 1).delete_credential().unwrap();
    let before = stored_bytes(&fx);
    let err = fx.try_reopen().await.unwrap_err();
    assert_eq!(err.code(), "keychain_entry_missing", "{err}");
    assert!(err.to_string().contains("restore"), "{err}");
    assert_eq!(
        stored_bytes(&fx),
        before,
        "the failed unlock wrote to the database"
    );
}

#[tokio::test]
async fn a_keychain_entry_of_another_installation_is_refused() {
    let fx = Fixture::keychain().await;
    entry(&fx, 1)
        .set_secret(Key256::random().dangerously_expose())
        .unwrap();
    let before = stored_bytes(&fx);
    let err = fx.try_reopen().await.unwrap_err();
    assert_eq!(err.code(), "wrong_key", "{err}");
    assert_eq!(stored_bytes(&fx), before);
    entry(&fx, 1).delete_credential().unwrap();
}

#[tokio::test]
async fn without_a_session_bus_keychain_init_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let child = child::spawn(
        Task::KeychainInit,
        &home,
        &unique_service(),
        &[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/headmaster-test-bus",
        )],
    );
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = child::result_line(&stdout).expect("the child reports its result");
    assert!(result.starts_with("keychain_unavailable "), "{result}");
    assert!(result.contains("headmaster init --passphrase"), "{result}");
    assert!(!home.join("instance.db").exists());
    assert!(
        !home.exists() || std::fs::read_dir(&home).unwrap().next().is_none(),
        "init left files behind"
    );
}
