//! How long the workflow waits before the next poll, and when a deployment's time is up.
//!
//! Waits grow geometrically from `INITIAL_WAIT_SECONDS` to `MAX_WAIT_SECONDS` so a quick
//! deployment is noticed quickly and a slow one costs few state transitions. Jitter keeps many
//! gates started by one schedule from polling in lockstep; it is derived from the deployment id
//! and attempt, so a retried poll computes the same wait and tests are exact.

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

pub const INITIAL_WAIT_SECONDS: f64 = 10.0;
pub const GROWTH: f64 = 1.5;
pub const MAX_WAIT_SECONDS: u64 = 60;
/// Each wait is scaled by a factor in [1 - JITTER, 1 + JITTER).
pub const JITTER: f64 = 0.2;
/// Step Functions' Wait accepts 0, but polling again at once is pointless.
pub const MIN_WAIT_SECONDS: u64 = 1;

/// The deadline of a deployment started at `started_at`.
pub fn deadline(started_at: OffsetDateTime, timeout_seconds: u64) -> OffsetDateTime {
    let secs = i64::try_from(timeout_seconds).unwrap_or(i64::MAX);
    started_at.saturating_add(Duration::seconds(secs))
}

/// Seconds to wait before poll number `attempt + 1` (attempt 0 is the wait after the start),
/// capped at `MAX_WAIT_SECONDS` and never past `deadline`: the poll that lands on the deadline
/// is the one that reports TIMED_OUT.
pub fn next_wait(
    attempt: u32,
    jitter_key: &str,
    now: OffsetDateTime,
    deadline: OffsetDateTime,
) -> u64 {
    let base = INITIAL_WAIT_SECONDS * GROWTH.powi(attempt.min(64) as i32);
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit_interval(jitter_key, attempt);
    let wait = (base * factor)
        .round()
        .clamp(MIN_WAIT_SECONDS as f64, MAX_WAIT_SECONDS as f64) as u64;
    let remaining = (deadline - now).as_seconds_f64().ceil();
    if remaining < wait as f64 {
        (remaining.max(MIN_WAIT_SECONDS as f64)) as u64
    } else {
        wait
    }
}

/// The most polls one phase takes, counted by running the real `next_wait` the way
/// poll-deployment does (waits land on the deadline, then run to the grace end) for `keys`
/// deployment ids, whose jitter differs: the history-limit tests rest on this, so a change to the
/// backoff changes what they count.
#[cfg(test)]
pub(crate) fn most_polls(timeout_seconds: u64, grace_seconds: u64, keys: u32) -> u64 {
    let start = OffsetDateTime::UNIX_EPOCH;
    let deadline = deadline(start, timeout_seconds);
    let grace_end = self::deadline(deadline, grace_seconds);
    (0..keys)
        .map(|k| {
            let key = format!("dep-{k}");
            let (mut now, mut polls) = (start, 0u64);
            while now < grace_end {
                let horizon = if now < deadline { deadline } else { grace_end };
                let attempt = u32::try_from(polls).unwrap_or(u32::MAX);
                let wait = next_wait(attempt, &key, now, horizon);
                now += Duration::seconds(i64::try_from(wait).unwrap_or(i64::MAX));
                polls += 1;
            }
            polls
        })
        .max()
        .unwrap_or(0)
}

