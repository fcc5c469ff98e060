//! The tier table, deny-by-default, the boundary floor, lowering, permits and fail-closed
//! evaluation, on small hand-written policies.

use super::{compile_json, decide, decide_as};
use headmaster_policy::{Decision, Principal, Role, Tier};
use serde_json::json;

fn one_action(
    tier: &str,
    crosses: bool,
    rules: serde_json::Value,
) -> headmaster_policy::CompiledPolicy {
    compile_json(json!({
        "own_domains": ["acme.com"],
        "actions": {
            "t.a": {"enabled": true, "tier": tier, "crosses_boundary": crosses},
            "t.off": {"enabled": false, "tier": "low"}
        },
        "rules": rules
    }))
}

#[test]
fn each_tier_maps_to_its_decision() {
    for (tier, decision) in [
        ("low", Decision::Allow),
        ("medium", Decision::NeedsConfirmation),
        ("high", Decision::NeedsApproval { quorum: 1 }),
        ("critical", Decision::NeedsApproval { quorum: 2 }),
    ] {
        let v = decide(&one_action(tier, false, json!([])), "t.a", json!({}));
        assert_eq!(v.decision, decision, "{tier}: {:?}", v.reasons);
        assert_eq!(v.tier.unwrap().as_str(), tier);
    }
}

#[test]
fn disabled_and_unknown_actions_are_denied_with_a_fix() {
    let p = one_action("low", false, json!([]));
    let v = decide(&p, "t.off", json!({}));
    assert_eq!(v.decision, Decision::Deny);
    assert_eq!(v.tier, None);
    assert!(
        v.reasons[0].contains("tool t.off is not enabled")
            && v.reasons[0].contains("`headmaster tool enable t.off`"),
        "{:?}",
        v.reasons
    );
    assert_eq!(decide(&p, "t.nope", json!({})).decision, Decision::Deny);
    let v = decide(&p, "other.a", json!({}));
    assert_eq!(v.decision, Decision::Deny);
    assert!(
        v.reasons[0].contains("tool other is not available"),
        "{:?}",
        v.reasons
    );
}

