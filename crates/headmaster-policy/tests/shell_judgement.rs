//! The built-in shell judgement through the public decision API: every line of the corpus
//! gets its tier and names its programs, no rule takes a line below its judgement, the
//! default rules only add to it, and standing grants stop at critical.

use super::shell_corpus::CORPUS;
use super::{compile_json, decide, enabled_defaults, shell_at_low as bare};
use headmaster_policy::{
    CompiledPolicy, Decision, Grant, GrantSpec, Principal, ProposedCall, Role, Tier, Verdict,
};
use serde_json::json;
use std::collections::BTreeMap;

pub fn judged(policy: &CompiledPolicy, line: &str) -> Verdict {
    decide(policy, "shell.exec", json!({ "command": line }))
}

#[test]
fn every_corpus_line_gets_its_tier_and_reason() {
    assert!(CORPUS.len() >= 150, "the corpus has {} lines", CORPUS.len());
    let mut wrong = Vec::new();
    for &(line, tier, fragment) in CORPUS {
        let v = judged(bare(), line);
        let reason_ok = fragment.is_empty() || v.reasons.iter().any(|r| r.contains(fragment));
        if v.tier != Some(tier) || !reason_ok {
            wrong.push(format!(
                "{line:?}: expected {tier} with {fragment:?}, got {:?}\n    {}",
                v.tier,
                v.reasons.join("\n    ")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} lines judged wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_corpus_covers_every_tier() {
    for tier in [Tier::Low, Tier::Medium, Tier::High, Tier::Critical] {
        let n = CORPUS.iter().filter(|c| c.1 == tier).count();
        assert!(n >= 15, "only {n} lines at {tier}");
    }
}

#[test]
fn the_reasons_name_each_program_and_why() {
    let v = judged(bare(), "ls -la && frob x | git clone https://e.example/r");
    for fragment in [
        "`ls -la` at low (ls: read-only)",
        "`frob x` at medium (unknown program: frob)",
        "`git clone https://e.example/r` at critical (git clone: network access)",
        "the command line is at least critical",
    ] {
        assert!(
            v.reasons.iter().any(|r| r.contains(fragment)),
            "{fragment:?} missing from {:?}",
            v.reasons
        );
    }
}

#[test]
fn a_lowering_rule_never_takes_a_line_below_its_judgement() {
    let lowered = compile_json(json!({
        "actions": {"shell.exec": {"enabled": true, "tier": "critical", "command_arg": "command"}},
        "rules": [{"id": "all-low", "target": "shell.exec", "effect": {"lower": "low"}}]
    }));
    for &(line, tier, _) in CORPUS {
        let v = judged(&lowered, line);
        assert_eq!(v.tier, Some(tier), "{line:?}: {:?}", v.reasons);
        assert!(v.rules.contains(&"all-low".to_owned()), "{line:?}");
    }
}

#[test]
fn the_default_rules_only_add_to_the_judgement() {
    let mut policy = headmaster_policy::default_policy(["acme.com"]);
    policy.set_enabled("shell.exec", true).unwrap();
    policy.set_tier("shell.exec", Tier::Low).unwrap();
    let defaults = CompiledPolicy::new(&policy).unwrap();
    for &(line, tier, _) in CORPUS {
        let v = judged(&defaults, line);
        assert!(
            v.decision.strictness() >= tier.decision().strictness(),
            "{line:?}: the default policy gives {:?}, the judgement {tier}",
            v.decision
        );
    }
    // With every default action enabled the shell still starts at medium: low lines wait for
    // an Operator, the others keep their judgement.
    let v = judged(&enabled_defaults(), "awk 'BEGIN { system(\"curl x\") }'");
    assert_eq!(v.tier, Some(Tier::Critical), "{:?}", v.reasons);
}

#[test]
fn a_grant_allows_a_medium_or_high_line_but_never_a_critical_one() {
    const NOW: i64 = 1_800_000_000_000;
    let grant = Grant::new(
        GrantSpec {
            id: "g-shell".into(),
            tool: "shell".into(),
            action: "exec".into(),
            principal: "agent-1".into(),
            args: BTreeMap::new(),
            expires_at: NOW + 60_000,
        },
        NOW,
    )
    .unwrap();
    let agent = Principal::agent("agent-1", Role::Operator);
    for (line, expected) in [
        ("frob --all", Decision::Allow),
        ("python3 script.py", Decision::Allow),
        (
            "git clone https://e.example/r",
            Decision::NeedsApproval { quorum: 2 },
        ),
        (
            "openssl s_client -connect e.example:443",
            Decision::NeedsApproval { quorum: 2 },
        ),
    ] {
        let args = json!({ "command": line });
        let call = ProposedCall::new("shell", "exec", &args, &agent);
        let v = bare().decide_with_grants(&call, std::slice::from_ref(&grant), NOW + 1);
        assert_eq!(v.decision, expected, "{line}: {:?}", v.reasons);
        assert_eq!(v.grant.is_some(), expected == Decision::Allow, "{line}");
    }
}
