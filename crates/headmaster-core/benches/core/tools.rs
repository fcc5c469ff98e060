//! Issue 6: the per-call cost of the checks in front of every tool, and a whole `propose_call`.
//!
//! Per action kind: `headmaster_tools::ToolCall::parse` (JSON → typed arguments → validation;
//! the core's own actions — shell, memory, drafts — are parsed inside the core and are not
//! public, so they show only the decision) and `CompiledPolicy::decide` on the default policy
//! with every action enabled (the catalog check, tier, argument rules, shell parsing for
//! `shell.exec`). Then `propose_call` of a low-tier `memory.read` end to end: the gate, the
//! policy, the read, and its two audit appends (`tool.proposed`, `tool.executed`), each a
//! durable transaction of its own.

use std::hint::black_box;
use std::time::Instant;

use headmaster_core::tools::{CallOutcome, CallRequest, Proposer};
use headmaster_policy::{default_policy, CompiledPolicy, Principal, ProposedCall, Role};
use headmaster_tools::ToolCall;
use serde_json::{json, Value};

use crate::fixture::Bench;
use crate::stats::{per_call, us, Summary};
use crate::Scale;

/// Timed batches of each per-call measurement.
const BATCHES: usize = 9;

/// Runs the suite.
pub async fn run(scale: Scale) {
    checks(scale);
    propose(scale).await;
}

fn checks(scale: Scale) {
    let mut policy = default_policy(["example.com"]);
    let keys: Vec<String> = policy.actions.keys().cloned().collect();
    for key in &keys {
        policy.set_enabled(key, true).expect("a known action");
    }
    let compiled = CompiledPolicy::new(&policy).expect("the default policy compiles");
    let principal = Principal::user("0193a1b2-0000-7000-8000-00000000beef", Role::Operator);
    println!(
        "{:<14} {:>12} {:>12} {:>14}  decision",
        "action", "parse", "decide", "parse+decide"
    );
    for key in &keys {
        let args = sample(key);
        let (tool, action) = key.split_once('.').expect("tool.action");
        let call = ProposedCall {
            crosses_boundary: policy.actions[key].crosses_boundary,
            ..ProposedCall::new(tool, action, &args, &principal)
        };
        let external = headmaster_tools::Action::ALL
            .iter()
            .any(|a| a.name() == key.as_str());
        let decide = per_call(BATCHES, scale.call_iterations, || {
            black_box(compiled.decide(black_box(&call)));
        });
        let decision = compiled.decide(&call).decision;
        let (parse, both) = if external {
            ToolCall::parse(key, &args).expect("valid sample arguments");
            let parse = per_call(BATCHES, scale.call_iterations, || {
                black_box(ToolCall::parse(key, black_box(&args)).expect("valid"));
            });
            let both = per_call(BATCHES, scale.call_iterations, || {
                black_box(ToolCall::parse(key, black_box(&args)).expect("valid"));
                black_box(compiled.decide(black_box(&call)));
            });
            (us(parse), us(both))
        } else {
            ("(in core)".to_string(), us(decide))
        };
        println!(
            "{key:<14} {parse:>12} {:>12} {both:>14}  {decision:?}",
            us(decide)
        );
    }
}

async fn propose(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    bench.enable("memory").await;
    bench
        .instance
        .write_memory(
            &bench.admin,
            bench.ws,
            "client-notes",
            "Prefers email; call before Friday.",
        )
        .await
        .expect("memory entry");
    let request = || CallRequest {
        action: "memory.read".into(),
        args: json!({ "key": "client-notes" }),
        reasoning: Some("Load the notes.".into()),
        proposer: Proposer::User,
    };
    // One call first: it loads and caches what later calls reuse.
    bench
        .instance
        .propose_call(&bench.admin, bench.ws, request())
        .await
        .expect("propose");
    let calls = scale.rounds * 4;
    let before = bench.last_seq().await;
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let outcome = bench
            .instance
            .propose_call(&bench.admin, bench.ws, request())
            .await
            .expect("propose");
        times.push(started.elapsed());
        assert!(
            matches!(outcome, CallOutcome::Executed { .. }),
            "{outcome:?}"
        );
    }
    let events = (bench.last_seq().await - before) as f64 / calls as f64;
    println!(
        "propose_call memory.read (low tier, executed; {events:.0} audit appends per call): {}",
        Summary::of(&mut times).ms()
    );
}

/// Arguments of a typical call of `key`.
fn sample(key: &str) -> Value {
    let url = json!("https://api.example.com/v1/items?page=2");
    match key {
        "email.send" => json!({
            "to": ["alice@example.com", "bob@partner.org"],
            "subject": "Weekly update",
            "body": "Hello,\n\nHere is this week's update.\n".repeat(10),
        }),
        "file.read" => json!({ "path": "drafts/plan.md" }),
        "file.list" => json!({ "path": "drafts" }),
        "file.write" => {
            json!({ "path": "drafts/plan.md", "content": "line of the plan\n".repeat(60) })
        }
        "http.get" | "http.head" => json!({ "url": url }),
        "http.post" | "http.put" | "http.patch" | "http.delete" => {
            json!({ "url": url, "body": "{\"name\":\"widget\",\"count\":3}" })
        }
        "shell.exec" => json!({ "command": "ls -la inbox && grep -c TODO notes.md | head -n 5" }),
        "memory.read" => json!({ "key": "client-notes" }),
        "memory.write" => {
            json!({ "key": "client-notes", "value": "Prefers email; call before Friday." })
        }
        "draft.save" => json!({ "title": "Weekly update", "body": "Hello,\n".repeat(20) }),
        other => panic!("no sample arguments for {other}; add them"),
    }
}
