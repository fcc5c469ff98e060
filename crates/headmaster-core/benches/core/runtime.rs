//! Issue 8: the runtime's own cost per step, runs per second, and resume after a restart.
//!
//! - Per step: a playbook of 50 `memory.write` steps (low tier, so each executes at once) and a
//!   `finish`; the whole run's time divided by its 50 tool steps. The playbook provider only
//!   renders a template per step, so this is the runtime's overhead: the gate, the policy, the
//!   write, the step records, the checkpoint and the audit appends.
//! - Runs per second: a playbook whose only step is `finish`, started and driven to completion
//!   one after the other.
//! - Resume: a run parks on a high-tier `memory.write`; the installation is dropped and opened
//!   again (a restart: nothing of the run is in memory), an Approver approves, and `resume_run`
//!   is timed until the run completes.

use std::time::{Duration, Instant};

use headmaster_core::access::Role;
use headmaster_core::approvals::ApprovalDecision;
use headmaster_core::runtime::RunStatus;

use crate::fixture::Bench;
use crate::stats::{per_second, verdict, Summary};
use crate::Scale;

/// Tool steps of the per-step playbook.
const STEPS: usize = 50;
/// Runs of the per-step playbook timed.
const STEP_RUNS: usize = 20;

/// Runs the suite.
pub async fn run(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    bench.enable("memory").await;
    per_step(&bench).await;
    runs_per_second(&bench, scale.rounds * 4).await;
    resume(&bench, scale.restarts).await;
}

async fn per_step(bench: &Bench) {
    let mut playbook = format!(
        "name = \"bench-steps\"\ntools = [\"memory.write\"]\n[limits]\nmax_steps = {}\n",
        STEPS + 10
    );
    for i in 1..=STEPS {
        playbook.push_str(&format!(
            "[[steps]]\nid = \"s{i}\"\ntool = \"memory.write\"\n\
             args = {{ key = \"{{{{task}}}}-{i}\", value = \"step {i} of {{{{task}}}}\" }}\n\
             reasoning = \"Record step {i}.\"\n"
        ));
    }
    playbook.push_str("[[steps]]\nid = \"done\"\nfinish = \"wrote {{task}}\"\n");
    create_agent(bench, &playbook).await;
    let mut per_step = Vec::with_capacity(STEP_RUNS);
    let mut events = 0i64;
    for run in 0..=STEP_RUNS {
        let before = bench.last_seq().await;
        let started = Instant::now();
        let summary = bench
            .instance
            .start_run(
                &bench.admin,
                bench.ws,
                "bench-steps",
                &format!("run{run}"),
                true,
            )
            .await
            .expect("start run");
        let elapsed = started.elapsed();
        assert_eq!(summary.status, RunStatus::Completed, "{summary:?}");
        // The first run warms caches (agent definition, policy, statements); not counted.
        if run > 0 {
            per_step.push(elapsed / STEPS as u32);
            events += bench.last_seq().await - before;
        }
    }
    let summary = Summary::of(&mut per_step);
    println!(
        "runtime overhead per step (50 memory.write steps + finish, run time / 50; {:.1} audit appends per step): {}; {}",
        events as f64 / (STEP_RUNS * STEPS) as f64,
        summary.ms(),
        verdict(summary.median <= Duration::from_millis(1), "median ≤ 1 ms")
    );
}

async fn runs_per_second(bench: &Bench, runs: usize) {
    create_agent(
        bench,
        "name = \"bench-finish\"\ntools = []\n[[steps]]\nid = \"done\"\nfinish = \"done: {{task}}\"\n",
    )
    .await;
    let mut each = Vec::with_capacity(runs);
    let started = Instant::now();
    for run in 0..runs {
        let one = Instant::now();
        let summary = bench
            .instance
            .start_run(
                &bench.admin,
                bench.ws,
                "bench-finish",
                &format!("run{run}"),
                true,
            )
            .await
            .expect("start run");
        each.push(one.elapsed());
        assert_eq!(summary.status, RunStatus::Completed, "{summary:?}");
    }
    let elapsed = started.elapsed();
    println!(
        "trivial playbook (one finish step), {runs} runs one after the other: {:.1} runs/s; per run {}",
        per_second(runs as u64, elapsed),
        Summary::of(&mut each).ms()
    );
}

async fn resume(bench: &Bench, restarts: usize) {
    let bob = bench.member("bob", Role::Approver).await;
    bench.set_tier("memory.write", "high").await;
    create_agent(
        bench,
        "name = \"bench-wait\"\ntools = [\"memory.write\"]\n\
         [[steps]]\nid = \"write\"\ntool = \"memory.write\"\n\
         args = { key = \"approved-{{task}}\", value = \"after approval\" }\n\
         [[steps]]\nid = \"done\"\nfinish = \"written after approval\"\n",
    )
    .await;
    let mut opens = Vec::with_capacity(restarts);
    let mut resumes = Vec::with_capacity(restarts);
    for round in 0..restarts {
        let before = bench.open_again().await;
        let parked = before
            .start_run(
                &bench.admin,
                bench.ws,
                "bench-wait",
                &format!("r{round}"),
                true,
            )
            .await
            .expect("start run");
        assert_eq!(parked.status, RunStatus::WaitingApproval, "{parked:?}");
        let approval = parked.waiting_on.clone().expect("the request it waits on");
        drop(before);

        let started = Instant::now();
        let after = bench.open_again().await;
        opens.push(started.elapsed());
        after
            .decide_approval(&bob, bench.ws, &approval, ApprovalDecision::Approve, None)
            .await
            .expect("approve");
        let started = Instant::now();
        let resumed = after
            .resume_run(&bench.admin, bench.ws, &parked.id)
            .await
            .expect("resume");
        resumes.push(started.elapsed());
        assert_eq!(resumed.status, RunStatus::Completed, "{resumed:?}");
    }
    println!(
        "restart: Instance::open in passphrase mode (Argon2id dominates): {}",
        Summary::of(&mut opens).ms()
    );
    println!(
        "resume after restart: resume_run of an approved run to completion (first call of a fresh instance): {}",
        Summary::of(&mut resumes).ms()
    );
}

async fn create_agent(bench: &Bench, playbook: &str) {
    bench
        .instance
        .create_playbook_agent(&bench.admin, bench.ws, playbook)
        .await
        .expect("create agent");
}
