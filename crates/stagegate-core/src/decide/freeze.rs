//! Freeze windows: times in which no deployment may start (a launch week, weekend nights). A team
//! gives them in the execution input or as a template parameter; Start and Advance refuse inside
//! one, a rollback never does, and a dry run reports them. This module holds the windows' rules
//! and the one decision over them, "is `now` frozen, and until when", with the time passed in.
//!
//! Two kinds of window:
//!
//! - **absolute**: `{"start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00+01:00"}`, RFC
//!   3339 with an offset, half-open `[start, end)`.
//! - **weekly**: `{"weekly": {"days": ["SAT", "SUN"], "from": "18:00", "to": "06:00", "timeZone":
//!   "Europe/Berlin"}}`, starting at `from` on each listed day, local time in `timeZone` (default
//!   UTC), ending at `to` the same day, or the next day when `to` is not after `from`.
//!
//! **Local times that do not exist or exist twice** (daylight saving) are resolved the way
//! calendars (RFC 5545) and jiff's default do, "compatible": a time in the spring-forward gap
//! moves forward by the gap (02:30 becomes 03:30 summer time), and a time in the repeated autumn
//! hour is its first occurrence (summer time). A window may so shrink on those days, to nothing
//! when both its ends fall in the same gap; it never starts at a time nobody's clock showed.
//!
//! Time zones come from the tz database compiled into the binary (jiff's `tzdb-bundle-always`),
//! never from the host: the Lambda image may have no tzdata, and a zone that resolved on a laptop
//! but not in the function would move a freeze by hours.

use std::fmt;

use jiff::civil;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::fields::{self, InvalidInput};

/// Each window is checked on every Start and Advance; fifty is many more than a team keeps by
/// hand, and bounds the work of one decision.
pub const MAX_WINDOWS: usize = 50;
pub const MAX_NAME_CHARS: usize = 64;
/// How far ahead the gate looks: a freeze that still runs at `now + HORIZON` (a weekly window on
/// every day around the clock, a window over a year long) is reported as lasting until then.
pub const HORIZON: Duration = Duration::days(366);

/// Weekly occurrences are computed a week at a time, so that the usual freeze, over in hours,
/// costs one week's occurrences rather than a year's.
const CHUNK: Duration = Duration::days(7);
/// Longer than any weekly occurrence (at most a day of wall-clock time, plus a DST shift), so
/// that an occurrence that started before `now` and is still running is found.
const LOOK_BACK: Duration = Duration::days(3);

