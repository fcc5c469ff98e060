//! Start-up cost of the sandbox: `run` of `true` against a plain `/bin/sh -c true`, measured
//! alternately in the same process so that both see the same machine state.
//!
//! `cargo bench -p headmaster-sandbox --bench startup` prints median, p95 and mean over 200
//! runs each, plus the sandboxed run on a workspace of 1,000 files, where the run as root also
//! walks the tree to hand it to the sandbox user.

use std::process::Command;
use std::time::{Duration, Instant};

use headmaster_sandbox::{probe, run, CommandSpec, SandboxConfig};

const RUNS: usize = 200;
const WARM_UP: usize = 10;

fn main() {
    let support = probe();
    if let Some(reason) = support.refusal() {
        eprintln!("sandbox unavailable here: {reason}");
        std::process::exit(1);
    }
    let empty = tempfile::tempdir().expect("workspace");
    let full = tempfile::tempdir().expect("workspace");
    for index in 0..1000 {
        std::fs::write(full.path().join(format!("file-{index}.txt")), b"x").expect("file");
    }
    let empty_config = SandboxConfig::new(empty.path());
    let full_config = SandboxConfig::new(full.path());
    let command = CommandSpec::new("true");

    let plain = || {
        let status = Command::new("/bin/sh")
            .arg("-c")
            .arg("true")
            .status()
            .expect("sh");
        assert!(status.success());
    };
    let sandboxed = |config: &SandboxConfig| {
        let outcome = run(config, &command).expect("sandboxed run");
        assert!(outcome.success(), "{outcome:?}");
    };

    for _ in 0..WARM_UP {
        plain();
        sandboxed(&empty_config);
    }
    let mut plain_times = Vec::with_capacity(RUNS);
    let mut sandboxed_times = Vec::with_capacity(RUNS);
    let mut full_times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        plain_times.push(time(plain));
        sandboxed_times.push(time(|| sandboxed(&empty_config)));
        full_times.push(time(|| sandboxed(&full_config)));
    }

    println!(
        "sandbox start-up, {RUNS} runs each ({:?}, {})",
        support.containment,
        if support.drops_privileges {
            "root, dropping to nobody"
        } else {
            "unprivileged"
        }
    );
    let plain = report("plain /bin/sh -c true", &mut plain_times);
    let sandboxed = report("sandboxed true (empty workspace)", &mut sandboxed_times);
    report("sandboxed true (1,000-file workspace)", &mut full_times);
    println!(
        "median overhead: {:.3} ms",
        (sandboxed.as_secs_f64() - plain.as_secs_f64()) * 1e3
    );
}

fn time(action: impl FnOnce()) -> Duration {
    let start = Instant::now();
    action();
    start.elapsed()
}

/// Prints median, p95 and mean; returns the median.
fn report(label: &str, times: &mut [Duration]) -> Duration {
    times.sort();
    let median = times[times.len() / 2];
    let p95 = times[times.len() * 95 / 100];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{label:<40} median {:>7.3} ms   p95 {:>7.3} ms   mean {:>7.3} ms",
        ms(median),
        ms(p95),
        ms(mean)
    );
    median
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
