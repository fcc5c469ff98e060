//! What is actually on disk: values carrying a marker are written through every sealed path
//! (organisation, workspace, user and role names, passwords, the passphrase, a failed sign-in's
//! username, the CLI's session token; a workspace credential and memory entry), then every
//! file of the data directory — databases, WALs, shared-memory files, the session file — is
//! scanned for the marker and for every key.

use std::path::{Path, PathBuf};

use headmaster_core::access::Role;
use headmaster_core::vault::keys::Key256;
use headmaster_core::vault::protect::unwrap;
use headmaster_core::vault::{no_progress, KeyScope, Protection, RETIRE_GRACE_MS};

use crate::common::{files_under, secret, source, Fixture, Setup};

/// Appears (in some letter case) in every value written; must never appear in a file.
const MARKER: &str = "zqxmarker";

/// Where `needle` occurs in clear in any file under `home`.
fn occurrences(home: &Path, needle: &[u8], ignore_case: bool) -> Vec<PathBuf> {
    files_under(home)
        .into_iter()
        .filter(|file| {
            let mut bytes = std::fs::read(file).unwrap();
            if ignore_case {
                bytes.make_ascii_lowercase();
            }
            bytes.windows(needle.len()).any(|w| w == needle)
        })
        .collect()
}

/// The printable text around each case-insensitive occurrence of `needle` in `file`.
fn surroundings(file: &Path, needle: &[u8]) -> Vec<String> {
    let bytes = std::fs::read(file).unwrap();
    let lower = bytes.to_ascii_lowercase();
    lower
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(at, _)| {
            bytes[at.saturating_sub(60)..(at + needle.len() + 30).min(bytes.len())]
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect()
        })
        .collect()
}

/// Asserts that the marker appears nowhere under `home`, showing where it does.
fn assert_no_marker(home: &Path) {
    let found = occurrences(home, MARKER.as_bytes(), true);
    let context: Vec<Vec<String>> = found
        .iter()
        .map(|f| surroundings(f, MARKER.as_bytes()))
        .collect();
    assert!(
        found.is_empty(),
        "marker in clear in {found:?}: {context:#?}"
    );
}

/// The KEK and every key it wraps, unwrapped, with a label for the failure message.
async fn every_key(fx: &Fixture) -> Vec<(String, Key256)> {
    let (_, kek) = fx.kek().await;
    let instance = fx.instance_id();
    let wrapped: Vec<(String, String, i64, Vec<u8>)> =
        sqlx::query_as("SELECT scope, purpose, version, wrapped FROM wrapped_keys")
            .fetch_all(&fx.raw().await)
            .await
            .unwrap();
    let mut keys: Vec<(String, Key256)> = wrapped
        .into_iter()
        .map(|(scope, purpose, version, wrapped)| {
            let label = format!("{scope}/{purpose}/{version}");
            let key = unwrap(&kek, &instance, &label, &wrapped).unwrap();
            (label, key)
        })
        .collect();
    keys.push(("KEK".into(), kek));
    keys
}

/// Writes a marked value through every sealed path there is, in the instance and workspaces.
async fn write_marked_values(fx: &Fixture) -> String {
    let admin = fx
        .instance
        .sign_in(
            &fx.admin_name,
            &secret("ZQXMARKER admin password"),
            source(),
        )
        .await
        .unwrap()
        .session;
    let created = fx
        .instance
        .create_workspace(&admin, "ZQXMARKER workspace")
        .await
        .unwrap();
    let workspace = created.id.parse().unwrap();
    fx.instance
        .rename_workspace(&admin, workspace, "Renamed ZQXMARKER workspace")
        .await
        .unwrap();
    fx.instance
        .create_role(&admin, "ZQXMARKER role", &["audit.read".into()])
        .await
        .unwrap();
    fx.instance
        .add_user(
            &admin,
            "zqxmarker-user",
            &secret("ZQXMARKER user password"),
            Role::Operator,
        )
        .await
        .unwrap();
    fx.instance
        .add_member(&admin, workspace, "zqxmarker-user", "ZQXMARKER role")
        .await
        .unwrap();
    // Failed sign-ins record the attempted username; the password is never stored.
    for (user, password) in [
        ("zqxmarker-nobody", "some password here"),
        ("zqxmarker-user", "wrong ZQXMARKER password"),
    ] {
        fx.instance
            .sign_in(user, &secret(password), source())
            .await
            .unwrap_err();
    }
    let signed = fx
        .instance
        .sign_in(
            "zqxmarker-user",
            &secret("ZQXMARKER user password"),
            source(),
        )
        .await
        .unwrap();
    fx.instance.store_cli_token(&signed.token).await.unwrap();
    fx.instance.whoami(&signed.session).await.unwrap();
    signed.token.dangerously_expose().to_string()
}