/// One freeze window, validated: a value of this type has an end after its start, a known time
/// zone and times of day that exist. It reads and writes the form the input gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(with = "WindowEntry")
)]
#[serde(try_from = "RawWindow", into = "RawWindow")]
pub struct FreezeWindow {
    /// Shown in notifications ("frozen by launch week until ...").
    pub name: Option<String>,
    pub rule: FreezeRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreezeRule {
    /// `[start, end)`; the offsets are kept as given, for writing the window back.
    Absolute {
        start: OffsetDateTime,
        end: OffsetDateTime,
    },
    Weekly(WeeklyRule),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyRule {
    /// The days on which the window starts, each once.
    pub days: Vec<Weekday>,
    pub from: ClockTime,
    /// Not after `from`: the window ends on the next day.
    pub to: ClockTime,
    pub time_zone: Zone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    fn of(date: civil::Date) -> Self {
        match date.weekday() {
            civil::Weekday::Monday => Self::Mon,
            civil::Weekday::Tuesday => Self::Tue,
            civil::Weekday::Wednesday => Self::Wed,
            civil::Weekday::Thursday => Self::Thu,
            civil::Weekday::Friday => Self::Fri,
            civil::Weekday::Saturday => Self::Sat,
            civil::Weekday::Sunday => Self::Sun,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Mon => "MON",
            Self::Tue => "TUE",
            Self::Wed => "WED",
            Self::Thu => "THU",
            Self::Fri => "FRI",
            Self::Sat => "SAT",
            Self::Sun => "SUN",
        }
    }
}

/// A time of day to the minute, 00:00 to 24:00 (24:00 only as a weekly window's `to`: the end of
/// the day, which 00:00 cannot say because `to` <= `from` means "the next day").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub const MIDNIGHT: Self = Self(0);
    pub const END_OF_DAY: Self = Self(24 * 60);

    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        let t = u16::from(hour) * 60 + u16::from(minute);
        (minute < 60 && t <= Self::END_OF_DAY.0).then_some(Self(t))
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    /// Exactly `HH:MM`: a looser form ("9:00", "09:00:00", "9am") would be one more thing a
    /// reader of the input has to guess about.
    fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 5 || b[2] != b':' || ![b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        let hour = (b[0] - b'0') * 10 + (b[1] - b'0');
        let minute = (b[3] - b'0') * 10 + (b[4] - b'0');
        Self::new(hour, minute)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// An IANA time zone found in the bundled database. Holding the resolved zone (not only its name)
/// means a window that validated can always be evaluated: no lookup can fail later.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// `None` for a name the database does not have (and for `Etc/Unknown`, which jiff resolves
    /// to a placeholder that behaves like UTC: a freeze would silently be in the wrong zone).
    pub fn get(name: &str) -> Option<Self> {
        let tz = TimeZone::get(name).ok().filter(|tz| !tz.is_unknown())?;
        // The database matches names case-insensitively; keep its spelling.
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Some(Self { name, tz })
    }

    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

/// The freeze `now` is inside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ActiveFreeze {
    /// The first named window (in the order given) that contains `now`; null if none of them has
    /// a name.
    pub name: Option<String>,
    /// When the earliest window containing `now` started, in UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub since: OffsetDateTime,
    /// When a deployment may start again, in UTC: the end of the windows containing `now`,
    /// carried through every window overlapping or touching them.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub until: OffsetDateTime,
    /// The freeze still runs at `until`, which is only as far as the gate looks (`HORIZON`):
    /// "until at least".
    pub open_ended: bool,
}

/// Parses and validates a list of freeze windows; `field` names the list in errors
/// (`input.freezeWindows`), and every error names the member at fault
/// (`input.freezeWindows[1].weekly.timeZone`).
pub fn parse_windows(value: &Value, field: &str) -> Result<Vec<FreezeWindow>, InvalidInput> {
    let Some(list) = value.as_array() else {
        return Err(InvalidInput::new(
            field,
            format!(
                "must be an array of freeze windows, got {}",
                fields::json_kind(value)
            ),
        ));
    };
    if list.len() > MAX_WINDOWS {
        return Err(InvalidInput::new(
            field,
            format!(
                "must list at most {MAX_WINDOWS} freeze windows, got {}",
                list.len()
            ),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            let at = format!("{field}[{i}]");
            if !entry.is_object() {
                return Err(InvalidInput::new(
                    at,
                    format!(
                        "must be a freeze window, {{\"start\": ..., \"end\": ...}} or \
                         {{\"weekly\": ...}}, got {}",
                        fields::json_kind(entry)
                    ),
                ));
            }
            let raw: RawWindow = fields::from_value(entry, &format!("{at}."))?;
            validate(raw, &format!("{at}."))
        })
        .collect()
}

/// The freeze `now` is inside, if any: windows are half-open, so a window's start is frozen and
/// its end is not. `until` runs on through every window that overlaps or touches the freeze, so it
/// is when a deployment can really start, at most `HORIZON` ahead.
pub fn active(windows: &[FreezeWindow], now: OffsetDateTime) -> Option<ActiveFreeze> {
    let now = now.to_offset(UtcOffset::UTC);
    let horizon = now.saturating_add(HORIZON);
    let mut lo = now.saturating_sub(LOOK_BACK);
    let mut hi = now.saturating_add(CHUNK);
    let mut spans = spans(windows, lo, hi);
    let containing: Vec<&Span> = spans.iter().filter(|s| s.contains(now)).collect();
    let since = containing.iter().map(|s| s.start).min()?;
    let mut until = containing.iter().map(|s| s.end).max()?;
    let name = containing
        .iter()
        .filter_map(|s| windows.get(s.window)?.name.clone().map(|n| (s.window, n)))
        .min_by_key(|(window, _)| *window)
        .map(|(_, name)| name);
    let freeze = |until: OffsetDateTime| {
        let open_ended = until >= horizon;
        ActiveFreeze {
            name: name.clone(),
            since,
            until: until.min(horizon),
            open_ended,
        }
    };
    // Each pass either ends the freeze inside its week or carries `until` past the week's end,
    // so the passes stop by the horizon; the count only makes that visible.
    let passes = HORIZON.whole_days() / CHUNK.whole_days() + 2;
    for _ in 0..passes {
        spans.sort_by_key(|s| s.start);
        for s in &spans {
            if s.start > until {
                break;
            }
            until = until.max(s.end);
        }
        if until >= horizon || until < hi {
            return Some(freeze(until));
        }
        lo = hi;
        hi = hi.saturating_add(CHUNK);
        spans = self::spans(windows, lo, hi);
    }
    Some(freeze(until))
}

/// How long one attempt of a task that starts a stage may take from its freeze check to its
/// StartStageDeployment call: at least the Task's `TimeoutSeconds` in the workflow (45 s; the
/// workflow contract checks it), since Lambda stops an attempt at that point.
pub const START_GUARD_SECONDS: i64 = 60;

/// Whether a stage may not start at `now`: a freeze is active, or one begins within
/// `START_GUARD_SECONDS`. The second half is what keeps a start from landing inside a freeze that
/// began while the attempt was still listing the stage's history (seed 86 of the simulator):
/// checked at 12:00:00.9, created at 12:00:01.2 inside a freeze from 12:00:01. The freeze
/// reported is the one that begins.
pub fn refuses_start(windows: &[FreezeWindow], now: OffsetDateTime) -> Option<ActiveFreeze> {
    active(windows, now).or_else(|| {
        let soon = now.saturating_add(Duration::seconds(START_GUARD_SECONDS));
        next_start(windows, now)
            .filter(|start| *start <= soon)
            .and_then(|start| active(windows, start))
    })
}

/// The first time after `now` at which a window starts, within `HORIZON`: for a dry run's "the
/// next freeze starts at ...". Meant for when `active` is `None`; inside a freeze it is the next
/// window's start, which may lie within the freeze.
pub fn next_start(windows: &[FreezeWindow], now: OffsetDateTime) -> Option<OffsetDateTime> {
    let now = now.to_offset(UtcOffset::UTC);
    let horizon = now.saturating_add(HORIZON);
    let mut best: Option<OffsetDateTime> = None;
    let mut lo = now;
    while lo <= horizon {
        let hi = lo.saturating_add(CHUNK);
        let first = spans(windows, lo, hi)
            .into_iter()
            .map(|s| s.start)
            .filter(|&start| start > now && start <= horizon)
            .min();
        best = match (best, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Later weeks' occurrences all start at or after `hi`.
        if best.is_some_and(|b| b < hi) || hi == lo {
            break;
        }
        lo = hi;
    }
    best
}

/// One occurrence of a window, in UTC.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: OffsetDateTime,
    end: OffsetDateTime,
    /// Its window's position in the list.
    window: usize,
}

impl Span {
    fn contains(&self, t: OffsetDateTime) -> bool {
        self.start <= t && t < self.end
    }
}

/// Every absolute window, and the weekly occurrences that start in `[lo, hi)`.
fn spans(windows: &[FreezeWindow], lo: OffsetDateTime, hi: OffsetDateTime) -> Vec<Span> {
    let mut out = Vec::new();
    for (window, w) in windows.iter().enumerate() {
        match &w.rule {
            FreezeRule::Absolute { start, end } => {
                if start < end {
                    out.push(Span {
                        start: start.to_offset(UtcOffset::UTC),
                        end: end.to_offset(UtcOffset::UTC),
                        window,
                    });
                }
            }
            FreezeRule::Weekly(rule) => {
                out.extend(
                    occurrences(rule, lo, hi)
                        .into_iter()
                        .map(|(start, end)| Span { start, end, window }),
                );
            }
        }
    }
    out
}

/// A weekly rule's occurrences that start in `[lo, hi)`. Dates at the very ends of the calendar
/// (years beyond 9999) have no occurrences; no deployment gate sees them.
fn occurrences(
    rule: &WeeklyRule,
    lo: OffsetDateTime,
    hi: OffsetDateTime,
) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let mut out = Vec::new();
    let tz = &rule.time_zone.tz;
    let (Some(lo_ts), Some(hi_ts)) = (to_jiff(lo), to_jiff(hi)) else {
        return out;
    };
    // A day early and a day late: an occurrence's start is on its day in local time, which a
    // DST shift can move across the UTC bounds' local dates.
    let first = tz.to_datetime(lo_ts).date().yesterday();
    let last = tz.to_datetime(hi_ts).date().tomorrow();
    let (Ok(mut day), Ok(last)) = (first, last) else {
        return out;
    };
    let length = if rule.to > rule.from {
        rule.to.0 - rule.from.0
    } else {
        rule.to.0 + ClockTime::END_OF_DAY.0 - rule.from.0
    };
    while day <= last {
        if rule.days.contains(&Weekday::of(day)) {
            let start = local(tz, day, rule.from.0);
            let end = local(tz, day, rule.from.0 + length);
            if let (Some(start), Some(end)) = (start, end) {
                if start < end && lo <= start && start < hi {
                    out.push((start, end));
                }
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

/// The instant of `minutes` after midnight starting `day`, in `tz` ("compatible": see the module
/// comment). `minutes` may run into the next day.
fn local(tz: &TimeZone, day: civil::Date, minutes: u16) -> Option<OffsetDateTime> {
    let mut day = day;
    for _ in 0..minutes / ClockTime::END_OF_DAY.0 {
        day = day.tomorrow().ok()?;
    }
    let of_day = minutes % ClockTime::END_OF_DAY.0;
    let hour = i8::try_from(of_day / 60).ok()?;
    let minute = i8::try_from(of_day % 60).ok()?;
    let ts = tz
        .to_ambiguous_timestamp(day.at(hour, minute, 0, 0))
        .compatible()
        .ok()?;
    from_jiff(ts)
}

fn to_jiff(t: OffsetDateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()).ok()
}

fn from_jiff(t: jiff::Timestamp) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(t.as_nanosecond()).ok()
}

/// A window as written in the input: every member optional, so that what is missing or
/// contradictory is reported by `validate` with the member's name, rather than by serde as "did
/// not match any variant".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weekly: Option<RawWeekly>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "WeeklySchedule"))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawWeekly {
    /// The days on which the window starts.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1), extend("uniqueItems" = true))
    )]
    days: Vec<Weekday>,
    /// `HH:MM`, 00:00-23:59, local time.
    #[cfg_attr(feature = "schema", schemars(pattern(FROM_PATTERN)))]
    from: String,
    /// `HH:MM`, 00:00-24:00; not after `from`: the next day.
    #[cfg_attr(feature = "schema", schemars(pattern(TO_PATTERN)))]
    to: String,
    /// An IANA name such as `Europe/Berlin`; default `UTC`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(extend("default" = "UTC")))]
    time_zone: Option<String>,
}

/// `ClockTime::parse` for a window's start of day, and for its end (which may be 24:00), as the
/// schema says them.
#[cfg(feature = "schema")]
const FROM_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
#[cfg(feature = "schema")]
const TO_PATTERN: &str = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";

/// A freeze window as the schema describes it (the parser reads `RawWindow`, for its errors).
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum WindowEntry {
    Absolute(AbsoluteEntry),
    Weekly(WeeklyEntry),
}

#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(rename = "AbsoluteFreezeWindow")]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct AbsoluteEntry {
    #[serde(default)]
    #[schemars(
        length(min = 1, max = MAX_NAME_CHARS),
        pattern(crate::fields::NO_CONTROL_PATTERN)
    )]
    name: Option<String>,
    /// RFC 3339 with an offset, inclusive.
    start: String,
    /// RFC 3339 with an offset, exclusive; after `start`.
    end: String,
}

