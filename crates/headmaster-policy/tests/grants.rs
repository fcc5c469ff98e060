//! Standing grants: lifetime limits, matching, and what they may never override.

use super::enabled_defaults;
use headmaster_policy::{
    ArgPattern, Decision, Grant, GrantError, GrantSpec, Principal, ProposedCall, Role,
    MAX_GRANT_LIFETIME_MS,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const NOW: i64 = 1_800_000_000_000;

fn spec(action: &str, args: BTreeMap<String, ArgPattern>, expires_at: i64) -> GrantSpec {
    let (tool, action) = action.split_once('.').unwrap();
    GrantSpec {
        id: "g-1".into(),
        tool: tool.into(),
        action: action.into(),
        principal: "agent-1".into(),
        args,
        expires_at,
    }
}

fn to_acme() -> BTreeMap<String, ArgPattern> {
    BTreeMap::from([("to".to_owned(), ArgPattern::Like("*@partner.io".into()))])
}

fn call<'a>(key: &'a str, args: &'a Value, who: &'a Principal) -> ProposedCall<'a> {
    let (tool, action) = key.split_once('.').unwrap();
    ProposedCall::new(tool, action, args, who)
}

#[test]
fn a_grant_may_last_at_most_24_hours() {
    assert!(Grant::new(
        spec("email.send", to_acme(), NOW + MAX_GRANT_LIFETIME_MS),
        NOW
    )
    .is_ok());
    assert_eq!(
        Grant::new(
            spec("email.send", to_acme(), NOW + MAX_GRANT_LIFETIME_MS + 1),
            NOW
        ),
        Err(GrantError::TooLong {
            requested_ms: MAX_GRANT_LIFETIME_MS + 1
        })
    );
    assert_eq!(
        Grant::new(spec("email.send", to_acme(), NOW), NOW),
        Err(GrantError::AlreadyExpired)
    );
    let mut empty = spec("email.send", to_acme(), NOW + 1000);
    empty.principal = " ".into();
    assert_eq!(Grant::new(empty, NOW), Err(GrantError::Empty("principal")));
}

#[test]
fn a_grant_turns_high_into_allow_and_is_named() {
    let policy = enabled_defaults();
    let grant = Grant::new(spec("email.send", to_acme(), NOW + 3_600_000), NOW).unwrap();
    let agent = Principal::agent("agent-1", Role::Operator);
    let args = json!({"to": ["a@partner.io", "b@partner.io"], "body": "x"});
    let plain = policy.decide(&call("email.send", &args, &agent));
    assert_eq!(plain.decision, Decision::NeedsApproval { quorum: 1 });
    let v = policy.decide_with_grants(
        &call("email.send", &args, &agent),
        std::slice::from_ref(&grant),
        NOW + 1,
    );
    assert_eq!(v.decision, Decision::Allow);
    assert_eq!(v.grant.as_deref(), Some("g-1"));
    assert!(
        v.reasons.last().unwrap().contains("standing grant g-1"),
        "{:?}",
        v.reasons
    );

    // Another principal, another recipient or another action is not covered.
    let other = Principal::agent("agent-2", Role::Operator);
    assert!(!grant.matches(&call("email.send", &args, &other), NOW + 1));
    let elsewhere = json!({"to": ["a@partner.io", "b@evil.example"]});
    assert!(!grant.matches(&call("email.send", &elsewhere, &agent), NOW + 1));
    assert!(!grant.matches(&call("email.send", &json!({}), &agent), NOW + 1));
    assert!(!grant.matches(&call("http.post", &args, &agent), NOW + 1));
}

#[test]
fn revoked_and_expired_grants_are_refused() {
    let policy = enabled_defaults();
    let agent = Principal::agent("agent-1", Role::Operator);
    let args = json!({"to": "a@partner.io"});
    let mut grant = Grant::new(spec("email.send", to_acme(), NOW + 1000), NOW).unwrap();
    let at = |g: &Grant, t| {
        policy.decide_with_grants(
            &call("email.send", &args, &agent),
            std::slice::from_ref(g),
            t,
        )
    };
    assert_eq!(at(&grant, NOW + 999).decision, Decision::Allow);
    assert_eq!(
        at(&grant, NOW + 1000).decision,
        Decision::NeedsApproval { quorum: 1 }
    );
    assert_eq!(
        at(&grant, NOW - 1).decision,
        Decision::NeedsApproval { quorum: 1 }
    );
    grant.revoke();
    let v = at(&grant, NOW + 1);
    assert_eq!(v.decision, Decision::NeedsApproval { quorum: 1 });
    assert_eq!(v.grant, None);
}

#[test]
fn a_tampered_stored_grant_beyond_24_hours_never_matches() {
    let grant = Grant::new(spec("email.send", BTreeMap::new(), NOW + 1000), NOW).unwrap();
    let mut stored = serde_json::to_value(&grant).unwrap();
    stored["expires_at"] = json!(NOW + 10 * MAX_GRANT_LIFETIME_MS);
    let forged: Grant = serde_json::from_value(stored).unwrap();
    let agent = Principal::agent("agent-1", Role::Operator);
    let args = json!({"to": "a@partner.io"});
    assert!(grant.matches(&call("email.send", &args, &agent), NOW + 1));
    assert!(!forged.matches(&call("email.send", &args, &agent), NOW + 1));
}

#[test]
fn grants_never_override_deny_or_critical() {
    let policy = enabled_defaults();
    let agent = Principal::agent("agent-1", Role::Operator);
    let any_command = Grant::new(spec("shell.exec", BTreeMap::new(), NOW + 1000), NOW).unwrap();
    for (line, expected) in [
        ("sudo ls", Decision::Deny),
        ("curl x", Decision::NeedsApproval { quorum: 2 }),
    ] {
        let args = json!({ "command": line });
        let v = policy.decide_with_grants(
            &call("shell.exec", &args, &agent),
            std::slice::from_ref(&any_command),
            NOW + 1,
        );
        assert_eq!(v.decision, expected, "{line}");
        assert_eq!(v.grant, None);
    }
    let args = json!({"command": "curl x"});
    let v = policy.decide_with_grants(
        &call("shell.exec", &args, &agent),
        std::slice::from_ref(&any_command),
        NOW + 1,
    );
    assert!(
        v.reasons
            .last()
            .unwrap()
            .contains("never apply to critical"),
        "{:?}",
        v.reasons
    );
    let medium = json!({"command": "ls"});
    let v = policy.decide_with_grants(
        &call("shell.exec", &medium, &agent),
        &[any_command],
        NOW + 1,
    );
    assert_eq!(v.decision, Decision::Allow);
}

#[test]
fn exact_patterns_compare_json_values() {
    let args = BTreeMap::from([("path".to_owned(), ArgPattern::Exact(json!("reports/q3.md")))]);
    let grant = Grant::new(spec("file.write", args, NOW + 1000), NOW).unwrap();
    let agent = Principal::agent("agent-1", Role::Operator);
    assert!(grant.matches(
        &call(
            "file.write",
            &json!({"path": "reports/q3.md", "content": "x"}),
            &agent
        ),
        NOW
    ));
    assert!(!grant.matches(
        &call("file.write", &json!({"path": "reports/q4.md"}), &agent),
        NOW
    ));
}