fn unit_interval(key: &str, attempt: u32) -> f64 {
    let digest = Sha256::new()
        .chain_update(key.as_bytes())
        .chain_update(attempt.to_be_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 53 bits fill an f64 mantissa exactly, so the result is uniform in [0, 1).
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
    const FAR: OffsetDateTime = datetime!(2026-01-02 00:00:00 UTC);

    #[test]
    fn waits_grow_then_cap_within_jitter() {
        let expected_base = [10.0, 15.0, 22.5, 33.75, 50.625, 60.0, 60.0, 60.0];
        for (attempt, base) in expected_base.iter().enumerate() {
            let w = next_wait(attempt as u32, "dep-1", NOW, FAR) as f64;
            let lo = (base * (1.0 - JITTER)).round().min(MAX_WAIT_SECONDS as f64);
            let hi = (base * (1.0 + JITTER)).round().min(MAX_WAIT_SECONDS as f64);
            assert!(
                (lo..=hi).contains(&w),
                "attempt {attempt}: {w} not in {lo}..={hi}"
            );
        }
    }

    #[test]
    fn jitter_spreads_waits_over_the_whole_band_and_no_further() {
        // Many deployments started by one schedule: at each attempt below the cap, their waits
        // fill [base x (1 - JITTER), base x (1 + JITTER)] (rounded), both ends reached, none
        // outside.
        for (attempt, base) in [(0, 10.0), (1, 15.0), (2, 22.5)] {
            let waits: Vec<u64> = (0..2_000)
                .map(|k| next_wait(attempt, &format!("dep-{k}"), NOW, FAR))
                .collect();
            let lo = (base * (1.0 - JITTER)).round() as u64;
            let hi = (base * (1.0 + JITTER)).round() as u64;
            let (min, max) = (waits.iter().min(), waits.iter().max());
            assert_eq!((min, max), (Some(&lo), Some(&hi)), "attempt {attempt}");
        }
    }

    #[test]
    fn never_above_cap_even_for_huge_attempts() {
        for attempt in [20, 100, u32::MAX] {
            assert!(next_wait(attempt, "k", NOW, FAR) <= MAX_WAIT_SECONDS);
        }
    }

    #[test]
    fn jitter_is_deterministic_and_varies() {
        assert_eq!(
            next_wait(3, "dep-a", NOW, FAR),
            next_wait(3, "dep-a", NOW, FAR)
        );
        let distinct: std::collections::BTreeSet<u64> = (0..40)
            .map(|i| next_wait(2, &format!("dep-{i}"), NOW, FAR))
            .collect();
        assert!(
            distinct.len() > 3,
            "jitter should spread waits: {distinct:?}"
        );
    }

    #[test]
    fn never_waits_past_the_deadline() {
        let cases = [
            (Duration::seconds(5), 5),
            (Duration::milliseconds(4_200), 5),
            (Duration::milliseconds(300), 1),
            (Duration::ZERO, 1),
            (Duration::seconds(-30), 1),
        ];
        for (remaining, want) in cases {
            assert_eq!(
                next_wait(6, "k", NOW, NOW + remaining),
                want,
                "remaining {remaining}"
            );
        }
    }

    #[test]
    fn deadline_adds_timeout_and_saturates() {
        assert_eq!(deadline(NOW, 1800), datetime!(2026-01-01 00:30:00 UTC));
        // A timeout past any date saturates at the latest date instead of panicking.
        let far = deadline(NOW, u64::MAX);
        assert!(far > deadline(NOW, 1_000 * 365 * 86_400), "{far}");
        assert_eq!(far, deadline(far, 1), "already at the latest date");
    }

    #[test]
    fn longest_deadline_polls_stay_far_below_history_limit() {
        let max = crate::policy::MAX_TIMEOUT_SECONDS;
        // The default 1,800 + 1,800 s and the longest timeout and grace window (the table in
        // docs/workflow.md), over 500 deployment ids' jitter.
        let default = most_polls(1800, 1800, 500);
        let longest = most_polls(max, max, 500);
        assert!(
            (55..=64).contains(&default),
            "{default} polls at the default"
        );
        assert!(
            (200..=244).contains(&longest),
            "{longest} polls at the longest"
        );
        // About 9 history events per poll loop (Wait, Task, Choice), two phases (deploy and
        // rollback), plus a few dozen for start, notify and retries.
        let events = 2 * longest * 9 + 100;
        assert!(events < 5_000, "{longest} polls -> {events} events");
    }

    #[test]
    fn unit_interval_is_in_range() {
        for i in 0..1000 {
            let u = unit_interval(&i.to_string(), i);
            assert!((0.0..1.0).contains(&u));
        }
    }
}
