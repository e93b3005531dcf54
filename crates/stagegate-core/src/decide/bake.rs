//! The bake window: after a deployment succeeds, CloudWatch alarms are watched for a while before
//! the stage counts as good. An alarm in ALARM (or INSUFFICIENT_DATA, if the input says so), or
//! alarms that cannot be read, fail the bake; the failure policy then applies as for a failed
//! deployment.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub const MIN_BAKE_SECONDS: u64 = 30;
pub const MAX_BAKE_SECONDS: u64 = 7200;
pub const DEFAULT_CHECK_INTERVAL_SECONDS: u64 = 30;
pub const MIN_CHECK_INTERVAL_SECONDS: u64 = 10;
pub const MAX_CHECK_INTERVAL_SECONDS: u64 = 300;
/// Each check costs 9 history events; this bounds a bake like `policy::MAX_TIMEOUT_SECONDS`
/// bounds a deployment (see `budget` tests).
pub const MAX_CHECKS: u64 = 120;
/// DescribeAlarms takes at most 100 names.
pub const MAX_ALARMS: usize = 100;
pub const MAX_ALARM_NAME_CHARS: usize = 255;
/// The alarm names of one run together, in UTF-8 bytes: the gate state and the message carry
/// them, and Step Functions and SNS count bytes. As much as 100 ASCII names of 255 characters.
pub const MAX_ALARM_NAME_BYTES_PER_RUN: usize = MAX_ALARMS * MAX_ALARM_NAME_CHARS;

/// A bake as the input asks for it (defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BakeSpec {
    pub seconds: u64,
    pub alarm_names: Vec<String>,
    pub check_interval_seconds: u64,
    /// INSUFFICIENT_DATA fails the bake (default: it does not; a new metric often has no data).
    pub fail_on_insufficient_data: bool,
    /// Alarms that cannot be read (or do not exist) do not fail the bake; by default they do.
    pub ignore_alarm_read_errors: bool,
}

impl BakeSpec {
    /// How many checks a full window takes (the last one at its end).
    pub fn checks(&self) -> u64 {
        self.seconds.div_ceil(self.check_interval_seconds.max(1))
    }

    /// The name of the alarm at `index` in `alarmNames`; a state edited by hand may point past
    /// the end, which names it as such instead of panicking.
    pub fn name(&self, index: usize) -> &str {
        self.alarm_names
            .get(index)
            .map_or("(no such alarm)", String::as_str)
    }

    /// The readings with their alarms' names, for the notification and the logs.
    pub fn named(&self, readings: &[AlarmReading]) -> Vec<AlarmStatus> {
        readings
            .iter()
            .map(|r| AlarmStatus {
                name: self.name(r.alarm).to_owned(),
                state: r.state.clone(),
                reason: r.reason.clone(),
                updated_at: r.updated_at,
            })
            .collect()
    }
}

/// An alarm's state as CloudWatch reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlarmStatus {
    pub name: String,
    /// `OK`, `ALARM`, `INSUFFICIENT_DATA` (anything else is treated as failing).
    pub state: String,
    pub reason: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub updated_at: Option<OffsetDateTime>,
}

/// One alarm at one check, as the gate state keeps it. The state stores each alarm name once (in
/// the bake's `alarmNames`) and refers to it by position: names run to 255 four-byte characters,
/// and every copy of a hundred of them costs a tenth of Step Functions' 256 KiB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmReading {
    /// Its position in the bake's `alarmNames`.
    pub alarm: usize,
    pub state: String,
    pub reason: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

pub const OK: &str = "OK";
pub const ALARM: &str = "ALARM";
pub const INSUFFICIENT_DATA: &str = "INSUFFICIENT_DATA";

/// Why a bake failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BakeFailure {
    /// The alarm that failed the bake (the first failing one in `alarmNames` order, by its
    /// position there); null when the alarms could not be read.
    #[serde(default)]
    pub alarm: Option<usize>,
    pub alarm_state: Option<String>,
    /// CloudWatch's state reason, or what went wrong reading the alarms.
    pub reason: String,
    /// When the alarm entered its state (CloudWatch's StateUpdatedTimestamp), else when the gate
    /// saw it.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub detected_at: OffsetDateTime,
    /// Every alarm that was failing at that check, by position in `alarmNames`.
    #[serde(default)]
    pub failing: Vec<usize>,
}

/// A bake failure with its alarms' names: the notification's `bakeWindow.failure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct NamedFailure {
    pub alarm_name: Option<String>,
    pub alarm_state: Option<String>,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub detected_at: OffsetDateTime,
    pub failing_alarms: Vec<String>,
}

