//! Virtual time: `origin + real_elapsed * time_scale`.
//!
//! Everything the emulator stores or returns is in virtual time, so a harness that scales its own
//! clocks the same way (see `GET /_emulator/clock`) sees consistent timestamps.

use std::time::Instant;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The emulator's virtual clock.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    origin: OffsetDateTime,
    origin_instant: Instant,
    time_scale: f64,
}

/// What `GET /_emulator/clock` returns.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClockInfo {
    /// Real wall-clock time at which virtual time started (RFC 3339).
    pub origin: String,
    /// The same instant as Unix milliseconds.
    pub origin_unix_millis: i64,
    /// Virtual seconds per real second.
    pub time_scale: f64,
    /// Current virtual time (RFC 3339).
    pub now: String,
}

impl VirtualClock {
    /// Starts virtual time at the current wall-clock time.
    pub fn start(time_scale: f64) -> Self {
        Self {
            origin: truncate_to_millis(OffsetDateTime::now_utc()),
            origin_instant: Instant::now(),
            time_scale,
        }
    }

    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }

    pub fn origin(&self) -> OffsetDateTime {
        self.origin
    }

    /// Current virtual time, truncated to milliseconds so that what is stored equals what is
    /// returned on the wire.
    pub fn now(&self) -> OffsetDateTime {
        let real = self.origin_instant.elapsed().as_secs_f64();
        let virt = Duration::saturating_seconds_f64(real * self.time_scale);
        truncate_to_millis(self.origin.saturating_add(virt))
    }

    pub fn info(&self) -> ClockInfo {
        ClockInfo {
            origin: format_timestamp(self.origin),
            origin_unix_millis: unix_millis(self.origin),
            time_scale: self.time_scale,
            now: format_timestamp(self.now()),
        }
    }
}

pub(crate) fn unix_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let ms = t.millisecond();
    t.replace_nanosecond(u32::from(ms) * 1_000_000).unwrap_or(t)
}

/// ISO-8601 / RFC 3339 in UTC with a `Z` suffix (the SDK rejects offsets), with milliseconds only
/// when they are not zero: `2026-11-26T05:00:00Z`, `2026-11-26T05:00:00.250Z`.
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.millisecond() {
        0 => format!("{base}Z"),
        ms => format!("{base}.{ms:03}Z"),
    }
}

/// A snapshot id for a creation time, always with three fractional digits as the model requires.
pub(crate) fn snapshot_id_for(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "Snapshot_{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an absolute RFC 3339 timestamp, `now`, or a relative offset such as `-3d`, `-90m`,
/// `-45s`, `-2h`, `+10m` (relative to `now`).
pub(crate) fn parse_time_spec(spec: &str, now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    let s = spec.trim();
    if s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rest) = s.strip_prefix('-').or_else(|| s.strip_prefix('+')) {
        let sign = if s.starts_with('-') { -1.0 } else { 1.0 };
        let (num, unit) = rest.split_at(
            rest.find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(rest.len()),
        );
        let value: f64 = num.parse().map_err(|_| {
            format!("invalid relative time {spec:?} (expected e.g. \"-3d\", \"-90m\")")
        })?;
        let unit_secs = match unit {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => {
                return Err(format!(
                    "invalid unit in relative time {spec:?} (use s, m, h or d)"
                ))
            }
        };
        if !value.is_finite() {
            return Err(format!("invalid relative time {spec:?}"));
        }
        return Ok(truncate_to_millis(now.saturating_add(
            Duration::saturating_seconds_f64(sign * value * unit_secs),
        )));
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| truncate_to_millis(t.to_offset(time::UtcOffset::UTC)))
        .map_err(|e| format!("invalid timestamp {spec:?} (expected RFC 3339 such as 2026-11-20T10:00:00Z, \"now\" or \"-3d\"): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_with_and_without_millis() {
        assert_eq!(
            format_timestamp(datetime!(2026-11-26 05:00:00 UTC)),
            "2026-11-26T05:00:00Z"
        );
        assert_eq!(
            format_timestamp(datetime!(2026-11-26 05:00:00.25 UTC)),
            "2026-11-26T05:00:00.250Z"
        );
        assert_eq!(
            snapshot_id_for(datetime!(2026-11-26 05:00:00 UTC)),
            "Snapshot_2026-11-26T05:00:00.000Z"
        );
    }

    #[test]
    fn parses_specs() {
        let now = datetime!(2026-11-26 05:00:00 UTC);
        assert_eq!(parse_time_spec("now", now), Ok(now));
        assert_eq!(
            parse_time_spec("-1d", now),
            Ok(datetime!(2026-11-25 05:00:00 UTC))
        );
        assert_eq!(
            parse_time_spec("-90m", now),
            Ok(datetime!(2026-11-26 03:30:00 UTC))
        );
        assert_eq!(
            parse_time_spec("+1.5s", now),
            Ok(datetime!(2026-11-26 05:00:01.5 UTC))
        );
        assert_eq!(
            parse_time_spec("2026-01-02T03:04:05.123456Z", now),
            Ok(datetime!(2026-01-02 03:04:05.123 UTC))
        );
        assert!(parse_time_spec("-3w", now).is_err());
        assert!(parse_time_spec("yesterday", now).is_err());
    }

    #[test]
    fn scaled_clock_runs_faster() {
        let clock = VirtualClock::start(1000.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = clock.now() - clock.origin();
        assert!(elapsed >= Duration::seconds(19), "{elapsed}");
    }
}
