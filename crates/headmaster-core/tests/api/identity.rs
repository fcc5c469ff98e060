//! Sign-in, lockout and its expiry, session expiry and sign-out, on an injected clock.

use headmaster_core::Error;

use crate::common::{secret, source, Fixture, ADMIN, PASSWORD};

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let fx = Fixture::new().await;
    for attempt in 1..=4 {
        let err = fx
            .instance
            .sign_in(ADMIN, &secret("wrong password!"), source())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::AuthFailed { threshold: 5, .. }),
            "attempt {attempt}: {err:?}"
        );
        assert!(
            err.to_string().contains("locked for 15 minutes"),
            "the default lockout: {err}"
        );
    }
    let err = fx
        .instance
        .sign_in(ADMIN, &secret("wrong password!"), source())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AccountLocked { .. }), "{err:?}");
    assert_eq!(err.code(), "account_locked");

    // Even the right password is refused while locked.
    let err = fx
        .instance
        .sign_in(ADMIN, &secret(PASSWORD), source())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AccountLocked { .. }), "{err:?}");

    fx.clock.advance_ms(15 * MINUTE - 1);
    assert!(matches!(
        fx.instance
            .sign_in(ADMIN, &secret(PASSWORD), source())
            .await,
        Err(Error::AccountLocked { .. })
    ));
    fx.clock.advance_ms(1);
    let signed = fx
        .instance
        .sign_in(ADMIN, &secret(PASSWORD), source())
        .await
        .unwrap();
    assert_eq!(signed.session.username, ADMIN);

    let actions = fx.instance_actions().await;
    let failed = actions
        .iter()
        .filter(|(a, _)| a == "auth.sign_in_failed")
        .count();
    assert_eq!(
        failed,
        5 + 2,
        "five wrong passwords and two refusals while locked"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|(a, _)| a == "auth.locked_out")
            .count(),
        1
    );
    assert_eq!(
        actions.last().unwrap(),
        &("auth.sign_in".to_string(), "allowed".to_string())
    );
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let fx = Fixture::new().await;
    for _ in 0..4 {
        fx.instance
            .sign_in(ADMIN, &secret("wrong password!"), source())
            .await
            .unwrap_err();
    }
    fx.instance
        .sign_in(ADMIN, &secret(PASSWORD), source())
        .await
        .unwrap();
    for _ in 0..4 {
        let err = fx
            .instance
            .sign_in(ADMIN, &secret("wrong password!"), source())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AuthFailed { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn unknown_users_get_the_same_answer_as_wrong_passwords() {
    let fx = Fixture::new().await;
    let unknown = fx
        .instance
        .sign_in("mallory", &secret(PASSWORD), source())
        .await
        .unwrap_err();
    let wrong = fx
        .instance
        .sign_in(ADMIN, &secret("wrong password!"), source())
        .await
        .unwrap_err();
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert_eq!(unknown.code(), "auth_failed");
    let invalid_name = fx
        .instance
        .sign_in("no spaces allowed", &secret(PASSWORD), source())
        .await
        .unwrap_err();
    assert_eq!(invalid_name.code(), "auth_failed");
    let actions = fx.instance_actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|(a, o)| a == "auth.sign_in_failed" && o == "failed")
            .count(),
        3
    );
}

#[tokio::test]
async fn sessions_expire_after_their_lifetime() {
    let fx = Fixture::new().await;
    let session = fx.admin().await;
    assert_eq!(fx.instance.whoami(&session).await.unwrap().username, ADMIN);
    fx.clock.advance_ms(12 * 60 * MINUTE - 1);
    assert!(fx.instance.whoami(&session).await.is_ok());
    fx.clock.advance_ms(1);
    let err = fx.instance.whoami(&session).await.unwrap_err();
    assert!(matches!(err, Error::SessionExpired), "{err:?}");
    // Recorded once, however often the expired session is used afterwards.
    fx.instance.whoami(&session).await.unwrap_err();
    let expired = fx
        .instance_actions()
        .await
        .into_iter()
        .filter(|(a, _)| a == "auth.session_expired")
        .count();
    assert_eq!(expired, 1);
}

#[tokio::test]
async fn sign_out_ends_the_session_and_its_token() {
    let fx = Fixture::new().await;
    let signed = fx
        .instance
        .sign_in(ADMIN, &secret(PASSWORD), source())
        .await
        .unwrap();
    let resumed = fx.instance.resume(&signed.token, source()).await.unwrap();
    assert_eq!(resumed.user_id, signed.session.user_id);
    fx.instance.sign_out(&signed.session).await.unwrap();
    assert!(matches!(
        fx.instance.whoami(&signed.session).await,
        Err(Error::SessionExpired)
    ));
    assert!(matches!(
        fx.instance.resume(&signed.token, source()).await,
        Err(Error::SessionExpired)
    ));
    assert!(fx
        .instance_actions()
        .await
        .iter()
        .any(|(a, _)| a == "auth.sign_out"));
}

#[tokio::test]
async fn whoami_reports_the_first_workspace_with_the_admin_role() {
    let fx = Fixture::new().await;
    let session = fx.admin().await;
    let me = fx.instance.whoami(&session).await.unwrap();
    assert_eq!(me.org_name, "Acme");
    assert_eq!(me.org_role, "Admin");
    assert_eq!(me.workspaces.len(), 1);
    assert_eq!(me.workspaces[0].name, "Acme");
    assert_eq!(me.workspaces[0].role, "Admin");
}

#[tokio::test]
async fn reopening_with_the_wrong_passphrase_fails_cleanly() {
    let fx = Fixture::new().await;
    let err = headmaster_core::Instance::open(
        headmaster_core::store::Layout::new(fx.dir.path()),
        headmaster_core::Unlock {
            passphrase: Some(secret("not the passphrase")),
        },
        crate::common::env(&fx.clock),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase");
    let again = fx.reopen().await;
    assert_eq!(again.org_name().await.unwrap(), "Acme");
}
