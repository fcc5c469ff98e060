//! Integration tests of the public decision API: the tier table, the default policy, shell
//! attacks, the shell judgement and its corpus, standing grants, and the JSON forms the core
//! stores.

mod defaults;
mod grants;
mod invariants;
mod serde_forms;
mod shell_attacks;
mod shell_corpus;
mod shell_fuzz;
mod shell_judgement;
mod tier_table;

use headmaster_policy::{
    default_policy, CompiledPolicy, Principal, ProposedCall, Role, Verdict, WorkspacePolicy,
};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The default policy for `acme.com` with every action enabled.
pub fn enabled_defaults() -> CompiledPolicy {
    let mut p = default_policy(["acme.com"]);
    let keys: Vec<String> = p.actions.keys().cloned().collect();
    for key in keys {
        p.set_enabled(&key, true).unwrap();
    }
    CompiledPolicy::new(&p).unwrap()
}

/// `shell.exec` enabled at `low` with no rules, so only the built-in shell judgement decides.
pub fn shell_at_low() -> &'static CompiledPolicy {
    static POLICY: OnceLock<CompiledPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        compile_json(json!({
            "actions": {"shell.exec": {"enabled": true, "tier": "low", "command_arg": "command"}}
        }))
    })
}

/// Decides `tool.action` with `args` for `principal`.
pub fn decide_as(
    policy: &CompiledPolicy,
    principal: &Principal,
    key: &str,
    args: Value,
) -> Verdict {
    let (tool, action) = key.split_once('.').unwrap();
    let call = ProposedCall::new(tool, action, &args, principal);
    let verdict = policy.decide(&call);
    assert_eq!(
        policy.assess(&call).decision,
        verdict.decision,
        "the fast path and the explaining path disagree on {key} {args}"
    );
    verdict
}

/// Decides as an Operator agent.
pub fn decide(policy: &CompiledPolicy, key: &str, args: Value) -> Verdict {
    decide_as(
        policy,
        &Principal::agent("agent-1", Role::Operator),
        key,
        args,
    )
}

/// Compiles a policy given as JSON.
pub fn compile_json(json: Value) -> CompiledPolicy {
    let policy: WorkspacePolicy = serde_json::from_value(json).unwrap();
    CompiledPolicy::new(&policy).unwrap()
}
