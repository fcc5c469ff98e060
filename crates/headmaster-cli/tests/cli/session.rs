//! init → login → whoami, and every bad input of the foundation.

use crate::harness::{as_user, Cli, PASSPHRASE, PASSWORD};

#[test]
fn init_login_whoami_logout() {
    let cli = Cli::new();
    cli.init().ok();
    let login = cli.run(
        &["login", "--user", "alice"],
        &[
            ("HEADMASTER_PASSWORD", PASSWORD),
            ("HEADMASTER_PASSPHRASE", PASSPHRASE),
        ],
    );
    login.ok();
    assert!(
        login.stdout.contains("Signed in as alice"),
        "{}",
        login.stdout
    );

    // The stored session works without a password, and is sealed (no token in clear).
    let me = cli.run(
        &["--json", "whoami"],
        &[("HEADMASTER_PASSPHRASE", PASSPHRASE)],
    );
    let me = me.ok().json();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["org_role"], "Admin");
    assert_eq!(me["workspaces"][0]["name"], "Acme");
    assert_eq!(me["workspaces"][0]["role"], "Admin");
    let stored = std::fs::read(cli.home.join("cli-session")).unwrap();
    assert!(
        !String::from_utf8_lossy(&stored).contains("hm_"),
        "token stored in clear"
    );

    cli.run(&["logout"], &[("HEADMASTER_PASSPHRASE", PASSPHRASE)])
        .ok();
    let after = cli.run(
        &["--json", "whoami"],
        &[("HEADMASTER_PASSPHRASE", PASSPHRASE)],
    );
    after.failed();
    assert_eq!(after.error_json()["error"]["code"], "not_signed_in");
}

#[test]
fn scripts_authenticate_with_environment_variables() {
    let cli = Cli::new();
    cli.init().ok();
    let me = cli
        .run(&["--json", "whoami"], &as_user("alice", PASSWORD))
        .ok()
        .json();
    assert_eq!(me["username"], "alice");
}

#[test]
fn wrong_password_and_unknown_user_fail_with_one_line() {
    let cli = Cli::new();
    cli.init().ok();
    for env in [
        as_user("alice", "wrong password!"),
        as_user("mallory", PASSWORD),
    ] {
        let run = cli.run(&["whoami"], &env);
        run.failed();
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("unknown user or wrong password"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn a_locked_account_is_refused_with_its_unlock_time() {
    let cli = Cli::new();
    cli.init().ok();
    for _ in 0..5 {
        cli.run(&["whoami"], &as_user("alice", "wrong password!"))
            .failed();
    }
    let run = cli.run(&["--json", "whoami"], &as_user("alice", PASSWORD));
    run.failed();
    let error = run.error_json();
    assert_eq!(error["error"]["code"], "account_locked");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("try again after"));
}

#[test]
fn weak_password_at_init_creates_nothing() {
    let cli = Cli::new();
    let run = cli.run(
        &["init", "--org", "Acme", "--admin", "alice", "--passphrase"],
        &[
            ("HEADMASTER_PASSWORD", "short"),
            ("HEADMASTER_PASSPHRASE", PASSPHRASE),
        ],
    );
    run.failed();
    assert!(
        run.stderr.contains("at least 12 characters"),
        "{}",
        run.stderr
    );
    assert!(!cli.home.join("instance.db").exists());
    let bad_name = cli.run(
        &[
            "init",
            "--org",
            "Acme",
            "--admin",
            "Not Valid",
            "--passphrase",
        ],
        &[
            ("HEADMASTER_PASSWORD", PASSWORD),
            ("HEADMASTER_PASSPHRASE", PASSPHRASE),
        ],
    );
    bad_name.failed();
    assert!(
        bad_name.stderr.contains("invalid username"),
        "{}",
        bad_name.stderr
    );
    assert!(!cli.home.join("instance.db").exists());
    // Passphrase mode with a short passphrase: refused before anything is written.
    let weak = cli.run(
        &["init", "--org", "Acme", "--admin", "alice", "--passphrase"],
        &[
            ("HEADMASTER_PASSWORD", PASSWORD),
            ("HEADMASTER_PASSPHRASE", "short"),
        ],
    );
    weak.failed();
    assert!(
        weak.stderr.contains("passphrase must have at least 12"),
        "{}",
        weak.stderr
    );
    assert!(!cli.home.join("instance.db").exists());
}

#[test]
fn init_on_an_existing_instance_changes_nothing() {
    let cli = Cli::new();
    cli.init().ok();
    let again = cli.run(
        &[
            "--json",
            "init",
            "--org",
            "Other",
            "--admin",
            "bob",
            "--passphrase",
        ],
        &[
            ("HEADMASTER_PASSWORD", PASSWORD),
            ("HEADMASTER_PASSPHRASE", "another passphrase"),
        ],
    );
    again.failed();
    assert_eq!(again.error_json()["error"]["code"], "already_initialized");
    let me = cli
        .run(&["--json", "whoami"], &as_user("alice", PASSWORD))
        .ok()
        .json();
    assert_eq!(me["org_name"], "Acme");
    cli.run(&["whoami"], &as_user("bob", PASSWORD)).failed();
}

#[test]
fn a_corrupt_data_dir_is_reported_not_overwritten() {
    let cli = Cli::new();
    std::fs::create_dir_all(&cli.home).unwrap();
    let garbage =
        b"this is not a sqlite database, it is a text file that got here somehow".repeat(100);
    std::fs::write(cli.home.join("instance.db"), &garbage).unwrap();
    let run = cli.run(&["whoami"], &as_user("alice", PASSWORD));
    run.failed();
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("instance.db"), "{}", run.stderr);
    let init = cli.init();
    init.failed();
    assert_eq!(
        std::fs::read(cli.home.join("instance.db")).unwrap(),
        garbage,
        "file was modified"
    );
}

#[test]
fn a_home_that_is_not_a_directory_is_reported() {
    let cli = Cli::new();
    std::fs::create_dir_all(cli.home.parent().unwrap()).unwrap();
    std::fs::write(&cli.home, b"a file").unwrap();
    let run = cli.run(&["--json", "whoami"], &as_user("alice", PASSWORD));
    run.failed();
    let message = run.error_json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("is not a directory"), "{message}");
}

#[test]
fn commands_before_init_say_how_to_start() {
    let cli = Cli::new();
    let run = cli.run(&["--json", "whoami"], &as_user("alice", PASSWORD));
    run.failed();
    assert_eq!(run.error_json()["error"]["code"], "not_initialized");
}

#[test]
fn a_wrong_passphrase_is_refused() {
    let cli = Cli::new();
    cli.init().ok();
    let run = cli.run(
        &["--json", "whoami"],
        &[
            ("HEADMASTER_USER", "alice"),
            ("HEADMASTER_PASSWORD", PASSWORD),
            ("HEADMASTER_PASSPHRASE", "wrong passphrase!"),
        ],
    );
    run.failed();
    assert_eq!(run.error_json()["error"]["code"], "wrong_passphrase");
}
