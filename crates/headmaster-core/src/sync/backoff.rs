//! When the background sync tries again: every few seconds while the server answers;
//! exponentially less often while it does not (doubling from 2 s up to 5 min, with jitter so
//! that a team's desktops do not all knock at once when the server comes back); and one alert
//! per outage once sync has failed for longer than the configured time.

use std::time::Duration;

/// The wait between syncs while the server answers.
pub const ONLINE_EVERY: Duration = Duration::from_secs(5);
/// The first wait after a failure.
pub const FIRST_RETRY: Duration = Duration::from_secs(2);
/// The longest wait between tries while offline.
pub const MAX_RETRY: Duration = Duration::from_secs(5 * 60);

/// The retry schedule and alert of one desktop's background sync.
#[derive(Debug, Clone)]
pub struct Backoff {
    alert_after: Duration,
    failures: u32,
    failing_since_ms: Option<i64>,
    alerted: bool,
}

/// What to do after a failed sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Wait this long before the next try.
    pub wait: Duration,
    /// Raise the alert now (once per outage, when it has lasted `alert_after`).
    pub alert: bool,
    /// How long sync has been failing.
    pub failing_for: Duration,
}

impl Backoff {
    /// A schedule that alerts once sync has failed for `alert_after`.
    pub fn new(alert_after: Duration) -> Self {
        Self {
            alert_after,
            failures: 0,
            failing_since_ms: None,
            alerted: false,
        }
    }

    /// A sync succeeded: the outage (if any) is over; returns the wait before the next sync.
    pub fn succeeded(&mut self) -> Duration {
        self.failures = 0;
        self.failing_since_ms = None;
        self.alerted = false;
        ONLINE_EVERY
    }

    /// A sync failed at `now_ms`. `jitter` in `[0, 1)` picks the wait within the upper half of
    /// the current step (`step/2 ..= step`), so the schedule stays bounded and spread.
    pub fn failed(&mut self, now_ms: i64, jitter: f64) -> Retry {
        let since = *self.failing_since_ms.get_or_insert(now_ms);
        let step = FIRST_RETRY
            .saturating_mul(1u32 << self.failures.min(16))
            .min(MAX_RETRY);
        self.failures = self.failures.saturating_add(1);
        let half = step / 2;
        let wait = half + half.mul_f64(jitter.clamp(0.0, 1.0));
        let failing_for = Duration::from_millis((now_ms - since).max(0) as u64);
        let alert = !self.alerted && failing_for >= self.alert_after;
        self.alerted |= alert;
        Retry {
            wait,
            alert,
            failing_for,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A day offline on a simulated clock, then back, then offline again.
    #[test]
    fn a_day_offline_stays_bounded_and_alerts_once() {
        let alert_after = Duration::from_secs(15 * 60);
        let mut backoff = Backoff::new(alert_after);
        let day_ms = 24 * 60 * 60 * 1000;
        let (mut now, mut tries, mut alerts, mut jitter) = (0i64, 0u32, 0, 0.37f64);
        let mut first_alert_at = None;
        while now < day_ms {
            let retry = backoff.failed(now, jitter);
            tries += 1;
            assert!(retry.wait <= MAX_RETRY, "{retry:?}");
            assert!(retry.wait >= FIRST_RETRY / 2, "{retry:?}");
            if retry.alert {
                alerts += 1;
                first_alert_at.get_or_insert(now);
            }
            now += retry.wait.as_millis() as i64;
            jitter = (jitter * 7.1).fract();
        }
        assert_eq!(alerts, 1, "one alert for one outage");
        let at = first_alert_at.unwrap();
        assert!(
            at >= alert_after.as_millis() as i64
                && at < alert_after.as_millis() as i64 + MAX_RETRY.as_millis() as i64
        );
        // At most one try per 2.5 min once backed off, at least one per 5 min.
        let most = day_ms / (MAX_RETRY.as_millis() as i64 / 2) + 20;
        let least = day_ms / MAX_RETRY.as_millis() as i64;
        assert!(
            (least..=most).contains(&(tries as i64)),
            "{tries} tries in a day"
        );

        // Back online: the next sync comes soon, and a new outage alerts again, once.
        assert_eq!(backoff.succeeded(), ONLINE_EVERY);
        let retry = backoff.failed(now, 0.0);
        assert_eq!(retry.wait, FIRST_RETRY / 2);
        assert!(!retry.alert);
        let later = backoff.failed(now + alert_after.as_millis() as i64, 0.5);
        assert!(later.alert);
        assert!(
            !backoff
                .failed(now + 2 * alert_after.as_millis() as i64, 0.5)
                .alert
        );
    }

    #[test]
    fn the_wait_doubles_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(3600));
        let waits: Vec<u64> = (0..10)
            .map(|i| backoff.failed(i, 0.999_999).wait.as_secs())
            .collect();
        assert_eq!(waits, [1, 3, 7, 15, 31, 63, 127, 255, 299, 299]);
    }
}