#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(rename = "WeeklyFreezeWindow")]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct WeeklyEntry {
    #[serde(default)]
    #[schemars(
        length(min = 1, max = MAX_NAME_CHARS),
        pattern(crate::fields::NO_CONTROL_PATTERN)
    )]
    name: Option<String>,
    weekly: RawWeekly,
}

impl TryFrom<RawWindow> for FreezeWindow {
    type Error = String;

    /// For windows read back from the gate state: the same rules as the input, so a state edited
    /// by hand cannot carry a window the input would have refused.
    fn try_from(raw: RawWindow) -> Result<Self, String> {
        validate(raw, "").map_err(|e| format!("{}: {}", e.field, e.rule))
    }
}

impl From<FreezeWindow> for RawWindow {
    fn from(w: FreezeWindow) -> Self {
        let rfc3339 = |t: OffsetDateTime| crate::timefmt::rfc3339(t);
        match w.rule {
            FreezeRule::Absolute { start, end } => Self {
                name: w.name,
                start: Some(rfc3339(start)),
                end: Some(rfc3339(end)),
                weekly: None,
            },
            FreezeRule::Weekly(rule) => Self {
                name: w.name,
                start: None,
                end: None,
                weekly: Some(RawWeekly {
                    days: rule.days,
                    from: rule.from.to_string(),
                    to: rule.to.to_string(),
                    time_zone: Some(rule.time_zone.name),
                }),
            },
        }
    }
}

