//! Summaries of timed samples and the verdict against a target, printed the same way by every
//! suite so that `docs/PERFORMANCE.md` can quote the lines as they are.

use std::time::{Duration, Instant};

/// Median, 95th percentile and extremes of a set of durations.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Median.
    pub median: Duration,
    /// 95th percentile (nearest rank).
    pub p95: Duration,
    /// Smallest sample.
    pub min: Duration,
    /// Largest sample.
    pub max: Duration,
}

impl Summary {
    /// Summarises `samples` (sorted in place). Panics on an empty set: every caller times
    /// at least one sample.
    pub fn of(samples: &mut [Duration]) -> Self {
        assert!(!samples.is_empty(), "no samples to summarise");
        samples.sort();
        let n = samples.len();
        let rank = |p: f64| samples[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Self {
            n,
            median: rank(0.5),
            p95: rank(0.95),
            min: samples[0],
            max: samples[n - 1],
        }
    }

    /// `median 1.23 ms, p95 2.34 ms (min …, max …, n=…)` in milliseconds.
    pub fn ms(&self) -> String {
        format!(
            "median {}, p95 {} (min {}, max {}, n={})",
            ms(self.median),
            ms(self.p95),
            ms(self.min),
            ms(self.max),
            self.n
        )
    }
}

/// A duration in milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A duration in microseconds with two decimals.
pub fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

/// `n` things per second over `elapsed`.
pub fn per_second(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// `target …: met` or `target …: MISSED`.
pub fn verdict(met: bool, target: &str) -> String {
    format!("target {target}: {}", if met { "met" } else { "MISSED" })
}

/// The load average of the machine (`/proc/loadavg`), for the record.
pub fn load() -> String {
    match std::fs::read_to_string("/proc/loadavg") {
        Ok(text) => {
            let parts: Vec<&str> = text.split_whitespace().take(3).collect();
            format!("load average {}", parts.join(" "))
        }
        Err(_) => "load average unknown".to_string(),
    }
}

/// The median of `batches` timings of `iterations` calls of `call`, per call.
pub fn per_call(batches: usize, iterations: usize, mut call: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..batches)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..iterations {
                call();
            }
            started.elapsed() / iterations as u32
        })
        .collect();
    Summary::of(&mut samples).median
}
