//! Benchmarks of the engine through its public API, for `docs/PERFORMANCE.md`.
//!
//! ```text
//! cargo bench -p headmaster-core --features internals --bench core           # every suite
//! cargo bench -p headmaster-core --features internals --bench core -- audit  # some suites
//! cargo bench -p headmaster-core --features internals --bench core -- --quick
//! ```
//!
//! `--quick` runs every path with small sizes (a check of the benchmark itself). The
//! `internals` feature exposes the vault, the device key and the raw workspace pools that the
//! suites use to fill tables and chains the way the core writes them.
//!
//! Suites: `identity` (sign-in), `vault` (seal/open against raw AES-GCM, passphrase unlock),
//! `rotation` (re-encryption of 1M rows), `audit` (durable appends against plain SQLite, then
//! verify, query and export over 1M events), `tools` (argument parsing and the policy decision
//! per action, and a whole `propose_call`), `approvals` (request → notification, approval →
//! execution), `inbox` (the approvals inbox with 2,000 requests), `runtime` (per-step overhead, runs per second, resume after a restart)
//! and `sync` (lag to the shared server's SIEM feed and catch-up after an offline stretch, against
//! the real `headmaster-server`: `cargo build --release -p headmaster-server` first).
//! `audit` is `audit-append` followed by `audit-scan`; either part can be named alone.
//!
//! Every suite builds its own installation in a temporary directory (passphrase-protected, so no
//! keychain is needed), times with `std::time::Instant`, and prints one line per number with
//! its target where the issue sets one. The load average is printed before and after each
//! suite: these machines are shared, and a number measured under load says so.

mod approvals;
mod audit_append;
mod audit_query;
mod audit_scan;
mod fixture;
mod identity;
mod inbox;
mod rotation;
mod runtime;
#[path = "../../tests/shared/server.rs"]
#[allow(dead_code)]
mod server;
mod stats;
mod sync;
mod tools;
mod vault;
mod workload;

use std::time::Instant;

/// How much work each suite does.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Sign-ins timed.
    pub sign_ins: usize,
    /// Seal+open round trips per timed batch (256-byte values; 4 KiB values do a sixteenth).
    pub seal_round_trips: usize,
    /// Passphrase unlocks timed.
    pub unlocks: usize,
    /// Rows re-encrypted by the rotation suite.
    pub rotation_rows: u64,
    /// Events appended one per transaction (chain and plain each).
    pub single_events: u64,
    /// Events appended in batches (chain and plain each).
    pub batched_events: u64,
    /// Events in the chain that verify, query and export walk.
    pub chain_events: u64,
    /// Queries timed over that chain.
    pub queries: usize,
    /// Iterations per timed batch of the per-call tool checks.
    pub call_iterations: usize,
    /// Whole calls, approval rounds and trivial runs timed.
    pub rounds: usize,
    /// Restarts timed by the resume measurement.
    pub restarts: usize,
}

impl Scale {
    /// The sizes the issues name.
    const FULL: Scale = Scale {
        sign_ins: 20,
        seal_round_trips: 200_000,
        unlocks: 5,
        rotation_rows: 1_000_000,
        single_events: 2_000,
        batched_events: 100_000,
        chain_events: 1_000_000,
        queries: 50,
        call_iterations: 20_000,
        rounds: 50,
        restarts: 5,
    };

    /// A quick run that exercises every path (for checking the benchmark itself).
    const QUICK: Scale = Scale {
        sign_ins: 3,
        seal_round_trips: 8_000,
        unlocks: 2,
        rotation_rows: 5_000,
        single_events: 100,
        batched_events: 2_000,
        chain_events: 20_000,
        queries: 10,
        call_iterations: 500,
        rounds: 5,
        restarts: 2,
    };
}

/// The suites, in the order a full run takes them. `audit` is `audit-append` then `audit-scan`.
const SUITES: [&str; 9] = [
    "identity",
    "vault",
    "tools",
    "approvals",
    "inbox",
    "runtime",
    "audit",
    "rotation",
    "sync",
];

/// Names that select a part of a suite.
const PARTS: [&str; 2] = ["audit-append", "audit-scan"];

fn main() {
    // `TRACE_SQL=1` prints every SQL statement with its time to stderr (counting statements
    // per step is how the runtime's overhead was cut).
    if std::env::var_os("TRACE_SQL").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter("sqlx::query=debug")
            .with_writer(std::io::stderr)
            .init();
    }
    // `cargo bench` passes `--bench`; everything else is ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let scale = if args.iter().any(|a| a == "--quick") {
        Scale::QUICK
    } else {
        Scale::FULL
    };
    let mut chosen: Vec<&str> = Vec::new();
    for arg in args.iter().filter(|a| !a.starts_with("--")) {
        match SUITES
            .iter()
            .chain(PARTS.iter())
            .find(|s| **s == arg.as_str())
        {
            Some(suite) => chosen.push(suite),
            None => {
                eprintln!(
                    "unknown suite {arg:?}; choose from {}, {}",
                    SUITES.join(", "),
                    PARTS.join(", ")
                );
                std::process::exit(2);
            }
        }
    }
    if chosen.is_empty() {
        chosen = SUITES.to_vec();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "headmaster-core benchmarks: {} CPUs, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        stats::load()
    );
    for suite in chosen {
        let started = Instant::now();
        println!("\n== {suite} ({})", stats::load());
        runtime.block_on(async {
            match suite {
                "identity" => identity::run(scale).await,
                "vault" => vault::run(scale).await,
                "rotation" => rotation::run(scale).await,
                "audit" => {
                    audit_append::run(scale).await;
                    audit_scan::run(scale).await;
                }
                "audit-append" => audit_append::run(scale).await,
                "audit-scan" => audit_scan::run(scale).await,
                "tools" => tools::run(scale).await,
                "approvals" => approvals::run(scale).await,
                "inbox" => inbox::run(scale).await,
                "runtime" => runtime::run(scale).await,
                "sync" => sync::run(scale).await,
                other => unreachable!("suite {other} is listed but not wired"),
            }
        });
        println!(
            "-- {suite} took {:.1} s ({})",
            started.elapsed().as_secs_f64(),
            stats::load()
        );
    }
}
