//! Adaptive polling: use how long the stage's recent deployments took to sleep through the part
//! of a deployment where it is very unlikely to finish, poll densely where it probably finishes,
//! and back off again if it runs longer than the history suggests.
//!
//! Pure (the history, the elapsed time and the remaining time are passed in), so it can move into
//! `stagegate::backoff` as is. The history would be read once per gate run by start-deployment:
//! `Created -> LastUpdated` of the stage's few most recent successful DEPLOYs (COMPLETED with
//! SUCCESS), one GetStageDeployment each, since ListStageDeployments' summaries carry no
//! `Created`. Failed deployments are left out: when a deployment fails is not predictable from
//! when earlier ones succeeded.
//!
//! The estimate: `center` = median of the durations, `spread` = log-scale standard deviation of
//! the durations pooled with a prior (`prior_spread`, worth `prior_weight` observations) so one or
//! two agreeing samples do not make it overconfident, widened by `sqrt(1 + 1/n)` for predicting a
//! new deployment. The dense window is `center * exp(±coverage * spread)`.

use time::{Duration, OffsetDateTime};

/// Tunables of [`adaptive_next_wait_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveParams {
    /// Wait between polls inside the window. Detection latency there is at most this, so it is
    /// kept below fixed 10 s polling's p95 latency (9.5 s); waits are whole seconds.
    pub dense_wait: f64,
    /// Half-width of the window in spreads (2 covers about 95 % of a log-normal).
    pub coverage: f64,
    /// Spread (log-scale standard deviation) assumed before seeing the history.
    pub prior_spread: f64,
    /// How many observations the prior is worth.
    pub prior_weight: f64,
    /// The longest single wait before the window, so a deployment that fails early is still
    /// noticed within this many seconds.
    pub max_sleep: f64,
    /// After the window: wait = dense_wait + overrun_growth * (seconds past the window), up to
    /// `max_overrun_wait`.
    pub overrun_growth: f64,
    pub max_overrun_wait: f64,
    /// How many of the most recent durations are used.
    pub history_len: usize,
}

impl Default for AdaptiveParams {
    fn default() -> Self {
        Self {
            dense_wait: 9.0,
            coverage: 2.0,
            prior_spread: 0.2,
            prior_weight: 1.0,
            max_sleep: 300.0,
            overrun_growth: 0.25,
            max_overrun_wait: stagegate::backoff::MAX_WAIT_SECONDS as f64,
            history_len: 5,
        }
    }
}

/// Where the dense polling happens, in seconds since the deployment started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start: f64,
    pub end: f64,
}

/// The dense window for `history` (most recent first), or `None` when there is no usable
/// history (no finite, positive duration).
pub fn window(history: &[f64], p: &AdaptiveParams) -> Option<Window> {
    let mut logs: Vec<f64> = history
        .iter()
        .take(p.history_len.max(1))
        .copied()
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(f64::ln)
        .collect();
    if logs.is_empty() {
        return None;
    }
    logs.sort_by(f64::total_cmp);
    let n = logs.len();
    let center = if n % 2 == 1 {
        logs[n / 2]
    } else {
        (logs[n / 2 - 1] + logs[n / 2]) / 2.0
    };
    let mean = logs.iter().sum::<f64>() / n as f64;
    let sum_sq: f64 = logs.iter().map(|l| (l - mean).powi(2)).sum();
    // Pooled variance: the prior counts as prior_weight degrees of freedom, the data as n - 1.
    let dof = p.prior_weight.max(0.0) + (n - 1) as f64;
    let variance = if dof > 0.0 {
        (p.prior_weight.max(0.0) * p.prior_spread.powi(2) + sum_sq) / dof
    } else {
        p.prior_spread.powi(2)
    };
    let spread = variance.sqrt() * (1.0 + 1.0 / n as f64).sqrt();
    let half = p.coverage.max(0.0) * spread;
    Some(Window {
        start: (center - half).exp(),
        end: (center + half).exp(),
    })
}

/// Seconds to wait before the next poll, with the default [`AdaptiveParams`].
///
/// `history_durations`: the stage's recent successful deployment durations in seconds, most
/// recent first; `elapsed`: seconds since the deployment started; `attempt`: polls so far (0 for
/// the wait after the start); `remaining_to_deadline`: seconds left before the deadline;
/// `jitter_key`: the deployment id, for the backoff used when there is no history.
pub fn adaptive_next_wait(
    history_durations: &[f64],
    elapsed: f64,
    attempt: u32,
    remaining_to_deadline: f64,
    jitter_key: &str,
) -> u64 {
    adaptive_next_wait_with(
        &AdaptiveParams::default(),
        history_durations,
        elapsed,
        attempt,
        remaining_to_deadline,
        jitter_key,
    )
}

pub fn adaptive_next_wait_with(
    p: &AdaptiveParams,
    history_durations: &[f64],
    elapsed: f64,
    attempt: u32,
    remaining_to_deadline: f64,
    jitter_key: &str,
) -> u64 {
    let min = stagegate::backoff::MIN_WAIT_SECONDS as f64;
    let Some(w) = window(history_durations, p) else {
        return backoff_wait(attempt, jitter_key, remaining_to_deadline);
    };
    let elapsed = if elapsed.is_finite() {
        elapsed.max(0.0)
    } else {
        0.0
    };
    let dense = p.dense_wait.max(min);
    let wait = if elapsed + dense < w.start {
        // Before the window: sleep to its start, in steps of at most max_sleep.
        (w.start - elapsed).min(p.max_sleep.max(dense))
    } else if elapsed < w.end {
        dense
    } else {
        // Slower than the history says: back off from the dense rate.
        (dense + p.overrun_growth.max(0.0) * (elapsed - w.end)).min(p.max_overrun_wait.max(dense))
    };
    clamp_to_deadline(wait.round().max(min), remaining_to_deadline)
}

