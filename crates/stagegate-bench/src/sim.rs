//! Polling efficiency, simulated (no real time passes): how many Step Functions state
//! transitions each polling strategy spends per deployment, how late it notices the end, and what
//! that costs.
//!
//! The deployment model (fixed before looking at any strategy's results):
//! - each deployment belongs to a stage with a typical duration `T` (log-normal, median
//!   `stage_median` = 5 min, log-sd `stage_log_sd` = 0.6, clamped to 1.5-15 min): stages differ a
//!   lot, deployments of one stage much less;
//! - a deployment of that stage takes `T * exp(N(0, within_log_sd))` (0.15: about 15 % spread
//!   from one deployment to the next), clamped to 1-20 min;
//! - a few are not like the others: `fail_fast_rate` fail within 15-60 s (e.g. the stage role
//!   cannot be assumed), `fail_mid_rate` fail at a uniform 20-100 % of `T`, `slow_rate` take
//!   1.3-2x `T` (clamped to 20 min);
//! - the stage's history is its last 5 successful deployments, drawn from the same stage, so it
//!   is correlated with the current one through `T`; a young stage has fewer: none for
//!   `no_history_rate` (2 %: the first deployment to a new stage, where a stage deployed nightly
//!   is deployed about 365 times a year) and 1-4 for `short_history_rate` (8 %).
//!
//! A gate run: the Start task returns the first wait; each poll loop is Wait + Poll task + Route
//! choice (3 transitions); fixed overhead Accept, Start, Route, Notify, Finish, Succeed (6).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::adaptive::{adaptive_next_wait_with, AdaptiveParams};
use crate::stats;

pub const TRANSITIONS_PER_POLL: u64 = 3;
pub const FIXED_TRANSITIONS: u64 = 6;
pub const USD_PER_TRANSITION: f64 = 0.025 / 1000.0;
pub const USD_PER_GB_SECOND_ARM64: f64 = 0.000_013_333_4;
pub const USD_PER_REQUEST: f64 = 0.20 / 1_000_000.0;
pub const MEMORY_GB: f64 = 128.0 / 1024.0;

/// Written to bench/results.json as `polling_model` (as are `CostInputs` and `StrategyResult`):
/// its fields are part of that file's format (`results`' round-trip test).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub deployments: usize,
    pub seed: u64,
    pub stage_median: f64,
    pub stage_log_sd: f64,
    pub stage_min: f64,
    pub stage_max: f64,
    pub within_log_sd: f64,
    pub min_duration: f64,
    pub max_duration: f64,
    pub fail_fast_rate: f64,
    pub fail_mid_rate: f64,
    pub slow_rate: f64,
    pub no_history_rate: f64,
    pub short_history_rate: f64,
    pub max_history: usize,
    pub timeout_seconds: f64,
}

impl Default for Model {
    fn default() -> Self {
        Self {
            deployments: 20_000,
            seed: 20_261_126,
            stage_median: 300.0,
            stage_log_sd: 0.6,
            stage_min: 90.0,
            stage_max: 900.0,
            within_log_sd: 0.15,
            min_duration: 60.0,
            max_duration: 1200.0,
            fail_fast_rate: 0.02,
            fail_mid_rate: 0.03,
            slow_rate: 0.03,
            no_history_rate: 0.02,
            short_history_rate: 0.08,
            max_history: 5,
            timeout_seconds: stagegate::policy::DEFAULT_TIMEOUT_SECONDS as f64,
        }
    }
}

/// One simulated deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    /// Seconds from the start to the terminal state.
    pub duration: f64,
    /// The stage's recent successful durations, most recent first.
    pub history: Vec<f64>,
}

/// The workspace's one generator, from the plain SplitMix64 state the committed figures were
/// simulated with.
pub use gamesparks_local::rng::Rng;

fn successful_duration(m: &Model, rng: &mut Rng, typical: f64) -> f64 {
    // Among successes, the slow ones keep their share.
    let slow_share = m.slow_rate / (1.0 - m.fail_fast_rate - m.fail_mid_rate).max(1e-9);
    let d = if rng.next_f64() < slow_share {
        typical * rng.uniform(1.3, 2.0)
    } else {
        typical * (m.within_log_sd * rng.normal()).exp()
    };
    d.clamp(m.min_duration, m.max_duration)
}