/// `prefix` is prepended to member names in errors (`input.freezeWindows[0].`).
fn validate(raw: RawWindow, prefix: &str) -> Result<FreezeWindow, InvalidInput> {
    let field = |name: &str| format!("{prefix}{name}");
    if let Some(name) = &raw.name {
        fields::length(&field("name"), name, 1, MAX_NAME_CHARS)?;
        if name.chars().any(char::is_control) {
            return Err(InvalidInput::new(
                field("name"),
                "must not contain control characters",
            ));
        }
    }
    let rule = match (raw.start, raw.end, raw.weekly) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err(InvalidInput::new(
                field("weekly"),
                "give either start and end (an absolute window) or weekly (a recurring one), \
                 not both",
            ))
        }
        (None, None, None) => {
            return Err(InvalidInput::new(
                field("start"),
                "missing field `start` (with `end`, for an absolute window) or `weekly` (for a \
                 recurring one)",
            ))
        }
        (Some(_), None, None) => {
            return Err(InvalidInput::new(
                field("end"),
                "missing field `end`: an absolute window needs start and end",
            ))
        }
        (None, Some(_), None) => {
            return Err(InvalidInput::new(
                field("start"),
                "missing field `start`: an absolute window needs start and end",
            ))
        }
        (Some(start), Some(end), None) => {
            let start = timestamp(&field("start"), &start)?;
            let end = timestamp(&field("end"), &end)?;
            if end <= start {
                return Err(InvalidInput::new(
                    field("end"),
                    format!(
                        "must be after start ({}), got {}",
                        crate::timefmt::rfc3339(start),
                        crate::timefmt::rfc3339(end)
                    ),
                ));
            }
            FreezeRule::Absolute { start, end }
        }
        (None, None, Some(weekly)) => FreezeRule::Weekly(weekly_rule(weekly, &field("weekly."))?),
    };
    Ok(FreezeWindow {
        name: raw.name,
        rule,
    })
}