impl BakeFailure {
    pub fn named(&self, spec: &BakeSpec) -> NamedFailure {
        NamedFailure {
            alarm_name: self.alarm.map(|i| spec.name(i).to_owned()),
            alarm_state: self.alarm_state.clone(),
            reason: self.reason.clone(),
            at: self.at,
            detected_at: self.detected_at,
            failing_alarms: self
                .failing
                .iter()
                .map(|&i| spec.name(i).to_owned())
                .collect(),
        }
    }
}

/// A bake in progress (or finished).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BakeWindow {
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    pub checks: u32,
    /// The alarms at the last check. (Named `readings`, not the notification's `alarms`, so a
    /// state written before alarms were kept by position still parses.)
    #[serde(default)]
    pub readings: Vec<AlarmReading>,
    /// Checks whose reading failed and was ignored (`ignoreAlarmReadErrors`).
    pub ignored_read_errors: u32,
    pub last_read_error: Option<String>,
    pub failure: Option<BakeFailure>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub passed_at: Option<OffsetDateTime>,
}

/// A bake window with its alarms' names: the notification's `bakeWindow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct NamedWindow {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub ends_at: OffsetDateTime,
    pub checks: u32,
    pub alarms: Vec<AlarmStatus>,
    pub ignored_read_errors: u32,
    pub last_read_error: Option<String>,
    pub failure: Option<NamedFailure>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub passed_at: Option<OffsetDateTime>,
}

impl BakeWindow {
    pub fn named(&self, spec: &BakeSpec) -> NamedWindow {
        NamedWindow {
            started_at: self.started_at,
            ends_at: self.ends_at,
            checks: self.checks,
            alarms: spec.named(&self.readings),
            ignored_read_errors: self.ignored_read_errors,
            last_read_error: self.last_read_error.clone(),
            failure: self.failure.as_ref().map(|f| f.named(spec)),
            passed_at: self.passed_at,
        }
    }
}

/// What the gate does after a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BakeStep {
    /// Check again after this many seconds.
    Continue(u64),
    Passed,
    Failed(BakeFailure),
}

/// Opens the window when the deployment is seen to succeed; returns it with the wait before the
/// first check.
pub fn open(spec: &BakeSpec, now: OffsetDateTime) -> (BakeWindow, u64) {
    let window = BakeWindow {
        started_at: now,
        ends_at: now + Duration::seconds(i64::try_from(spec.seconds).unwrap_or(i64::MAX)),
        checks: 0,
        readings: vec![],
        ignored_read_errors: 0,
        last_read_error: None,
        failure: None,
        passed_at: None,
    };
    let wait = next_wait(spec, &window, now);
    (window, wait)
}

/// The wait before the next check: the interval, cut short so the last check lands on the
/// window's end.
pub fn next_wait(spec: &BakeSpec, window: &BakeWindow, now: OffsetDateTime) -> u64 {
    let remaining = (window.ends_at - now).whole_seconds().max(0).unsigned_abs();
    spec.check_interval_seconds.min(remaining).max(1)
}

/// Records one check of the alarms and decides the next step. `reading` is the alarms that exist,
/// or why they could not be read.
pub fn check(
    spec: &BakeSpec,
    window: &mut BakeWindow,
    reading: Result<Vec<AlarmStatus>, String>,
    now: OffsetDateTime,
) -> BakeStep {
    window.checks = window.checks.saturating_add(1);
    let read_error = match reading {
        Err(e) => Some(e),
        Ok(found) => {
            let missing = missing_alarms(spec, &found);
            // Keep the input's order, so "the first failing alarm" is stable.
            window.readings = kept(spec, &found);
            (!missing.is_empty()).then(|| format!("alarm(s) not found: {}", missing.join(", ")))
        }
    };
    if let Some(error) = read_error {
        if !spec.ignore_alarm_read_errors {
            let failure = BakeFailure {
                alarm: None,
                alarm_state: None,
                reason: format!("the alarms could not be read ({error}); a bake that cannot see its alarms fails safe"),
                at: now,
                detected_at: now,
                failing: vec![],
            };
            window.failure = Some(failure.clone());
            return BakeStep::Failed(failure);
        }
        window.ignored_read_errors = window.ignored_read_errors.saturating_add(1);
        window.last_read_error = Some(error);
    }
    let failing: Vec<&AlarmReading> = window
        .readings
        .iter()
        .filter(|a| is_failing(spec, &a.state))
        .collect();
    if let Some(first) = failing.first() {
        let failure = BakeFailure {
            alarm: Some(first.alarm),
            alarm_state: Some(first.state.clone()),
            reason: first
                .reason
                .clone()
                .unwrap_or_else(|| "CloudWatch gave no reason".into()),
            at: first.updated_at.unwrap_or(now),
            detected_at: now,
            failing: failing.iter().map(|a| a.alarm).collect(),
        };
        window.failure = Some(failure.clone());
        return BakeStep::Failed(failure);
    }
    if now >= window.ends_at {
        window.passed_at = Some(now);
        BakeStep::Passed
    } else {
        BakeStep::Continue(next_wait(spec, window, now))
    }
}