pub fn deployments(m: &Model) -> Vec<Deployment> {
    let mut rng = Rng::from_state(m.seed);
    (0..m.deployments)
        .map(|_| {
            let typical = (m.stage_median * (m.stage_log_sd * rng.normal()).exp())
                .clamp(m.stage_min, m.stage_max);
            let h = rng.next_f64();
            let n_history = if h < m.no_history_rate {
                0
            } else if h < m.no_history_rate + m.short_history_rate && m.max_history > 1 {
                1 + (rng.next_u64() % (m.max_history - 1) as u64) as usize
            } else {
                m.max_history
            };
            let history = (0..n_history)
                .map(|_| successful_duration(m, &mut rng, typical))
                .collect();
            let r = rng.next_f64();
            let duration = if r < m.fail_fast_rate {
                rng.uniform(15.0, 60.0)
            } else if r < m.fail_fast_rate + m.fail_mid_rate {
                (typical * rng.uniform(0.2, 1.0)).clamp(15.0, m.max_duration)
            } else {
                successful_duration(m, &mut rng, typical)
            };
            Deployment {
                id: format!("dep-{:016x}", rng.next_u64()),
                duration: duration.min(m.timeout_seconds - 1.0),
                history,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    Fixed(u64),
    Backoff,
    Adaptive(AdaptiveParams),
}

impl Strategy {
    pub fn name(&self) -> String {
        match self {
            Self::Fixed(s) => format!("fixed_{s}s"),
            Self::Backoff => "backoff".into(),
            Self::Adaptive(_) => "adaptive".into(),
        }
    }

    /// Seconds to wait before the next poll.
    pub fn wait(&self, d: &Deployment, elapsed: f64, attempt: u32, remaining: f64) -> u64 {
        match self {
            Self::Fixed(s) => {
                let remaining = remaining.ceil().max(1.0) as u64;
                (*s).min(remaining).max(1)
            }
            Self::Backoff => {
                let now = OffsetDateTime::UNIX_EPOCH + Duration::seconds_f64(elapsed);
                let deadline =
                    OffsetDateTime::UNIX_EPOCH + Duration::seconds_f64(elapsed + remaining);
                stagegate::backoff::next_wait(attempt, &d.id, now, deadline)
            }
            Self::Adaptive(p) => {
                adaptive_next_wait_with(p, &d.history, elapsed, attempt, remaining, &d.id)
            }
        }
    }
}

/// How one gate run went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub polls: u64,
    /// Seconds from the deployment's end to the poll that saw it.
    pub latency: f64,
}

pub fn run(strategy: &Strategy, d: &Deployment, timeout: f64) -> Run {
    let mut elapsed = 0.0;
    let mut polls = 0u64;
    let mut attempt = 0u32;
    loop {
        let wait = strategy.wait(d, elapsed, attempt, timeout - elapsed) as f64;
        elapsed += wait;
        polls += 1;
        attempt = attempt.saturating_add(1);
        // A poll at or after the end sees the terminal state; at the deadline the gate stops.
        if elapsed >= d.duration || elapsed >= timeout {
            return Run {
                polls,
                latency: (elapsed - d.duration).max(0.0),
            };
        }
    }
}

/// Cost inputs measured by the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostInputs {
    /// Billed duration of one warm invocation, in ms (Lambda bills per 1 ms).
    pub billed_ms_per_invocation: f64,
    /// One GetStageDeployment round trip, ms: what reading each history entry adds to Start.
    pub history_read_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyResult {
    pub transitions_mean: f64,
    pub detection_latency_s_p95: f64,
    pub usd_per_1000: f64,
    pub polls_mean: f64,
    pub detection_latency_s_p50: f64,
    pub detection_latency_s_mean: f64,
    pub detection_latency_s_max: f64,
    pub lambda_invocations_mean: f64,
}

pub fn evaluate(
    strategy: &Strategy,
    ds: &[Deployment],
    m: &Model,
    cost: &CostInputs,
) -> StrategyResult {
    let mut transitions = Vec::with_capacity(ds.len());
    let mut latencies = Vec::with_capacity(ds.len());
    let mut polls = Vec::with_capacity(ds.len());
    let mut usd = 0.0;
    let billed = cost.billed_ms_per_invocation.max(1.0).ceil();
    for d in ds {
        let r = run(strategy, d, m.timeout_seconds);
        let t = FIXED_TRANSITIONS + TRANSITIONS_PER_POLL * r.polls;
        // Start + one per poll + Notify.
        let invocations = r.polls + 2;
        let mut billed_ms = billed * invocations as f64;
        if matches!(strategy, Strategy::Adaptive(_)) && !d.history.is_empty() {
            // Start reads the history: its invocation gets longer, rounded up to the next ms.
            let extra = cost.history_read_ms * d.history.len() as f64;
            billed_ms += (billed + extra).ceil() - billed;
        }
        usd += t as f64 * USD_PER_TRANSITION
            + invocations as f64 * USD_PER_REQUEST
            + billed_ms / 1000.0 * MEMORY_GB * USD_PER_GB_SECOND_ARM64;
        transitions.push(t as f64);
        latencies.push(r.latency);
        polls.push(r.polls as f64);
    }
    let n = ds.len().max(1) as f64;
    StrategyResult {
        transitions_mean: stats::mean(&transitions).unwrap_or(0.0),
        detection_latency_s_p95: stats::percentile(&latencies, 95.0).unwrap_or(0.0),
        usd_per_1000: usd / n * 1000.0,
        polls_mean: stats::mean(&polls).unwrap_or(0.0),
        detection_latency_s_p50: stats::median(&latencies).unwrap_or(0.0),
        detection_latency_s_mean: stats::mean(&latencies).unwrap_or(0.0),
        detection_latency_s_max: stats::max(&latencies).unwrap_or(0.0),
        lambda_invocations_mean: stats::mean(&polls).unwrap_or(0.0) + 2.0,
    }
}

pub fn strategies() -> Vec<Strategy> {
    vec![
        Strategy::Fixed(10),
        Strategy::Fixed(30),
        Strategy::Backoff,
        Strategy::Adaptive(AdaptiveParams::default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(duration: f64, history: Vec<f64>) -> Deployment {
        Deployment {
            id: "dep-0000000000000001".into(),
            duration,
            history,
        }
    }

    #[test]
    fn fixed_polling_counts_and_latency() {
        let r = run(&Strategy::Fixed(10), &dep(95.0, vec![]), 1800.0);
        assert_eq!(r.polls, 10);
        assert_eq!(r.latency, 5.0);
        // Ending exactly on a poll is seen by that poll.
        let r = run(&Strategy::Fixed(30), &dep(90.0, vec![]), 1800.0);
        assert_eq!((r.polls, r.latency), (3, 0.0));
    }

    #[test]
    fn the_deadline_stops_the_loop() {
        let r = run(&Strategy::Fixed(30), &dep(5000.0, vec![]), 100.0);
        assert_eq!(r.polls, 4); // 30, 60, 90, then 10 to the deadline
    }

    #[test]
    fn backoff_uses_the_library_schedule() {
        let d = dep(1000.0, vec![]);
        let s = Strategy::Backoff;
        let first = s.wait(&d, 0.0, 0, 1800.0);
        assert_eq!(
            first,
            stagegate::backoff::next_wait(
                0,
                &d.id,
                OffsetDateTime::UNIX_EPOCH,
                OffsetDateTime::UNIX_EPOCH + Duration::seconds(1800)
            )
        );
        assert!(s.wait(&d, 900.0, 30, 900.0) <= 60);
    }

    #[test]
    fn adaptive_beats_fixed_10_on_a_predictable_stage() {
        let history = vec![300.0, 305.0, 295.0, 302.0, 298.0];
        let d = dep(301.0, history);
        let a = run(&Strategy::Adaptive(AdaptiveParams::default()), &d, 1800.0);
        let f = run(&Strategy::Fixed(10), &d, 1800.0);
        assert!(a.polls * 2 < f.polls, "{a:?} vs {f:?}");
        assert!(a.latency <= 8.0, "{a:?}");
    }

    #[test]
    fn model_is_reproducible_and_in_range() {
        let m = Model {
            deployments: 2000,
            ..Model::default()
        };
        let a = deployments(&m);
        assert_eq!(a, deployments(&m));
        assert!(a.iter().all(|d| d.duration >= 15.0 && d.duration <= 1200.0));
        assert!(a.iter().all(|d| d.history.len() <= 5));
        let no_history = a.iter().filter(|d| d.history.is_empty()).count();
        assert!((15..80).contains(&no_history), "{no_history}");
        let full = a.iter().filter(|d| d.history.len() == 5).count();
        assert!((1700..1900).contains(&full), "{full}");
        let mean = a.iter().map(|d| d.duration).sum::<f64>() / a.len() as f64;
        assert!((200.0..500.0).contains(&mean), "{mean}");
    }

    #[test]
    fn rng_is_uniform_enough() {
        let mut r = Rng::from_state(1);
        let v: Vec<f64> = (0..10_000).map(|_| r.next_f64()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((0.48..0.52).contains(&mean));
        let n: Vec<f64> = (0..10_000).map(|_| r.normal()).collect();
        let m = n.iter().sum::<f64>() / n.len() as f64;
        let sd = (n.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n.len() as f64).sqrt();
        assert!(m.abs() < 0.05 && (sd - 1.0).abs() < 0.05, "{m} {sd}");
    }

    #[test]
    fn cost_adds_up() {
        let m = Model::default();
        let ds = vec![dep(95.0, vec![])];
        let c = CostInputs {
            billed_ms_per_invocation: 1.0,
            history_read_ms: 0.5,
        };
        let r = evaluate(&Strategy::Fixed(10), &ds, &m, &c);
        assert_eq!(r.transitions_mean, 36.0);
        let expected = 36.0 * USD_PER_TRANSITION
            + 12.0 * USD_PER_REQUEST
            + 12.0 / 1000.0 * MEMORY_GB * USD_PER_GB_SECOND_ARM64;
        assert!((r.usd_per_1000 - expected * 1000.0).abs() < 1e-12);
    }
}