/// stagegate's own backoff, expressed in seconds to the deadline.
pub fn backoff_wait(attempt: u32, jitter_key: &str, remaining_to_deadline: f64) -> u64 {
    let now = OffsetDateTime::UNIX_EPOCH;
    let remaining = if remaining_to_deadline.is_finite() {
        remaining_to_deadline
    } else {
        0.0
    };
    let deadline = now + Duration::seconds_f64(remaining);
    stagegate::backoff::next_wait(attempt, jitter_key, now, deadline)
}

fn clamp_to_deadline(wait: f64, remaining: f64) -> u64 {
    let min = stagegate::backoff::MIN_WAIT_SECONDS as f64;
    let remaining = if remaining.is_finite() {
        remaining.ceil()
    } else {
        0.0
    };
    let w = if remaining < wait {
        remaining.max(min)
    } else {
        wait
    };
    w as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAR: f64 = 1e6;

    #[test]
    fn no_history_falls_back_to_the_backoff() {
        for attempt in 0..8 {
            assert_eq!(
                adaptive_next_wait(&[], 0.0, attempt, 1800.0, "dep-1"),
                backoff_wait(attempt, "dep-1", 1800.0)
            );
        }
        // Unusable entries count as no history.
        assert_eq!(
            adaptive_next_wait(&[f64::NAN, -5.0, 0.0], 40.0, 2, 1800.0, "dep-2"),
            backoff_wait(2, "dep-2", 1800.0)
        );
        let first = backoff_wait(0, "dep-1", FAR);
        assert!((8..=12).contains(&first), "{first}");
    }

    #[test]
    fn sleeps_to_the_window_then_polls_densely() {
        let history = [300.0, 310.0, 290.0, 305.0, 295.0];
        let p = AdaptiveParams::default();
        let w = window(&history, &p).unwrap();
        assert!(w.start > 180.0 && w.start < 300.0, "{w:?}");
        assert!(w.end > 300.0 && w.end < 450.0, "{w:?}");
        // First wait: straight to the window start (under max_sleep).
        let first = adaptive_next_wait(&history, 0.0, 0, 1800.0, "d");
        assert_eq!(first, w.start.round() as u64);
        // Inside the window: the dense wait.
        assert_eq!(adaptive_next_wait(&history, w.start, 1, 1800.0, "d"), 9);
        assert_eq!(adaptive_next_wait(&history, 300.0, 5, 1800.0, "d"), 9);
    }

    #[test]
    fn long_sleeps_are_split() {
        let history = [1150.0, 1180.0, 1120.0];
        let first = adaptive_next_wait(&history, 0.0, 0, 1800.0, "d");
        assert_eq!(first, 300);
        let second = adaptive_next_wait(&history, 300.0, 1, 1800.0, "d");
        assert_eq!(second, 300);
    }

    #[test]
    fn overrun_backs_off_up_to_the_cap() {
        let history = [100.0, 100.0, 100.0];
        let w = window(&history, &AdaptiveParams::default()).unwrap();
        let just_after = adaptive_next_wait(&history, w.end + 1.0, 9, 1800.0, "d");
        let later = adaptive_next_wait(&history, w.end + 100.0, 12, 1800.0, "d");
        let much_later = adaptive_next_wait(&history, w.end + 1000.0, 20, 1800.0, "d");
        assert!((9..=10).contains(&just_after), "{just_after}");
        assert!(later > just_after, "{later}");
        assert_eq!(much_later, 60);
    }

    #[test]
    fn never_waits_past_the_deadline() {
        let history = [600.0];
        assert_eq!(adaptive_next_wait(&history, 0.0, 0, 42.0, "d"), 42);
        assert_eq!(adaptive_next_wait(&history, 0.0, 0, 0.3, "d"), 1);
        assert_eq!(adaptive_next_wait(&history, 0.0, 0, -5.0, "d"), 1);
        assert_eq!(adaptive_next_wait(&[], 0.0, 3, 4.2, "d"), 5);
    }

    #[test]
    fn more_agreeing_history_narrows_the_window() {
        let p = AdaptiveParams::default();
        let one = window(&[300.0], &p).unwrap();
        let five = window(&[300.0; 5], &p).unwrap();
        assert!(five.end - five.start < one.end - one.start);
        // A scattered history widens it.
        let scattered = window(&[150.0, 450.0, 300.0, 200.0, 400.0], &p).unwrap();
        assert!(scattered.end - scattered.start > five.end - five.start);
    }

    #[test]
    fn only_the_most_recent_entries_count() {
        let p = AdaptiveParams {
            history_len: 2,
            ..AdaptiveParams::default()
        };
        assert_eq!(
            window(&[300.0, 300.0, 5000.0], &p),
            window(&[300.0, 300.0], &p)
        );
    }

    #[test]
    fn waits_are_always_at_least_one_second() {
        let history = [60.0, 61.0];
        for elapsed in [0.0, 30.0, 59.0, 60.0, 200.0, 5000.0] {
            for remaining in [0.0, 0.5, 10.0, 1800.0] {
                let w = adaptive_next_wait(&history, elapsed, 3, remaining, "k");
                assert!(w >= 1, "{elapsed} {remaining}");
            }
        }
    }
}