/// CloudWatch's state reasons run to 1,023 characters; a hundred of them would crowd the gate
/// state and the notification toward their 256 KiB limits. Kept in UTF-8 bytes, the unit those
/// limits count.
pub const MAX_REASON_BYTES: usize = 256;

/// `text` cut to at most `max` bytes, on a character boundary.
pub fn truncate_bytes(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The alarms of `spec` in its order, by position, reasons shortened, for keeping in the gate
/// state.
pub fn kept(spec: &BakeSpec, found: &[AlarmStatus]) -> Vec<AlarmReading> {
    spec.alarm_names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((i, found.iter().find(|a| &a.name == n)?)))
        .map(|(alarm, a)| AlarmReading {
            alarm,
            state: a.state.clone(),
            reason: a
                .reason
                .as_ref()
                .map(|r| truncate_bytes(r, MAX_REASON_BYTES)),
            updated_at: a.updated_at,
        })
        .collect()
}

/// At most five names, then how many more: an error message (and the Fail state's Cause it
/// becomes), or a dry run's problem, stays short whatever the input listed.
pub fn first_few<S: AsRef<str>>(names: &[S]) -> String {
    const SHOWN: usize = 5;
    let shown: Vec<&str> = names.iter().take(SHOWN).map(AsRef::as_ref).collect();
    match names.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The bake's alarm names CloudWatch did not return.
pub fn missing_alarms<'a>(spec: &'a BakeSpec, found: &[AlarmStatus]) -> Vec<&'a str> {
    spec.alarm_names
        .iter()
        .filter(|n| !found.iter().any(|a| &a.name == *n))
        .map(String::as_str)
        .collect()
}

