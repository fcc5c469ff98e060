//! The JSON forms the core stores and the CLI accepts, rule validation, and descriptions.

use headmaster_policy::{
    default_policy, CmpOp, Compare, CompiledPolicy, Condition, DomainTest, Effect, PathTest,
    PolicyError, Rule, Target, Tier, WorkspacePolicy,
};
use proptest::prelude::*;
use serde_json::json;

#[test]
fn the_default_policy_round_trips_through_json() {
    let p = default_policy(["acme.com", "acme.io"]);
    let text = serde_json::to_string_pretty(&p).unwrap();
    let back: WorkspacePolicy = serde_json::from_str(&text).unwrap();
    assert_eq!(back, p);
    assert!(text.contains("\"outside_own\""), "{text}");
}

#[test]
fn a_rule_in_its_documented_json_form_parses_and_describes_itself() {
    let rule = Rule::from_json(
        r#"{"id": "r3", "target": "email.send",
            "when": [{"recipient_domain": {"like": ["*.ru"]}},
                     {"recipient_count": {"op": "gt", "value": 2}}],
            "effect": {"raise": "critical"}, "note": "bulk mail to .ru"}"#,
    )
    .unwrap();
    assert_eq!(
        rule.target,
        Target::Action {
            tool: "email".into(),
            action: "send".into()
        }
    );
    assert_eq!(
        rule.describe(),
        "r3: on email.send, when a recipient's domain matches *.ru and recipients > 2: \
         raise to critical (bulk mail to .ru)"
    );
    let shell = Rule::from_json(
        r#"{"id": "no-git-push", "target": "shell.exec",
            "when": [{"command": {"programs": ["git"], "args_any": ["push"]}}], "effect": "deny"}"#,
    )
    .unwrap();
    assert_eq!(
        shell.describe(),
        "no-git-push: on shell.exec, when a command runs git with an argument like push: deny"
    );
    assert!(matches!(
        Rule::from_json(r#"{"id": "x", "target": "email.send", "effect": "explode"}"#),
        Err(PolicyError::Syntax(_))
    ));
    assert!(matches!(
        Rule::from_json(r#"{"id": "x", "target": "e mail", "effect": "deny"}"#),
        Err(PolicyError::Syntax(_))
    ));
}

#[test]
fn a_verdict_serialises_for_the_cli_and_ui() {
    let policy = super::enabled_defaults();
    let v = super::decide(&policy, "email.send", json!({"to": "x@example.org"}));
    let value = serde_json::to_value(&v).unwrap();
    assert_eq!(
        value["decision"],
        json!({"kind": "needs_approval", "quorum": 1})
    );
    assert_eq!(value["tier"], json!("high"));
    assert_eq!(value["rules"], json!(["email-outside"]));
    assert_eq!(
        serde_json::from_value::<headmaster_policy::Verdict>(value).unwrap(),
        v
    );
}

#[test]
fn add_rule_validates_against_the_policy() {
    let mut p = default_policy(["acme.com"]);
    let before = p.rules.len();
    let deny = |id: &str, target: &str| Rule {
        id: id.into(),
        target: target.parse().unwrap(),
        when: vec![],
        effect: Effect::Deny,
        note: None,
    };
    p.add_rule(deny("r-new", "http.delete")).unwrap();
    assert_eq!(p.rules.len(), before + 1);
    assert_eq!(
        p.add_rule(deny("r-new", "http.put")),
        Err(PolicyError::DuplicateRule("r-new".into()))
    );
    assert!(matches!(
        p.add_rule(deny("r-x", "ftp.get")),
        Err(PolicyError::UnknownTarget { .. })
    ));
    assert!(matches!(
        p.add_rule(deny("r-y", "group:nope")),
        Err(PolicyError::UnknownTarget { .. })
    ));
    assert_eq!(
        p.add_rule(deny("", "http.put")),
        Err(PolicyError::EmptyRuleId)
    );
    assert_eq!(
        p.add_rule(deny("a b", "http.put")),
        Err(PolicyError::BadRuleId("a b".into()))
    );
    let shell_on_email = Rule::from_json(
        r#"{"id": "s", "target": "email.send", "when": [{"command": {"programs": ["curl"]}}], "effect": "deny"}"#,
    )
    .unwrap();
    assert!(matches!(
        p.add_rule(shell_on_email),
        Err(PolicyError::CommandWithoutShell { .. })
    ));
    assert_eq!(
        p.rules.len(),
        before + 1,
        "refused rules leave the policy unchanged"
    );
    p.remove_rule("r-new").unwrap();
    assert_eq!(p.rules.len(), before);
}

#[test]
fn groups_must_name_known_tools() {
    let mut p = default_policy(["acme.com"]);
    p.groups
        .insert("net".into(), vec!["http".into(), "email.send".into()]);
    assert!(CompiledPolicy::new(&p).is_ok());
    p.groups.insert("bad".into(), vec!["fax".into()]);
    assert!(matches!(
        CompiledPolicy::new(&p),
        Err(PolicyError::UnknownGroupMember { .. })
    ));
}

#[test]
fn bad_action_keys_are_refused() {
    let p: WorkspacePolicy = serde_json::from_value(json!({
        "actions": {"emailsend": {"enabled": true, "tier": "low"}}
    }))
    .unwrap();
    assert_eq!(
        CompiledPolicy::new(&p).unwrap_err(),
        PolicyError::BadActionKey("emailsend".into())
    );
}

fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        Just(Condition::RecipientDomain(DomainTest::OutsideOwn)),
        "[a-z]{1,8}\\.(com|ru|io)"
            .prop_map(|d| Condition::RecipientDomain(DomainTest::In(vec![d]))),
        (0i32..100).prop_map(|n| Condition::RecipientCount(Compare {
            op: CmpOp::Ge,
            value: f64::from(n)
        })),
        "[a-z]{1,6}/".prop_map(|p| Condition::Path(PathTest::Outside(p))),
        any::<bool>().prop_map(Condition::CrossesBoundary),
        "[a-z]{1,6}".prop_map(Condition::Group),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Condition::Not(Box::new(c))),
            proptest::collection::vec(inner.clone(), 1..3).prop_map(Condition::Any),
            proptest::collection::vec(inner, 1..3).prop_map(Condition::All),
        ]
    })
}

proptest! {
    #[test]
    fn rules_round_trip_through_json(
        id in "[a-z][a-z0-9-]{0,10}",
        when in proptest::collection::vec(condition(), 0..4),
        tier in prop_oneof![Just(Tier::Low), Just(Tier::Medium), Just(Tier::High), Just(Tier::Critical)],
        raise in any::<bool>(),
    ) {
        let rule = Rule {
            id,
            target: "email.send".parse().unwrap(),
            when,
            effect: if raise { Effect::Raise(tier) } else { Effect::Deny },
            note: None,
        };
        let text = serde_json::to_string(&rule).unwrap();
        prop_assert_eq!(Rule::from_json(&text).unwrap(), rule);
    }
}