async fn scan(fx: &Fixture) {
    let token = write_marked_values(fx).await;
    let files: Vec<String> = files_under(fx.home())
        .iter()
        .map(|f| f.strip_prefix(fx.home()).unwrap().display().to_string())
        .collect();
    for expected in [
        "instance.db",
        "instance.db-wal",
        "instance.db-shm",
        "cli-session",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} not scanned: {files:?}"
        );
    }
    assert!(
        files
            .iter()
            .filter(|f| f.starts_with("workspaces/") && f.ends_with(".db-wal"))
            .count()
            >= 2,
        "workspace databases not scanned: {files:?}"
    );
    // The scan sees clear text where there is some: action names are stored in clear.
    assert!(!occurrences(fx.home(), b"auth.sign_in_failed", false).is_empty());

    assert_no_marker(fx.home());
    for (what, needle) in [
        ("session token", token.as_bytes().to_vec()),
        ("password hash", b"$argon2id$".to_vec()),
        ("passphrase", fx.passphrase.as_bytes().to_vec()),
    ] {
        let found = occurrences(fx.home(), &needle, false);
        assert!(found.is_empty(), "{what} in clear in {found:?}");
    }
    let keys = every_key(fx).await;
    assert!(
        keys.len() >= 12,
        "too few keys found to scan for: {}",
        keys.len()
    );
    for (label, key) in &keys {
        let raw = key.dangerously_expose();
        for needle in [raw.to_vec(), hex::encode(raw).into_bytes()] {
            let found = occurrences(fx.home(), &needle, false);
            assert!(found.is_empty(), "key {label} in {found:?}");
        }
    }
}

#[tokio::test]
async fn passphrase_mode_stores_no_marker_and_no_key_in_any_file() {
    let fx = Fixture::with(Setup {
        org_name: "ZQXMARKER Org".into(),
        admin: "zqxmarker-admin".into(),
        admin_password: "ZQXMARKER admin password".into(),
        passphrase: "ZQXMARKER passphrase".into(),
        ..Setup::default()
    })
    .await;
    scan(&fx).await;
}

#[tokio::test]
async fn keychain_mode_stores_no_marker_and_no_key_in_any_file() {
    let fx = Fixture::with(Setup {
        org_name: "ZQXMARKER Org".into(),
        admin: "zqxmarker-admin".into(),
        admin_password: "ZQXMARKER admin password".into(),
        protection: Protection::Keychain,
        ..Setup::default()
    })
    .await;
    scan(&fx).await;
}

#[tokio::test]
async fn workspace_credentials_and_memory_leave_no_marker_in_any_file() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let workspace = fx.first_workspace(&admin).await;
    fx.instance
        .set_credential(
            &admin,
            workspace,
            "zqxmarker-api",
            "ZQXMARKER credential value",
        )
        .await
        .unwrap();
    fx.instance
        .write_memory(
            &admin,
            workspace,
            "ZQXMARKER key",
            "ZQXMARKER remembered value",
        )
        .await
        .unwrap();
    // Re-encrypted rows are sealed again, and nothing is left in clear on the way.
    let report = fx
        .instance
        .rotate_keys(&admin, KeyScope::Workspace(workspace), &no_progress)
        .await
        .unwrap();
    assert!(report.rows_reencrypted >= 4, "{report:?}");
    assert_eq!(
        fx.instance
            .list_memory(&admin, workspace)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_no_marker(fx.home());
}

#[tokio::test]
async fn destroyed_keys_leave_no_copy_in_any_file() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let doomed = fx
        .instance
        .create_workspace(&admin, "Doomed")
        .await
        .unwrap();
    let pool = fx.raw().await;
    let wrapped = |scope: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT wrapped FROM wrapped_keys WHERE scope = ? AND purpose = 'data' AND version = 1",
            )
            .bind(scope)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let workspace_key = wrapped(doomed.id.clone()).await;
    let instance_key = wrapped("instance".into()).await;
    assert!(!occurrences(fx.home(), &workspace_key, false).is_empty());

    fx.instance
        .delete_workspace(&admin, doomed.id.parse().unwrap())
        .await
        .unwrap();
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
    for (what, key) in [
        ("deleted workspace's key", workspace_key),
        ("retired instance key", instance_key),
    ] {
        let found = occurrences(fx.home(), &key, false);
        assert!(found.is_empty(), "{what} still in {found:?}");
    }
}
