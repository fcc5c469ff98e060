//! Per-call wall-clock timing and percentiles.

use std::time::Instant;

/// Median, 99th percentile and mean of a set of per-call times, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub median_ns: f64,
    pub p99_ns: f64,
    pub mean_ns: f64,
}

impl Summary {
    pub fn of(mut samples: Vec<f64>) -> Summary {
        samples.sort_by(f64::total_cmp);
        let n = samples.len().max(1);
        Summary {
            median_ns: samples.get(n / 2).copied().unwrap_or_default(),
            p99_ns: samples.get(n * 99 / 100).copied().unwrap_or_default(),
            mean_ns: samples.iter().sum::<f64>() / n as f64,
        }
    }
}

/// Times `f(i)` once per index for `passes` passes over `0..n` after one warm-up pass.
/// Each sample includes one `Instant::now()` pair (about 20–40 ns here), which is why the
/// report also gives the batch mean, timed without per-call clocks.
pub fn per_call(n: usize, passes: usize, mut f: impl FnMut(usize) -> bool) -> (Summary, f64) {
    for i in 0..n {
        std::hint::black_box(f(i));
    }
    let mut samples = Vec::with_capacity(n * passes);
    for _ in 0..passes {
        for i in 0..n {
            let t = Instant::now();
            std::hint::black_box(f(std::hint::black_box(i)));
            samples.push(t.elapsed().as_nanos() as f64);
        }
    }
    let t = Instant::now();
    for _ in 0..passes {
        for i in 0..n {
            std::hint::black_box(f(std::hint::black_box(i)));
        }
    }
    let batch_mean = t.elapsed().as_nanos() as f64 / (n * passes) as f64;
    (Summary::of(samples), batch_mean)
}
