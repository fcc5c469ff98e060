//! Invariants over generated policies and calls: the fast path and the explaining path always
//! agree, and a call that crosses the boundary is never below medium whatever the rules say.

use headmaster_policy::{
    ActionPolicy, CompiledPolicy, Condition, Decision, Effect, Principal, ProposedCall, Role, Rule,
    Tier, WorkspacePolicy,
};
use proptest::prelude::*;
use serde_json::json;

fn tier() -> impl Strategy<Value = Tier> {
    prop_oneof![
        Just(Tier::Low),
        Just(Tier::Medium),
        Just(Tier::High),
        Just(Tier::Critical)
    ]
}

fn effect() -> impl Strategy<Value = Effect> {
    prop_oneof![
        tier().prop_map(Effect::Raise),
        tier().prop_map(Effect::Lower),
        Just(Effect::Deny),
        Just(Effect::Permit),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    prop_oneof![
        any::<bool>().prop_map(|value| Condition::Flag {
            field: "f".into(),
            value
        }),
        any::<bool>().prop_map(Condition::CrossesBoundary),
        Just(Condition::Role(headmaster_policy::RoleTest::AtLeast(
            Role::Approver
        ))),
        Just(Condition::Not(Box::new(Condition::Group("g".into())))),
    ]
}

fn policy() -> impl Strategy<Value = (WorkspacePolicy, bool)> {
    (
        tier(),
        proptest::collection::vec(
            (proptest::collection::vec(condition(), 0..3), effect()),
            0..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(base, rules, crossing_action)| {
            let mut p = WorkspacePolicy::default();
            // Lowering rules on an always-crossing action are refused at compile time, so the
            // crossing case is exercised through the call's own flag instead.
            let mut action = ActionPolicy::inside(base);
            action.enabled = true;
            p.actions.insert("t.a".into(), action);
            p.rules = rules
                .into_iter()
                .enumerate()
                .map(|(i, (when, effect))| Rule {
                    id: format!("r{i}"),
                    target: "t.a".parse().unwrap(),
                    when,
                    effect,
                    note: None,
                })
                .collect();
            (p, crossing_action)
        })
}

proptest! {
    #[test]
    fn assess_and_decide_agree_and_crossing_calls_wait_for_a_human(
        (policy, crossing) in policy(),
        flag in proptest::option::of(any::<bool>()),
        role in prop_oneof![Just(Role::Viewer), Just(Role::Approver)],
        in_group in any::<bool>(),
    ) {
        let compiled = CompiledPolicy::new(&policy).unwrap();
        let args = match flag { Some(f) => json!({ "f": f }), None => json!({}) };
        let mut principal = Principal::agent("a", role);
        if in_group {
            principal = principal.with_group("g");
        }
        let mut call = ProposedCall::new("t", "a", &args, &principal);
        call.crosses_boundary = crossing;
        let fast = compiled.assess(&call);
        let verdict = compiled.decide(&call);
        prop_assert_eq!(fast.decision, verdict.decision);
        prop_assert_eq!(fast.tier, verdict.tier);
        prop_assert!(!verdict.reasons.is_empty());
        if crossing {
            prop_assert!(verdict.decision != Decision::Allow, "{:?}", verdict.reasons);
        }
    }
}
