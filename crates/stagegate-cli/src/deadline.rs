//! When `follow` stops waiting for a run. A fixed default (16,500 s) was shorter than one stage at
//! the policy's limits and than one approval, so a CI job gave up on runs doing exactly what they
//! were asked. The default now comes from the run itself: its input, parsed by the gate's own
//! parser, says the longest its waits can add up to (`GateRequest::longest_run_seconds`), counted
//! from the execution's start, plus `MARGIN_SECONDS` for the tasks between the waits. `--timeout`
//! stays an explicit override, counted from when `follow` starts, as before. An input that cannot
//! be read (an implementation that does not return it, or not a gate input) falls back to the
//! workflow's own backstop, `FALLBACK_SECONDS`: no run outlives it, so following never gives up
//! on a run that is still legitimately running.

use std::time::{Duration, SystemTime};

use serde_json::Value;

/// The tasks between the waits (start, polls, advance, notify) and their retries: the
/// workflow's Retry blocks add up to minutes; half an hour leaves room for a slow region.
pub const MARGIN_SECONDS: u64 = 1_800;
/// The state machine's `TimeoutSeconds` (infra/statemachine/deployment-gate.asl.json; a test
/// holds them equal): the longest any execution of the gate can last.
pub const FALLBACK_SECONDS: u64 = 561_600;

/// Where the deadline came from, for the message when `follow` gives up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// `--timeout`, counted from when `follow` started.
    Timeout(u64),
    /// The run's limits (`longest_run_seconds`) plus the margin, from the execution's start.
    RunLimits(u64),
    /// The input could not be read: the workflow's backstop, from the execution's start.
    Fallback,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub at: SystemTime,
    pub basis: Basis,
}

impl Deadline {
    /// Why following stops at this deadline, as the give-up message says it.
    pub fn explain(&self) -> String {
        match self.basis {
            Basis::Timeout(s) => format!("--timeout {s} s"),
            Basis::RunLimits(s) => format!(
                "the run's own limits: {s} s of waits and {MARGIN_SECONDS} s of margin from its \
                 start; --timeout overrides"
            ),
            Basis::Fallback => format!(
                "its input could not be read: the workflow's limit of {FALLBACK_SECONDS} s from \
                 its start; --timeout overrides"
            ),
        }
    }
}

/// The deadline of following a run: `timeout` if given (from `now`), else from the run's
/// `input` (the execution input, either form the start function accepts) and its start
/// (`started_at`; unknown: `now`).
pub fn deadline(
    timeout: Option<u64>,
    input: Option<&str>,
    started_at: Option<SystemTime>,
    now: SystemTime,
) -> Deadline {
    let after = |from: SystemTime, seconds: u64| {
        from.checked_add(Duration::from_secs(seconds))
            .unwrap_or(from)
    };
    if let Some(seconds) = timeout {
        return Deadline {
            at: after(now, seconds),
            basis: Basis::Timeout(seconds),
        };
    }
    let start = started_at.unwrap_or(now);
    let longest = input
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|value| stagegate::input::parse_start_event(&value).ok())
        .map(|event| event.request.longest_run_seconds());
    match longest {
        Some(seconds) => Deadline {
            at: after(start, seconds.saturating_add(MARGIN_SECONDS)),
            basis: Basis::RunLimits(seconds),
        },
        None => Deadline {
            at: after(start, FALLBACK_SECONDS),
            basis: Basis::Fallback,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    fn at(seconds: u64) -> SystemTime {
        T0 + Duration::from_secs(seconds)
    }

    #[test]
    fn the_run_s_limits_count_from_its_start() {
        let input = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest",
            "approval": {"timeoutSeconds": 86400}}"#;
        // Followed an hour after it started: the deadline does not move with the follower.
        let d = deadline(None, Some(input), Some(at(0)), at(3600));
        let longest = 86_400 + 4 * 1800;
        assert_eq!(d.basis, Basis::RunLimits(longest));
        assert_eq!(d.at, at(longest + MARGIN_SECONDS));
        assert!(
            d.at > at(16_500),
            "longer than the old fixed default: an approval alone is a day"
        );
        // The start function's wrapped form reads the same.
        let wrapped = format!(r#"{{"input": {input}}}"#);
        assert_eq!(deadline(None, Some(&wrapped), Some(at(0)), at(3600)), d);
    }

    #[test]
    fn timeout_overrides_from_now_and_unreadable_input_falls_back() {
        let input = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#;
        let d = deadline(Some(600), Some(input), Some(at(0)), at(50));
        assert_eq!((d.at, d.basis), (at(650), Basis::Timeout(600)));
        for unreadable in [None, Some("not json"), Some(r#"{"gameName": "g"}"#)] {
            let d = deadline(None, unreadable, Some(at(10)), at(50));
            assert_eq!(
                (d.at, &d.basis),
                (at(10 + FALLBACK_SECONDS), &Basis::Fallback),
                "{unreadable:?}"
            );
            assert!(
                d.explain().contains("--timeout overrides"),
                "{}",
                d.explain()
            );
        }
        // No start known: from now.
        let d = deadline(None, Some(input), None, at(50));
        assert_eq!(d.at, at(50 + 4 * 1800 + MARGIN_SECONDS));
    }

    #[test]
    fn the_fallback_is_the_workflow_s_own_limit() {
        let asl: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/statemachine/deployment-gate.asl.json"
        )))
        .unwrap_or_default();
        assert_eq!(asl["TimeoutSeconds"].as_u64(), Some(FALLBACK_SECONDS));
    }
}
