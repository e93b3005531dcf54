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
use serde::de::DeserializeOwned;
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
                json_kind(value)
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
                        json_kind(entry)
                    ),
                ));
            }
            let raw: RawWindow = from_value(entry, &format!("{at}."))?;
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
    days: Vec<Weekday>,
    /// `HH:MM`, 00:00-23:59, local time.
    from: String,
    /// `HH:MM`, 00:00-24:00; not after `from`: the next day.
    to: String,
    /// An IANA name such as `Europe/Berlin`; default `UTC`.
    #[serde(default)]
    time_zone: Option<String>,
}

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
                    quoted(&raw.from)
                ),
            )
        })?;
    let to = ClockTime::parse(&raw.to).ok_or_else(|| {
        InvalidInput::new(
            field("to"),
            format!(
                "must be a time of day HH:MM from 00:00 to 24:00, got {}",
                quoted(&raw.to)
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
                    quoted(&name)
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
                quoted(text)
            ),
        )
    })
}

/// Deserialises `value`, naming a rejected member by its full path. `input::from_value` does the
/// same, but `input` will read freeze windows through this module, and the layering test forbids
/// the cycle that importing it back would make.
fn from_value<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, InvalidInput> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        // serde reports a missing field at its parent's path; name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let at = if path == "." {
            prefix.trim_end_matches('.').to_owned()
        } else {
            format!("{prefix}{path}")
        };
        let field = match missing {
            Some(name) if at.is_empty() => name.to_owned(),
            Some(name) => format!("{at}.{name}"),
            None => at,
        };
        InvalidInput::new(field, message)
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Shows a rejected value without letting a huge or control-laden one flood the error.
fn quoted(value: &str) -> String {
    let shown: String = value
        .chars()
        .take(64)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().count() > 64 {
        format!("\"{shown}...\"")
    } else {
        format!("\"{shown}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use time::macros::datetime;

    fn windows(v: Value) -> Vec<FreezeWindow> {
        match parse_windows(&v, "input.freezeWindows") {
            Ok(w) => w,
            Err(e) => panic!("{v} rejected: {e}"),
        }
    }

    fn rejected(v: Value) -> InvalidInput {
        match parse_windows(&v, "input.freezeWindows") {
            Ok(w) => panic!("{v} accepted: {w:?}"),
            Err(e) => e,
        }
    }

    fn frozen(w: &[FreezeWindow], now: OffsetDateTime) -> ActiveFreeze {
        active(w, now).unwrap_or_else(|| panic!("not frozen at {now}"))
    }

    fn weekly(days: &[&str], from: &str, to: &str, zone: &str) -> Value {
        json!({"weekly": {"days": days, "from": from, "to": to, "timeZone": zone}})
    }

    #[test]
    fn absolute_window_is_half_open() {
        let w = windows(
            json!([{"name": "launch week", "start": "2026-12-20T00:00:00Z",
                                "end": "2027-01-04T00:00:00+01:00"}]),
        );
        assert_eq!(active(&w, datetime!(2026-12-19 23:59:59.999 UTC)), None);
        let f = frozen(&w, datetime!(2026-12-20 00:00 UTC));
        assert_eq!(
            f,
            ActiveFreeze {
                name: Some("launch week".into()),
                since: datetime!(2026-12-20 00:00 UTC),
                until: datetime!(2027-01-03 23:00 UTC),
                open_ended: false,
            }
        );
        assert_eq!(f.until.offset(), UtcOffset::UTC);
        assert!(active(&w, datetime!(2027-01-03 22:59:59 UTC)).is_some());
        assert_eq!(active(&w, datetime!(2027-01-03 23:00 UTC)), None);
        // `now` in another offset is the same instant.
        assert_eq!(active(&w, datetime!(2027-01-04 00:00 +01:00)), None);
        assert!(active(&w, datetime!(2026-12-20 01:00 +01:00)).is_some());
        assert_eq!(active(&[], datetime!(2026-12-20 01:00 UTC)), None);
    }

    #[test]
    fn weekly_window_crosses_midnight() {
        // 2026-06-05 is a Friday.
        let w = windows(json!([{"name": "weekend",
            "weekly": {"days": ["FRI", "SAT"], "from": "22:00", "to": "06:00"}}]));
        assert_eq!(active(&w, datetime!(2026-06-05 21:59 UTC)), None);
        let f = frozen(&w, datetime!(2026-06-05 22:00 UTC));
        assert_eq!(
            (f.since, f.until),
            (
                datetime!(2026-06-05 22:00 UTC),
                datetime!(2026-06-06 06:00 UTC)
            )
        );
        // Saturday morning belongs to Friday's occurrence.
        let f = frozen(&w, datetime!(2026-06-06 05:59 UTC));
        assert_eq!(f.since, datetime!(2026-06-05 22:00 UTC));
        assert_eq!(active(&w, datetime!(2026-06-06 06:00 UTC)), None);
        assert!(active(&w, datetime!(2026-06-07 03:00 UTC)).is_some());
        // Sunday night is not listed, so Monday morning is free.
        assert_eq!(active(&w, datetime!(2026-06-07 22:30 UTC)), None);
        assert_eq!(active(&w, datetime!(2026-06-08 03:00 UTC)), None);
        assert_eq!(
            next_start(&w, datetime!(2026-06-06 06:00 UTC)),
            Some(datetime!(2026-06-06 22:00 UTC))
        );
    }

    #[test]
    fn weekly_to_midnight_and_whole_days() {
        let w = windows(json!([weekly(&["SUN"], "00:00", "24:00", "UTC")]));
        // 2026-06-07 is a Sunday.
        let f = frozen(&w, datetime!(2026-06-07 12:00 UTC));
        assert_eq!(
            (f.since, f.until),
            (
                datetime!(2026-06-07 00:00 UTC),
                datetime!(2026-06-08 00:00 UTC)
            )
        );
        assert_eq!(active(&w, datetime!(2026-06-08 00:00 UTC)), None);
        assert_eq!(active(&w, datetime!(2026-06-06 23:59 UTC)), None);
    }

    #[test]
    fn berlin_spring_forward() {
        // 2026-03-29, Sunday: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let w = windows(json!([weekly(&["SAT"], "22:00", "06:00", "Europe/Berlin")]));
        let f = frozen(&w, datetime!(2026-03-28 21:00 UTC));
        // 22:00 CET to 06:00 CEST: seven hours of real time.
        assert_eq!(
            (f.since, f.until),
            (
                datetime!(2026-03-28 21:00 UTC),
                datetime!(2026-03-29 04:00 UTC)
            )
        );
        assert_eq!(active(&w, datetime!(2026-03-29 04:00 UTC)), None);
        // A week earlier, all in CET.
        let f = frozen(&w, datetime!(2026-03-22 04:30 UTC));
        assert_eq!(f.until, datetime!(2026-03-22 05:00 UTC));

        // 02:30 does not exist that day: it is read as 03:30 CEST (01:30 UTC).
        let w = windows(json!([weekly(&["SUN"], "02:30", "04:00", "Europe/Berlin")]));
        assert_eq!(active(&w, datetime!(2026-03-29 01:29 UTC)), None);
        let f = frozen(&w, datetime!(2026-03-29 01:30 UTC));
        assert_eq!(
            (f.since, f.until),
            (
                datetime!(2026-03-29 01:30 UTC),
                datetime!(2026-03-29 02:00 UTC)
            )
        );
        assert_eq!(
            next_start(&w, datetime!(2026-03-29 00:00 UTC)),
            Some(datetime!(2026-03-29 01:30 UTC))
        );
    }

    #[test]
    fn berlin_fall_back() {
        // 2026-10-25, Sunday: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-03:00 happens twice.
        let w = windows(json!([weekly(&["SAT"], "22:00", "06:00", "Europe/Berlin")]));
        let f = frozen(&w, datetime!(2026-10-24 20:00 UTC));
        // 22:00 CEST to 06:00 CET: nine hours of real time.
        assert_eq!(
            (f.since, f.until),
            (
                datetime!(2026-10-24 20:00 UTC),
                datetime!(2026-10-25 05:00 UTC)
            )
        );
        assert_eq!(active(&w, datetime!(2026-10-24 19:59 UTC)), None);

        // The repeated 02:30-02:45 is its first occurrence, in summer time.
        let w = windows(json!([weekly(&["SUN"], "02:30", "02:45", "Europe/Berlin")]));
        let f = frozen(&w, datetime!(2026-10-25 00:30 UTC));
        assert_eq!(
            (f.since, f.until),
            (
                datetime!(2026-10-25 00:30 UTC),
                datetime!(2026-10-25 00:45 UTC)
            )
        );
        // The second 02:35 (CET) is not frozen.
        assert_eq!(active(&w, datetime!(2026-10-25 01:35 UTC)), None);
    }

    #[test]
    fn new_york_office_hours_follow_dst() {
        let w = windows(json!([weekly(
            &["MON", "TUE", "WED", "THU", "FRI"],
            "09:00",
            "17:00",
            "America/New_York"
        )]));
        // Monday 2026-01-12 (EST, UTC-5) and Monday 2026-07-13 (EDT, UTC-4).
        let f = frozen(&w, datetime!(2026-01-12 14:00 UTC));
        assert_eq!(f.until, datetime!(2026-01-12 22:00 UTC));
        assert_eq!(active(&w, datetime!(2026-01-12 13:59 UTC)), None);
        let f = frozen(&w, datetime!(2026-07-13 13:00 UTC));
        assert_eq!(f.until, datetime!(2026-07-13 21:00 UTC));
        assert_eq!(active(&w, datetime!(2026-07-13 21:00 UTC)), None);
        // Friday 17:00 to Monday 09:00 is free.
        assert_eq!(
            next_start(&w, datetime!(2026-07-17 21:00 UTC)),
            Some(datetime!(2026-07-20 13:00 UTC))
        );

        // 2026-03-08: 02:00 EST becomes 03:00 EDT. 02:30-03:30 reads as 03:30-03:30 EDT: nothing.
        let w = windows(json!([weekly(
            &["SUN"],
            "02:30",
            "03:30",
            "America/New_York"
        )]));
        assert_eq!(active(&w, datetime!(2026-03-08 07:00 UTC)), None);
        assert_eq!(active(&w, datetime!(2026-03-08 07:30 UTC)), None);
        assert_eq!(
            next_start(&w, datetime!(2026-03-08 00:00 UTC)),
            Some(datetime!(2026-03-15 06:30 UTC))
        );
        // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 is the first (EDT) one.
        let w = windows(json!([weekly(
            &["SUN"],
            "01:30",
            "02:30",
            "America/New_York"
        )]));
        let f = frozen(&w, datetime!(2026-11-01 05:30 UTC));
        assert_eq!(
            (f.since, f.until),
            (
                datetime!(2026-11-01 05:30 UTC),
                datetime!(2026-11-01 07:30 UTC)
            )
        );
    }

    #[test]
    fn until_runs_through_overlapping_and_touching_windows() {
        // 2026-06-08 is a Monday.
        let w = windows(json!([
            {"name": "release", "start": "2026-06-08T10:00:00Z", "end": "2026-06-08T12:00:00Z"},
            weekly(&["MON"], "12:00", "13:00", "UTC"),
            {"start": "2026-06-08T12:30:00Z", "end": "2026-06-08T14:00:00Z"},
            {"name": "later", "start": "2026-06-08T14:00:01Z", "end": "2026-06-08T15:00:00Z"},
        ]));
        let f = frozen(&w, datetime!(2026-06-08 11:00 UTC));
        assert_eq!(f.name.as_deref(), Some("release"));
        assert_eq!(f.since, datetime!(2026-06-08 10:00 UTC));
        // Touching at 12:00, overlapping at 12:30; the gap of a second at 14:00 ends it.
        assert_eq!(f.until, datetime!(2026-06-08 14:00 UTC));
        // Inside two windows: the earliest start, the first named.
        let f = frozen(&w, datetime!(2026-06-08 12:45 UTC));
        assert_eq!(f.since, datetime!(2026-06-08 12:00 UTC));
        assert_eq!(f.name, None);
        let named_later = windows(json!([
            {"start": "2026-06-08T10:00:00Z", "end": "2026-06-08T12:00:00Z"},
            {"name": "b", "start": "2026-06-08T09:00:00Z", "end": "2026-06-08T11:00:00Z"},
        ]));
        let f = frozen(&named_later, datetime!(2026-06-08 10:30 UTC));
        assert_eq!(
            (f.name.as_deref(), f.since),
            (Some("b"), datetime!(2026-06-08 09:00 UTC))
        );
    }

    #[test]
    fn until_chains_weekly_occurrences_across_weeks() {
        // Every night 20:00-08:00 but Saturday's, plus whole weekends: Friday night runs into
        // Monday morning.
        let w = windows(json!([
            weekly(
                &["SUN", "MON", "TUE", "WED", "THU", "FRI"],
                "20:00",
                "08:00",
                "UTC"
            ),
            weekly(&["SAT", "SUN"], "00:00", "24:00", "UTC"),
        ]));
        let f = frozen(&w, datetime!(2026-06-05 21:00 UTC));
        assert_eq!(f.until, datetime!(2026-06-08 08:00 UTC));
        let f = frozen(&w, datetime!(2026-06-07 23:59 UTC));
        assert_eq!(f.until, datetime!(2026-06-08 08:00 UTC));
        // A freeze ending exactly a week from now (where occurrences are computed up to) is
        // carried on by an occurrence starting there.
        let w = windows(json!([
            {"start": "2026-06-01T00:00:00Z", "end": "2026-06-08T12:00:00Z"},
            weekly(&["MON"], "12:00", "13:00", "UTC"),
        ]));
        let f = frozen(&w, datetime!(2026-06-01 12:00 UTC));
        assert_eq!(f.until, datetime!(2026-06-08 13:00 UTC));
    }

    #[test]
    fn a_freeze_that_never_ends_stops_at_the_horizon() {
        let every_day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
        let w = windows(json!([weekly(
            &every_day,
            "00:00",
            "24:00",
            "Europe/Berlin"
        )]));
        let now = datetime!(2026-06-05 12:00 UTC);
        let f = frozen(&w, now);
        assert_eq!(f.until, now + HORIZON);
        assert!(f.open_ended);
        assert_eq!(next_start(&w, now), Some(datetime!(2026-06-05 22:00 UTC)));
        let long =
            windows(json!([{"start": "2026-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}]));
        let f = frozen(&long, now);
        assert_eq!((f.until, f.open_ended), (now + HORIZON, true));
        // Ending exactly at the horizon is also reported as the horizon.
        let exact = windows(json!([{"start": "2026-01-01T00:00:00Z",
                                    "end": "2027-06-06T12:00:00Z"}]));
        assert_eq!(frozen(&exact, now).until, now + HORIZON);
        let short = windows(json!([{"start": "2026-01-01T00:00:00Z",
                                    "end": "2027-06-06T11:59:59Z"}]));
        assert!(!frozen(&short, now).open_ended);
    }

    #[test]
    fn next_start_is_strictly_after_now_and_bounded() {
        let w = windows(json!([
            {"start": "2026-06-10T00:00:00Z", "end": "2026-06-11T00:00:00Z"},
            {"start": "2028-01-01T00:00:00Z", "end": "2028-01-02T00:00:00Z"},
            weekly(&["WED"], "09:00", "10:00", "UTC"),
        ]));
        // 2026-06-03 is a Wednesday.
        assert_eq!(
            next_start(&w, datetime!(2026-06-03 08:00 UTC)),
            Some(datetime!(2026-06-03 09:00 UTC))
        );
        assert_eq!(
            next_start(&w, datetime!(2026-06-03 09:00 UTC)),
            Some(datetime!(2026-06-10 00:00 UTC))
        );
        let far =
            windows(json!([{"start": "2028-01-01T00:00:00Z", "end": "2028-01-02T00:00:00Z"}]));
        assert_eq!(next_start(&far, datetime!(2026-06-03 09:00 UTC)), None);
        assert_eq!(
            next_start(&far, datetime!(2027-01-01 00:00 UTC)),
            Some(datetime!(2028-01-01 00:00 UTC))
        );
        assert_eq!(next_start(&[], datetime!(2026-06-03 09:00 UTC)), None);
    }

    #[test]
    fn parses_both_kinds_with_defaults() {
        let w = windows(json!([
            {"name": "weekend", "weekly": {"days": ["SAT", "SUN"], "from": "18:00", "to": "06:00",
                                          "timeZone": "europe/berlin"}},
            {"weekly": {"days": ["MON"], "from": "00:00", "to": "24:00"}},
        ]));
        let FreezeRule::Weekly(rule) = &w[0].rule else {
            panic!("weekly")
        };
        assert_eq!(rule.days, [Weekday::Sat, Weekday::Sun]);
        assert_eq!((rule.from.minutes(), rule.to.minutes()), (18 * 60, 6 * 60));
        // The database's spelling.
        assert_eq!(rule.time_zone.name(), "Europe/Berlin");
        let FreezeRule::Weekly(rule) = &w[1].rule else {
            panic!("weekly")
        };
        assert_eq!(rule.time_zone, Zone::utc());
        assert_eq!(rule.to, ClockTime::END_OF_DAY);
        assert_eq!(w[1].name, None);
        assert_eq!(windows(json!([])), vec![]);
    }

    #[test]
    fn round_trips_through_the_state() {
        let input = json!([
            {"name": "launch week", "start": "2026-12-20T00:00:00Z",
             "end": "2027-01-04T00:00:00+01:00"},
            {"weekly": {"days": ["SAT", "SUN"], "from": "18:00", "to": "24:00",
                        "timeZone": "Europe/Berlin"}},
        ]);
        let w = windows(input.clone());
        let written = serde_json::to_value(&w).unwrap_or_default();
        assert_eq!(written, input);
        let read: Vec<FreezeWindow> = serde_json::from_value(written).unwrap_or_default();
        assert_eq!(read, w);
        // The state gets the input's rules.
        let bad = json!({"weekly": {"days": [], "from": "18:00", "to": "06:00"}});
        let e = serde_json::from_value::<FreezeWindow>(bad)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("weekly.days: must list 1-7 days")));
        let f = ActiveFreeze {
            name: None,
            since: datetime!(2026-12-20 00:00 UTC),
            until: datetime!(2027-01-03 23:00 UTC),
            open_ended: false,
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap_or_default(),
            json!({"name": null, "since": "2026-12-20T00:00:00Z",
                   "until": "2027-01-03T23:00:00Z", "openEnded": false})
        );
    }

    #[test]
    fn rejections_name_field_and_rule() {
        let abs = |start: &str, end: &str| json!([{"start": start, "end": end}]);
        let wk = |v: Value| {
            json!([{"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"},
                   {"weekly": v}])
        };
        let wk_ok = |k: &str, v: Value| {
            let mut w = json!({"days": ["SAT"], "from": "18:00", "to": "06:00"});
            w[k] = v;
            wk(w)
        };
        let many: Vec<Value> = (0..=MAX_WINDOWS)
            .map(|_| json!({"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}))
            .collect();
        let p = "input.freezeWindows";
        let cases: Vec<(Value, String, &str)> = vec![
            (
                wk_ok("timeZone", json!("Europe/Berln")),
                format!("{p}[1].weekly.timeZone"),
                "unknown time zone \"Europe/Berln\" (an IANA name such as Europe/Berlin or UTC)",
            ),
            (
                wk_ok("timeZone", json!("Etc/Unknown")),
                format!("{p}[1].weekly.timeZone"),
                "unknown time zone",
            ),
            (
                wk_ok("timeZone", json!("")),
                format!("{p}[1].weekly.timeZone"),
                "unknown time zone",
            ),
            (
                wk_ok("from", json!("24:00")),
                format!("{p}[1].weekly.from"),
                "HH:MM from 00:00 to 23:59, got \"24:00\"",
            ),
            (
                wk_ok("from", json!("9:00")),
                format!("{p}[1].weekly.from"),
                "HH:MM",
            ),
            (
                wk_ok("to", json!("12:60")),
                format!("{p}[1].weekly.to"),
                "HH:MM from 00:00 to 24:00, got \"12:60\"",
            ),
            (
                wk_ok("to", json!("24:01")),
                format!("{p}[1].weekly.to"),
                "HH:MM",
            ),
            (
                wk_ok("to", json!("06:00:00")),
                format!("{p}[1].weekly.to"),
                "HH:MM",
            ),
            (
                wk_ok("to", json!("18:00")),
                format!("{p}[1].weekly.to"),
                "must differ from `from` (18:00)",
            ),
            (
                wk_ok("to", json!(600)),
                format!("{p}[1].weekly.to"),
                "invalid type",
            ),
            (
                wk_ok("days", json!([])),
                format!("{p}[1].weekly.days"),
                "must list 1-7 days",
            ),
            (
                wk_ok("days", json!(["SAT", "SUN", "SAT"])),
                format!("{p}[1].weekly.days[2]"),
                "SAT is listed twice",
            ),
            (
                wk_ok("days", json!(["Sat"])),
                format!("{p}[1].weekly.days[0]"),
                "unknown variant `Sat`",
            ),
            (
                wk_ok("tz", json!("UTC")),
                format!("{p}[1].weekly.tz"),
                "unknown field `tz`",
            ),
            (
                wk(json!({"days": ["SAT"], "from": "18:00"})),
                format!("{p}[1].weekly.to"),
                "missing field `to`",
            ),
            (
                abs("2026-12-20T00:00:00Z", "2026-12-20T00:00:00Z"),
                format!("{p}[0].end"),
                "must be after start (2026-12-20T00:00:00Z), got 2026-12-20T00:00:00Z",
            ),
            (
                abs("2026-12-20T01:00:00+01:00", "2026-12-20T00:00:00Z"),
                format!("{p}[0].end"),
                "must be after start",
            ),
            (
                abs("2026-12-20T00:00:00", "2026-12-21T00:00:00Z"),
                format!("{p}[0].start"),
                "RFC 3339 timestamp with an offset",
            ),
            (
                abs("2026-12-20T00:00:00Z", "tomorrow"),
                format!("{p}[0].end"),
                "got \"tomorrow\"",
            ),
            (
                json!([{"start": "2026-12-20T00:00:00Z"}]),
                format!("{p}[0].end"),
                "missing field `end`",
            ),
            (
                json!([{"end": "2026-12-20T00:00:00Z"}]),
                format!("{p}[0].start"),
                "missing field `start`",
            ),
            (
                json!([{"name": "nothing"}]),
                format!("{p}[0].start"),
                "or `weekly`",
            ),
            (
                json!([{"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z",
                        "weekly": {"days": ["SAT"], "from": "18:00", "to": "06:00"}}]),
                format!("{p}[0].weekly"),
                "not both",
            ),
            (
                json!([{"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z",
                        "reason": "xmas"}]),
                format!("{p}[0].reason"),
                "unknown field `reason`",
            ),
            (
                json!([{"name": "", "weekly": {"days": ["SAT"], "from": "18:00", "to": "06:00"}}]),
                format!("{p}[0].name"),
                "must be 1-64 characters long, got 0",
            ),
            (
                json!([{"name": "n".repeat(65), "start": "2026-12-20T00:00:00Z",
                        "end": "2026-12-21T00:00:00Z"}]),
                format!("{p}[0].name"),
                "must be 1-64 characters long, got 65",
            ),
            (
                json!([{"name": "a\nb", "start": "2026-12-20T00:00:00Z",
                        "end": "2026-12-21T00:00:00Z"}]),
                format!("{p}[0].name"),
                "control characters",
            ),
            (
                json!(many),
                p.to_owned(),
                "must list at most 50 freeze windows, got 51",
            ),
            (json!({"start": "x"}), p.to_owned(), "must be an array"),
            (
                json!(["weekend"]),
                format!("{p}[0]"),
                "must be a freeze window",
            ),
        ];
        for (value, field, rule) in cases {
            let e = rejected(value.clone());
            assert_eq!(e.field, field, "{value}: {e}");
            assert!(e.rule.contains(rule), "{value}: {e}");
        }
        // The limits themselves are accepted.
        let fifty: Vec<Value> = many.into_iter().take(MAX_WINDOWS).collect();
        assert_eq!(windows(json!(fifty)).len(), MAX_WINDOWS);
        let longest = "n".repeat(MAX_NAME_CHARS);
        assert_eq!(
            windows(json!([{"name": longest, "weekly":
                {"days": ["SAT"], "from": "23:59", "to": "00:00"}}]))
            .len(),
            1
        );
    }

    #[test]
    fn clock_times() {
        let parse = |s: &str| ClockTime::parse(s).map(|t| t.to_string());
        assert_eq!(parse("00:00").as_deref(), Some("00:00"));
        assert_eq!(parse("23:59").as_deref(), Some("23:59"));
        assert_eq!(parse("24:00").as_deref(), Some("24:00"));
        for bad in [
            "24:01",
            "25:00",
            "12:60",
            "1:00",
            "01:0",
            "0100",
            "01-00",
            "ab:cd",
            "",
            "٠١:٠٠",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    fn minutes(m: i64) -> OffsetDateTime {
        datetime!(2026-06-01 00:00 UTC) + Duration::minutes(m)
    }

    fn absolute(start: i64, len: i64) -> FreezeWindow {
        FreezeWindow {
            name: None,
            rule: FreezeRule::Absolute {
                start: minutes(start),
                end: minutes(start + len),
            },
        }
    }

    proptest! {
        #[test]
        fn active_is_some_exactly_inside_a_window(
            spans in proptest::collection::vec((0i64..5000, 1i64..600), 0..10),
            now in -100i64..6000,
        ) {
            let windows: Vec<FreezeWindow> =
                spans.iter().map(|&(s, l)| absolute(s, l)).collect();
            let now = minutes(now);
            let inside = |t: OffsetDateTime| {
                spans.iter().any(|&(s, l)| minutes(s) <= t && t < minutes(s + l))
            };
            let freeze = active(&windows, now);
            prop_assert_eq!(freeze.is_some(), inside(now));
            // Boundaries, which a random `now` rarely hits.
            for &(s, l) in &spans {
                prop_assert!(active(&windows, minutes(s)).is_some());
                let end = minutes(s + l);
                prop_assert_eq!(active(&windows, end).is_some(), inside(end), "at end {}", end);
            }
            if let Some(f) = freeze {
                prop_assert!(f.until > now);
                prop_assert!(f.since <= now);
                prop_assert!(!inside(f.until), "until {} is inside a window", f.until);
                prop_assert!(!f.open_ended);
                // No gap between now and until: every window end before `until` is covered.
                for &(s, l) in &spans {
                    let end = minutes(s + l);
                    if now < end && end < f.until {
                        prop_assert!(inside(end), "gap at {}", end);
                    }
                }
                prop_assert!(next_start(&windows, now).into_iter().all(|n| n > now));
            } else {
                let next = spans.iter().map(|&(s, _)| minutes(s)).filter(|&s| s > now).min();
                prop_assert_eq!(next_start(&windows, now), next);
            }
        }

        #[test]
        fn weekly_freezes_in_dst_zones_are_consistent(
            rules in proptest::collection::vec(
                (proptest::collection::btree_set(0usize..7, 1..=3), 0u16..48, 1u16..=48, 0usize..5),
                1..4,
            ),
            at in 0i64..(366 * 1440),
        ) {
            let zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                         "Asia/Kolkata"];
            let all = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri,
                       Weekday::Sat, Weekday::Sun];
            let w: Vec<FreezeWindow> = rules
                .iter()
                .filter(|(_, from, to, _)| from != to)
                .map(|(days, from, to, zone)| FreezeWindow {
                    name: None,
                    rule: FreezeRule::Weekly(WeeklyRule {
                        days: days.iter().map(|&d| all[d]).collect(),
                        // Half hours, so that Lord Howe's 30-minute shift and DST gaps are hit.
                        from: ClockTime(from * 30 % 1440),
                        to: ClockTime(to * 30),
                        time_zone: Zone::get(zones[*zone]).unwrap_or_else(Zone::utc),
                    }),
                })
                .collect();
            // Around both 2026 DST changes in the north and the south.
            let now = datetime!(2026-01-01 00:00 UTC) + Duration::minutes(at);
            match active(&w, now) {
                Some(f) => {
                    prop_assert!(f.since <= now && now < f.until);
                    prop_assert!(active(&w, f.until - Duration::nanoseconds(1)).is_some());
                    prop_assert!(f.open_ended || active(&w, f.until).is_none());
                }
                None => {
                    if let Some(next) = next_start(&w, now) {
                        prop_assert!(next > now);
                        prop_assert_eq!(active(&w, next).map(|f| f.since), Some(next));
                        // Nothing frozen in between.
                        prop_assert!(active(&w, next - Duration::nanoseconds(1)).is_none());
                    }
                }
            }
        }

        #[test]
        fn weekly_utc_matches_minute_arithmetic(
            days in proptest::collection::btree_set(0usize..7, 1..=7),
            from in 0u16..1440,
            to in 1u16..=1440,
            at in 0i64..(14 * 1440),
        ) {
            prop_assume!(from != to);
            let all = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri,
                       Weekday::Sat, Weekday::Sun];
            let w = [FreezeWindow {
                name: None,
                rule: FreezeRule::Weekly(WeeklyRule {
                    days: days.iter().map(|&d| all[d]).collect(),
                    from: ClockTime(from),
                    to: ClockTime(to),
                    time_zone: Zone::utc(),
                }),
            }];
            // 2026-06-01 is a Monday: minute m of the fortnight is on weekday (m / 1440) % 7.
            let len = if to > from { i64::from(to - from) } else { i64::from(to + 1440 - from) };
            let inside = (-1i64..=1).any(|week| (0..7i64).any(|d| {
                let start = (week * 7 + d) * 1440 + i64::from(from);
                days.contains(&usize::try_from(d).unwrap_or(9)) && start <= at && at < start + len
            }));
            prop_assert_eq!(active(&w, minutes(at)).is_some(), inside);
        }
    }
}