fn weekly_rule(raw: RawWeekly, prefix: &str) -> Result<WeeklyRule, InvalidInput> {
    let field = |name: &str| format!("{prefix}{name}");
    if raw.days.is_empty() {
        return Err(InvalidInput::new(
            field("days"),
            "must list 1-7 days (MON, TUE, WED, THU, FRI, SAT, SUN) on which the window starts, \
             got none",
        ));
    }
    for (i, day) in raw.days.iter().enumerate() {
        if raw.days[..i].contains(day) {
            return Err(InvalidInput::new(
                format!("{}[{i}]", field("days")),
                format!("{} is listed twice", day.as_str()),
            ));
        }
    }
    let from = ClockTime::parse(&raw.from)
        .filter(|t| *t < ClockTime::END_OF_DAY)
        .ok_or_else(|| {
            InvalidInput::new(
                field("from"),
                format!(
                    "must be a time of day HH:MM from 00:00 to 23:59, got {}",
                    fields::quoted(&raw.from)
                ),
            )
        })?;
    let to = ClockTime::parse(&raw.to).ok_or_else(|| {
        InvalidInput::new(
            field("to"),
            format!(
                "must be a time of day HH:MM from 00:00 to 24:00, got {}",
                fields::quoted(&raw.to)
            ),
        )
    })?;
    if to == from {
        return Err(InvalidInput::new(
            field("to"),
            format!(
                "must differ from `from` ({from}): the same time at both ends could mean no time \
                 or a whole day; for a whole day give 00:00 to 24:00"
            ),
        ));
    }
    let time_zone = match raw.time_zone {
        None => Zone::utc(),
        Some(name) => Zone::get(&name).ok_or_else(|| {
            InvalidInput::new(
                field("timeZone"),
                format!(
                    "unknown time zone {} (an IANA name such as Europe/Berlin or UTC)",
                    fields::quoted(&name)
                ),
            )
        })?,
    };
    Ok(WeeklyRule {
        days: raw.days,
        from,
        to,
        time_zone,
    })
}

fn timestamp(field: &str, text: &str) -> Result<OffsetDateTime, InvalidInput> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        InvalidInput::new(
            field,
            format!(
                "must be an RFC 3339 timestamp with an offset, such as 2026-12-20T00:00:00Z or \
                 2026-12-20T01:00:00+01:00, got {} ({e})",
                fields::quoted(text)
            ),
        )
    })
}

#[cfg(test)]
mod tests;
