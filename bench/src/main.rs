//! Headmaster's policy decision next to Cedar's, on the rule set and scenario in `cedar/`.
//!
//! Run it (release; the first build takes a few minutes because of cedar-policy):
//!
//! ```text
//! cargo run --release -p headmaster-bench                # agreement + wall time + shell parse
//! cargo run --release -p headmaster-bench -- --valgrind  # … plus instruction counts
//! ```
//!
//! Instruction counts come from two callgrind runs per engine, one with N decisions and one
//! with none; the difference divided by N is the cost of one decision, setup excluded:
//!
//! ```text
//! B=$CARGO_TARGET_DIR/release/headmaster-bench
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B --engine cedar --iterations 0
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B --engine cedar --iterations 10000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B --engine headmaster --iterations 0
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B --engine headmaster --iterations 100000
//! ```
//!
//! (read the `Collected :` line of each). `--valgrind` runs exactly these and prints the result.

mod cedar_engine;
mod headmaster_engine;
mod scenario;
mod shell_corpus;
mod stats;

use anyhow::{bail, Context as _, Result};
use cedar_engine::CedarEngine;
use headmaster_engine::HeadmasterEngine;
use std::process::Command;

/// The workload's seed: every run generates the same requests.
const SEED: u64 = 0x4845_4144_4d41_5354;
/// How many requests the scenario asks for.
const REQUESTS: usize = 10_000;
/// Timed passes over the requests per engine.
const PASSES: usize = 3;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).map(|i| args.get(i + 1));
    match flag("--engine") {
        Some(Some(engine)) => {
            let iterations = match flag("--iterations") {
                Some(Some(n)) => n.parse().context("--iterations takes a number")?,
                _ => REQUESTS,
            };
            run_engine(engine, iterations)
        }
        Some(None) => bail!("--engine takes `headmaster` or `cedar`"),
        None => report(args.iter().any(|a| a == "--valgrind")),
    }
}

/// Builds one engine and makes `iterations` decisions, for instruction counting.
fn run_engine(engine: &str, iterations: usize) -> Result<()> {
    let users = scenario::users();
    let requests = scenario::requests(REQUESTS, SEED);
    let allowed = match engine {
        "headmaster" => {
            let e = HeadmasterEngine::new(&users, &requests)?;
            decide_loop(iterations, |i| e.allowed(i % REQUESTS))
        }
        "cedar" => {
            let e = CedarEngine::new(&users, &requests)?;
            decide_loop(iterations, |i| e.allowed(i % REQUESTS))
        }
        other => bail!("unknown engine `{other}`: use `headmaster` or `cedar`"),
    };
    println!("{engine}: {iterations} decisions, {allowed} allowed");
    Ok(())
}

#[inline(never)]
fn decide_loop(iterations: usize, mut allowed: impl FnMut(usize) -> bool) -> usize {
    (0..iterations)
        .filter(|&i| allowed(std::hint::black_box(i)))
        .count()
}

fn report(valgrind: bool) -> Result<()> {
    let users = scenario::users();
    let requests = scenario::requests(REQUESTS, SEED);
    let headmaster = HeadmasterEngine::new(&users, &requests)?;
    let cedar = CedarEngine::new(&users, &requests)?;

    let mut allowed = 0;
    for (i, r) in requests.iter().enumerate() {
        let (h, c, hr) = (
            headmaster.allowed(i),
            cedar.allowed(i),
            headmaster.allowed_with_reasons(i),
        );
        if h != c || h != hr {
            let user = &users[r.user];
            eprintln!("DISAGREEMENT on request {i}: {r:?}");
            eprintln!("  user: {user:?}");
            eprintln!(
                "  cedar: {} by {:?}",
                if c { "allow" } else { "deny" },
                cedar.reasons(i)
            );
            eprintln!(
                "  headmaster: {} (with reasons: {hr}); {:#?}",
                if h { "allow" } else { "deny" },
                headmaster.reasons(i)
            );
            bail!("the engines disagree on request {i}; see above");
        }
        allowed += usize::from(h);
    }
    println!(
        "scenario: {} users, {} tools, {REQUESTS} requests (seed {SEED:#x})",
        users.len(),
        scenario::TOOLS.len()
    );
    println!("agreement: Cedar and Headmaster agree on all {REQUESTS} requests; {allowed} allowed, {} denied\n", REQUESTS - allowed);

    let (hm, hm_batch) = stats::per_call(REQUESTS, PASSES, |i| headmaster.allowed(i));
    let (hr, hr_batch) = stats::per_call(REQUESTS, PASSES, |i| headmaster.allowed_with_reasons(i));
    let (ce, ce_batch) = stats::per_call(REQUESTS, PASSES, |i| cedar.allowed(i));
    println!(
        "{:<34} {:>12} {:>12} {:>14}",
        "decision latency (µs)", "median", "p99", "batch mean"
    );
    for (name, s, batch) in [
        ("headmaster assess (fast path)", hm, hm_batch),
        ("headmaster decide (with reasons)", hr, hr_batch),
        ("cedar is_authorized", ce, ce_batch),
    ] {
        println!(
            "{name:<34} {:>12.3} {:>12.3} {:>14.3}",
            s.median_ns / 1e3,
            s.p99_ns / 1e3,
            batch / 1e3
        );
    }
    println!(
        "speed-up (median): {:.0}x (assess), {:.0}x (decide)\n",
        ce.median_ns / hm.median_ns,
        ce.median_ns / hr.median_ns
    );

    let (parse, judge, unparseable) = shell_corpus::measure(2_000);
    println!(
        "shell parse over {} command lines ({unparseable} refused as unparseable), µs per line: \
         median {:.3}, p99 {:.3}, mean {:.3}",
        shell_corpus::CORPUS.len(),
        parse.median_ns / 1e3,
        parse.p99_ns / 1e3,
        parse.mean_ns / 1e3
    );
    println!(
        "shell.exec decision (parse + judge, default policy), µs per line: median {:.3}, p99 {:.3}",
        judge.median_ns / 1e3,
        judge.p99_ns / 1e3
    );

    if valgrind {
        println!("\ninstructions per decision (callgrind, N-run minus 0-run):");
        let h = per_decision("headmaster", 100_000)?;
        let c = per_decision("cedar", 10_000)?;
        println!(
            "  headmaster assess: {h:.0}\n  cedar is_authorized: {c:.0}\n  ratio: {:.0}x fewer",
            c / h
        );
    }
    Ok(())
}

/// Instructions per decision of `engine`, from two callgrind runs of this binary.
fn per_decision(engine: &str, n: usize) -> Result<f64> {
    let with = instructions(engine, n)?;
    let without = instructions(engine, 0)?;
    Ok((with.saturating_sub(without)) as f64 / n as f64)
}

fn instructions(engine: &str, n: usize) -> Result<u64> {
    let exe = std::env::current_exe()?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(&exe)
        .args(["--engine", engine, "--iterations", &n.to_string()])
        .output()
        .context("running valgrind (apt-get install valgrind)")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| format!("no `Collected :` line in valgrind's output:\n{stderr}"))
}
