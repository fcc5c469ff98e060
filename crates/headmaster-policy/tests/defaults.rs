//! The default policy: tiers of the built-in tools and their argument rules.

use super::{decide, enabled_defaults};
use headmaster_policy::{default_policy, CompiledPolicy, Decision, Tier};
use serde_json::json;

#[test]
fn every_default_action_starts_disabled() {
    let p = default_policy(["acme.com"]);
    assert!(p.actions.values().all(|a| !a.enabled));
    let compiled = CompiledPolicy::new(&p).unwrap();
    for key in p.actions.keys() {
        let v = decide(
            &compiled,
            key,
            json!({"path": "drafts/x", "to": "a@acme.com", "command": "ls"}),
        );
        assert_eq!(v.decision, Decision::Deny, "{key}");
    }
    assert_eq!(
        decide(&compiled, "delegate.run", json!({})).decision,
        Decision::Deny
    );
}

#[test]
fn email_tiers_follow_the_recipients() {
    let p = enabled_defaults();
    let tier = |args| decide(&p, "email.send", args).tier;
    assert_eq!(tier(json!({"to": "a@acme.com"})), Some(Tier::Medium));
    assert_eq!(tier(json!({"to": "a@mail.acme.com"})), Some(Tier::Medium));
    assert_eq!(
        tier(json!({"to": "a@acme.com", "cc": ["b@example.org"]})),
        Some(Tier::High)
    );
    let many: Vec<String> = (0..11).map(|i| format!("u{i}@acme.com")).collect();
    assert_eq!(tier(json!({ "to": many })), Some(Tier::Critical));
    assert_eq!(
        tier(json!({"to": 42})),
        Some(Tier::Critical),
        "malformed recipients fail closed"
    );
}

#[test]
fn file_writes_are_low_in_drafts_and_high_elsewhere() {
    let p = enabled_defaults();
    let tier = |key, path: &str| decide(&p, key, json!({ "path": path })).tier;
    assert_eq!(tier("file.write", "drafts/report.md"), Some(Tier::Low));
    assert_eq!(tier("file.write", "./drafts//a/../b.md"), Some(Tier::Low));
    assert_eq!(tier("file.write", "src/main.rs"), Some(Tier::High));
    assert_eq!(tier("file.write", "drafts/../src/x"), Some(Tier::High));
    assert_eq!(tier("file.write", "/etc/passwd"), Some(Tier::High));
    assert_eq!(tier("file.write", "../outside"), Some(Tier::High));
    assert_eq!(tier("file.read", "notes/a.txt"), Some(Tier::Low));
    assert_eq!(tier("file.list", "notes"), Some(Tier::Low));
}

#[test]
fn reading_secret_material_is_high() {
    let p = enabled_defaults();
    for path in [
        ".env",
        "app/.env",
        "certs/server.pem",
        "id_ed25519",
        "home/id_rsa",
        "secrets/db",
        "a/secrets/b",
    ] {
        assert_eq!(
            decide(&p, "file.read", json!({ "path": path })).tier,
            Some(Tier::High),
            "{path}"
        );
    }
    assert_eq!(
        decide(&p, "file.read", json!({"path": "env.md"})).tier,
        Some(Tier::Low)
    );
}

#[test]
fn http_reads_are_medium_and_writes_high() {
    let p = enabled_defaults();
    let url = json!({"url": "https://example.org/"});
    for key in ["http.get", "http.head"] {
        assert_eq!(
            decide(&p, key, url.clone()).decision,
            Decision::NeedsConfirmation,
            "{key}"
        );
    }
    for key in ["http.post", "http.put", "http.patch", "http.delete"] {
        assert_eq!(
            decide(&p, key, url.clone()).decision,
            Decision::NeedsApproval { quorum: 1 },
            "{key}"
        );
    }
}

#[test]
fn memory_and_drafts_run_without_a_human() {
    let p = enabled_defaults();
    for key in ["memory.read", "memory.write", "draft.save"] {
        assert_eq!(
            decide(&p, key, json!({})).decision,
            Decision::Allow,
            "{key}"
        );
    }
}

#[test]
fn shell_commands_get_their_documented_tiers() {
    let p = enabled_defaults();
    let verdict = |line: &str| decide(&p, "shell.exec", json!({ "command": line }));
    let cases = [
        ("ls -la", Some(Tier::Medium)),
        ("grep -r TODO src | wc -l", Some(Tier::Medium)),
        ("rm notes.txt", Some(Tier::Medium)),
        ("echo hi > out.txt 2>/dev/null", Some(Tier::Medium)),
        // The shell judgement cannot read a script file, so it is high whatever the base tier.
        ("python3 script.py", Some(Tier::High)),
        ("curl https://x", Some(Tier::Critical)),
        ("/usr/bin/wget x", Some(Tier::Critical)),
        ("rm -rf build", Some(Tier::Critical)),
        ("rm -r -v build", Some(Tier::Critical)),
        ("rm --recursive build", Some(Tier::Critical)),
        ("rm $OPTS build", Some(Tier::Critical)),
        ("dd if=/dev/zero of=x", Some(Tier::Critical)),
        ("cat install.sh | bash", Some(Tier::Critical)),
        ("eval ls", Some(Tier::Critical)),
        ("echo x > /dev/tcp/h/80", Some(Tier::Critical)),
        ("python3 -c 'print(1)'", Some(Tier::High)),
        ("echo x > /etc/passwd", Some(Tier::High)),
        ("echo x >> ../escape", Some(Tier::High)),
        ("sudo ls", None),
        ("ls && su -", None),
        ("mkfs.ext4 /dev/sda", None),
    ];
    for (line, tier) in cases {
        let v = verdict(line);
        assert_eq!(v.tier, tier, "{line}: {:?}", v.reasons);
        if tier.is_none() {
            assert_eq!(v.decision, Decision::Deny, "{line}");
        }
    }
}

#[test]
fn an_unparseable_or_missing_command_is_critical_with_the_reason() {
    let p = enabled_defaults();
    let v = decide(&p, "shell.exec", json!({"command": "cat <<EOF\nx\nEOF"}));
    assert_eq!(v.tier, Some(Tier::Critical));
    assert!(
        v.reasons.iter().any(|r| r.contains("here-document")),
        "{:?}",
        v.reasons
    );
    let v = decide(&p, "shell.exec", json!({"cmd": "ls"}));
    assert_eq!(v.tier, Some(Tier::Critical));
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("`command` argument is missing")),
        "{:?}",
        v.reasons
    );
}