/// Whether an alarm state fails the bake. States CloudWatch may add later fail it too: a bake
/// that cannot tell should not pass.
pub fn is_failing(spec: &BakeSpec, state: &str) -> bool {
    match state {
        OK => false,
        INSUFFICIENT_DATA => spec.fail_on_insufficient_data,
        _ => true,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

    /// A 300 s bake over `names`, checked every 60 s (also used by `plan` tests).
    pub(crate) fn spec(names: &[&str]) -> BakeSpec {
        BakeSpec {
            seconds: 300,
            alarm_names: names.iter().map(|s| (*s).to_owned()).collect(),
            check_interval_seconds: 60,
            fail_on_insufficient_data: false,
            ignore_alarm_read_errors: false,
        }
    }

    pub(crate) fn alarm(name: &str, state: &str) -> AlarmStatus {
        AlarmStatus {
            name: name.into(),
            state: state.into(),
            reason: Some(format!("{name} is {state}")),
            updated_at: Some(T0 - Duration::seconds(5)),
        }
    }

    fn at(s: i64) -> OffsetDateTime {
        T0 + Duration::seconds(s)
    }

    #[test]
    fn passes_after_the_window_with_quiet_alarms() {
        let spec = spec(&["a", "b"]);
        let (mut w, first) = open(&spec, T0);
        assert_eq!(first, 60);
        assert_eq!(w.ends_at, at(300));
        for s in [60, 120, 180, 240] {
            let step = check(
                &spec,
                &mut w,
                Ok(vec![alarm("b", OK), alarm("a", INSUFFICIENT_DATA)]),
                at(s),
            );
            assert_eq!(step, BakeStep::Continue(60), "at {s}");
        }
        // The last wait is cut to the window's end.
        assert_eq!(
            check(
                &spec,
                &mut w,
                Ok(vec![alarm("a", OK), alarm("b", OK)]),
                at(270)
            ),
            BakeStep::Continue(30)
        );
        assert_eq!(
            check(
                &spec,
                &mut w,
                Ok(vec![alarm("a", OK), alarm("b", OK)]),
                at(300)
            ),
            BakeStep::Passed
        );
        assert_eq!(w.passed_at, Some(at(300)));
        assert_eq!(w.checks, 6);
        let names: Vec<String> = spec
            .named(&w.readings)
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["a", "b"], "kept in the input's order");
        let mut long = alarm("a", OK);
        long.reason = Some("x".repeat(2000));
        assert_eq!(
            kept(&spec, &[long])
                .first()
                .and_then(|a| a.reason.as_ref())
                .map(String::len),
            Some(MAX_REASON_BYTES)
        );
        // Cut in bytes, on a character boundary: 64 four-byte characters fit, not 65.
        let mut wide = alarm("a", OK);
        wide.reason = Some("\u{1F600}".repeat(1023));
        let cut = kept(&spec, &[wide])
            .first()
            .and_then(|a| a.reason.clone())
            .unwrap_or_default();
        assert_eq!((cut.len(), cut.chars().count()), (256, 64));
        assert_eq!(
            truncate_bytes("a\u{e9}", 2),
            "a",
            "never splits a character"
        );
    }

    #[test]
    fn an_alarm_fails_the_bake_and_says_which_and_when() {
        let spec = spec(&["latency", "errors", "crashes"]);
        let (mut w, _) = open(&spec, T0);
        let step = check(
            &spec,
            &mut w,
            Ok(vec![
                alarm("crashes", ALARM),
                alarm("latency", OK),
                alarm("errors", ALARM),
            ]),
            at(60),
        );
        let BakeStep::Failed(f) = step else {
            panic!("not failed: {step:?}")
        };
        assert_eq!(f.alarm, Some(1));
        assert_eq!(f.named(&spec).alarm_name.as_deref(), Some("errors"));
        assert_eq!(f.alarm_state.as_deref(), Some(ALARM));
        assert_eq!(f.at, T0 - Duration::seconds(5));
        assert_eq!(f.detected_at, at(60));
        assert_eq!(f.failing, [1, 2]);
        assert_eq!(f.named(&spec).failing_alarms, ["errors", "crashes"]);
        assert_eq!(f.reason, "errors is ALARM");
        assert_eq!(w.failure, Some(f));
    }

    #[test]
    fn state_table() {
        let cases = [
            (OK, false, false),
            (OK, true, false),
            (ALARM, false, true),
            (INSUFFICIENT_DATA, false, false),
            (INSUFFICIENT_DATA, true, true),
            ("SOMETHING_NEW", false, true),
        ];
        for (state, insufficient_fails, want) in cases {
            let mut s = spec(&["a"]);
            s.fail_on_insufficient_data = insufficient_fails;
            assert_eq!(is_failing(&s, state), want, "{state} {insufficient_fails}");
        }
    }

    #[test]
    fn unreadable_or_missing_alarms_fail_safe() {
        let spec = spec(&["a", "b"]);
        let (mut w, _) = open(&spec, T0);
        let step = check(&spec, &mut w, Err("AccessDenied".into()), at(60));
        assert!(
            matches!(&step, BakeStep::Failed(f) if f.alarm.is_none() && f.reason.contains("AccessDenied")),
            "{step:?}"
        );
        let (mut w, _) = open(&spec, T0);
        let step = check(&spec, &mut w, Ok(vec![alarm("a", OK)]), at(60));
        assert!(
            matches!(&step, BakeStep::Failed(f) if f.reason.contains("not found: b")),
            "{step:?}"
        );
    }

    #[test]
    fn read_errors_can_be_ignored_but_are_counted() {
        let mut spec = spec(&["a", "b"]);
        spec.ignore_alarm_read_errors = true;
        let (mut w, _) = open(&spec, T0);
        assert_eq!(
            check(&spec, &mut w, Err("throttled".into()), at(60)),
            BakeStep::Continue(60)
        );
        // A missing alarm is ignored, but one that can be read still fails the bake.
        let step = check(&spec, &mut w, Ok(vec![alarm("a", ALARM)]), at(120));
        assert!(matches!(step, BakeStep::Failed(_)), "{step:?}");
        assert_eq!(w.ignored_read_errors, 2);
        assert_eq!(w.last_read_error.as_deref(), Some("alarm(s) not found: b"));
        let (mut w, _) = open(&spec, T0);
        assert_eq!(
            check(&spec, &mut w, Err("throttled".into()), at(300)),
            BakeStep::Passed
        );
    }

    #[test]
    fn an_alarm_without_reason_or_time_still_fails_and_says_so() {
        let spec = spec(&["a"]);
        let (mut w, _) = open(&spec, T0);
        let bare = AlarmStatus {
            name: "a".into(),
            state: ALARM.into(),
            reason: None,
            updated_at: None,
        };
        let BakeStep::Failed(f) = check(&spec, &mut w, Ok(vec![bare]), at(60)) else {
            panic!("a firing alarm without a reason passed")
        };
        assert_eq!(f.reason, "CloudWatch gave no reason");
        // Without CloudWatch's time, when the gate saw it.
        assert_eq!((f.at, f.detected_at), (at(60), at(60)));
    }

    #[test]
    fn waits_never_overshoot_and_never_hit_zero() {
        let spec = spec(&["a"]);
        let (w, _) = open(&spec, T0);
        assert_eq!(next_wait(&spec, &w, at(299)), 1);
        assert_eq!(next_wait(&spec, &w, at(400)), 1);
        assert_eq!(next_wait(&spec, &w, at(10)), 60);
        assert_eq!(spec.checks(), 5);
    }
}