#[test]
fn a_crossing_action_is_never_below_medium_even_when_set_low() {
    let v = decide(&one_action("low", true, json!([])), "t.a", json!({}));
    assert_eq!(v.decision, Decision::NeedsConfirmation);
    assert!(
        v.reasons.iter().any(|r| r.contains("never below medium")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn a_call_flagged_as_crossing_is_floored_too() {
    let p = one_action("low", false, json!([]));
    let args = json!({});
    let principal = Principal::agent("a", Role::Operator);
    let mut call = headmaster_policy::ProposedCall::new("t", "a", &args, &principal);
    assert_eq!(p.assess(&call).decision, Decision::Allow);
    call.crosses_boundary = true;
    assert_eq!(p.assess(&call).decision, Decision::NeedsConfirmation);
}

#[test]
fn lowering_applies_inside_the_boundary_only() {
    let rules = json!([{"id": "l1", "target": "t.a", "when": [{"flag": {"field": "safe", "value": true}}], "effect": {"lower": "low"}}]);
    let inside = one_action("high", false, rules.clone());
    assert_eq!(
        decide(&inside, "t.a", json!({"safe": true})).decision,
        Decision::Allow
    );
    assert_eq!(
        decide(&inside, "t.a", json!({"safe": false})).decision,
        Decision::NeedsApproval { quorum: 1 }
    );
    // Lowering an always-crossing action is refused when the policy is compiled …
    let crossing: headmaster_policy::WorkspacePolicy = serde_json::from_value(json!({
        "actions": {"t.a": {"enabled": true, "tier": "high", "crosses_boundary": true}},
        "rules": rules
    }))
    .unwrap();
    assert!(matches!(
        headmaster_policy::CompiledPolicy::new(&crossing),
        Err(headmaster_policy::PolicyError::LowerOnCrossing { .. })
    ));
    // … and ignored, with a reason, when only this call crosses.
    let args = json!({"safe": true});
    let principal = Principal::agent("a", Role::Operator);
    let mut call = headmaster_policy::ProposedCall::new("t", "a", &args, &principal);
    call.crosses_boundary = true;
    let v = inside.decide(&call);
    assert_eq!(v.decision, Decision::NeedsApproval { quorum: 1 });
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("lowering is not honoured")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn the_strictest_effect_wins_whatever_the_order() {
    let rules = json!([
        {"id": "d", "target": "t", "when": [{"number": {"field": "n", "op": "gt", "value": 100}}], "effect": "deny"},
        {"id": "c", "target": "t.a", "when": [{"number": {"field": "n", "op": "gt", "value": 10}}], "effect": {"raise": "critical"}},
        {"id": "h", "target": "*", "effect": {"raise": "high"}},
        {"id": "l", "target": "t.a", "effect": {"lower": "low"}}
    ]);
    let p = one_action("medium", false, rules);
    let v = decide(&p, "t.a", json!({"n": 1}));
    assert_eq!(v.tier, Some(Tier::High), "{:?}", v.reasons);
    assert_eq!(v.rules, ["h", "l"]);
    assert!(v.reasons.last().unwrap().contains("strictest effect wins"));
    assert_eq!(
        decide(&p, "t.a", json!({"n": 50})).tier,
        Some(Tier::Critical)
    );
    let v = decide(&p, "t.a", json!({"n": 500}));
    assert_eq!(v.decision, Decision::Deny);
    assert_eq!(v.rules, ["d", "c", "h", "l"], "every applied rule is named");
}

#[test]
fn missing_or_malformed_arguments_fail_closed() {
    let rules = json!([
        {"id": "r", "target": "t.a", "when": [{"number": {"field": "amount", "op": "gt", "value": 500}}], "effect": {"raise": "critical"}},
        {"id": "l", "target": "t.a", "when": [{"text": {"field": "kind", "test": {"in": ["note"]}}}], "effect": {"lower": "low"}}
    ]);
    let p = one_action("medium", false, rules);
    assert_eq!(
        decide(&p, "t.a", json!({"amount": 5})).tier,
        Some(Tier::Medium)
    );
    let v = decide(&p, "t.a", json!({"amount": "lots"}));
    assert_eq!(v.tier, Some(Tier::Critical));
    assert!(
        v.reasons.iter().any(|r| r.contains("fail closed")),
        "{:?}",
        v.reasons
    );
    assert_eq!(decide(&p, "t.a", json!({})).tier, Some(Tier::Critical));
    // A lowering rule needs a definite match: an absent `kind` does not lower.
    assert_eq!(
        decide(&p, "t.a", json!({"amount": 1, "kind": 3})).tier,
        Some(Tier::Medium)
    );
    assert_eq!(
        decide(&p, "t.a", json!({"amount": 1, "kind": "note"})).tier,
        Some(Tier::Low)
    );
}

#[test]
fn permit_rules_turn_an_action_into_an_allow_list() {
    let rules = json!([
        {"id": "p-op", "target": "t.a", "when": [{"role": {"at_least": "operator"}}], "effect": "permit"},
        {"id": "p-oncall", "target": "t.a", "when": [{"role": {"is": "Viewer"}}, {"attribute": {"name": "oncall", "equals": true}}], "effect": "permit"},
        {"id": "f-contractor", "target": "t.a", "when": [{"group": "contractors"}], "effect": "deny"}
    ]);
    let p = one_action("low", false, rules);
    let viewer = Principal::user("v", Role::Viewer);
    let v = decide_as(&p, &viewer, "t.a", json!({}));
    assert_eq!(v.decision, Decision::Deny);
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("no permit rule allows")),
        "{:?}",
        v.reasons
    );
    let oncall = viewer.clone().with_attribute("oncall", json!(true));
    assert_eq!(
        decide_as(&p, &oncall, "t.a", json!({})).decision,
        Decision::Allow
    );
    let admin = Principal::user("a", Role::Admin);
    assert_eq!(
        decide_as(&p, &admin, "t.a", json!({})).decision,
        Decision::Allow
    );
    let contractor = admin.with_group("contractors");
    assert_eq!(
        decide_as(&p, &contractor, "t.a", json!({})).decision,
        Decision::Deny
    );
}

#[test]
fn reasons_name_the_concrete_argument_and_the_rule() {
    let p = super::enabled_defaults();
    let v = decide(
        &p,
        "email.send",
        json!({"to": ["bob@example.org"], "subject": "hi"}),
    );
    assert_eq!(v.decision, Decision::NeedsApproval { quorum: 1 });
    assert!(
        v.reasons.iter().any(|r| r
            == "email.send to outside domain example.org raises the tier to high \
                (rule email-outside: recipient outside the workspace's domains)"),
        "{:?}",
        v.reasons
    );
}
