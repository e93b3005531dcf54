//! The gate's notion of now.
//!
//! In production this is the wall clock. Local tests and the demo compress time (the emulator
//! runs a 10-minute deployment in 10 s at scale 60); the functions then read
//! `STAGEGATE_TIME_SCALE` and `STAGEGATE_TIME_ORIGIN` so deadlines and waits are measured on the
//! same virtual clock as the emulator's: virtual = origin + (real - origin) * scale.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

pub const SCALE_VAR: &str = "STAGEGATE_TIME_SCALE";
pub const ORIGIN_VAR: &str = "STAGEGATE_TIME_ORIGIN";

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;

    /// A wall-clock time from elsewhere (e.g. Step Functions' `$$.Execution.StartTime`) on this
    /// clock's timeline.
    fn on_this_clock(&self, wall: OffsetDateTime) -> OffsetDateTime {
        wall
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SystemClock {
    scale: f64,
    origin: OffsetDateTime,
}

impl SystemClock {
    pub fn real() -> Self {
        Self {
            scale: 1.0,
            origin: OffsetDateTime::UNIX_EPOCH,
        }
    }

    /// Reads the optional time scale from the environment (through `lookup`, for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let Some(scale) = lookup(SCALE_VAR).filter(|s| !s.trim().is_empty()) else {
            return Ok(Self::real());
        };
        let scale: f64 = scale
            .trim()
            .parse()
            .map_err(|_| format!("{SCALE_VAR} must be a number, got {scale:?}"))?;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(format!(
                "{SCALE_VAR} must be a positive number, got {scale}"
            ));
        }
        if scale == 1.0 {
            return Ok(Self::real());
        }
        let origin = lookup(ORIGIN_VAR).ok_or_else(|| {
            format!("{ORIGIN_VAR} (RFC 3339) is required when {SCALE_VAR} is set, so every process shares one virtual clock")
        })?;
        let origin = OffsetDateTime::parse(origin.trim(), &Rfc3339)
            .map_err(|e| format!("{ORIGIN_VAR} must be an RFC 3339 timestamp: {e}"))?;
        Ok(Self { scale, origin })
    }

    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn virtual_time(&self, real: OffsetDateTime) -> OffsetDateTime {
        if self.scale == 1.0 {
            return real;
        }
        let elapsed = (real - self.origin).as_seconds_f64() * self.scale;
        self.origin + Duration::seconds_f64(elapsed)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        self.virtual_time(OffsetDateTime::now_utc())
    }

    fn on_this_clock(&self, wall: OffsetDateTime) -> OffsetDateTime {
        self.virtual_time(wall)
    }
}

/// A clock that reads a fixed time: for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::datetime;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn unset_means_wall_clock() {
        assert_eq!(
            SystemClock::from_lookup(lookup(&[])),
            Ok(SystemClock::real())
        );
        assert_eq!(
            SystemClock::from_lookup(lookup(&[(SCALE_VAR, "1")])),
            Ok(SystemClock::real())
        );
    }

    #[test]
    fn scaled_clock_runs_faster_from_origin() {
        let clock = SystemClock::from_lookup(lookup(&[
            (SCALE_VAR, "60"),
            (ORIGIN_VAR, "2026-01-01T00:00:00Z"),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            clock.virtual_time(datetime!(2026-01-01 00:00:10 UTC)),
            datetime!(2026-01-01 00:10:00 UTC)
        );
        assert_eq!(
            clock.virtual_time(datetime!(2026-01-01 00:00:00 UTC)),
            datetime!(2026-01-01 00:00:00 UTC)
        );
    }

    #[test]
    fn bad_settings_are_explained() {
        let cases = [
            (vec![(SCALE_VAR, "fast")], "must be a number"),
            (vec![(SCALE_VAR, "-2")], "positive"),
            (vec![(SCALE_VAR, "NaN")], "positive"),
            (vec![(SCALE_VAR, "60")], "is required"),
            (vec![(SCALE_VAR, "60"), (ORIGIN_VAR, "noon")], "RFC 3339"),
        ];
        for (pairs, want) in cases {
            let err = SystemClock::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(err.contains(want), "{pairs:?}: {err}");
        }
    }
}
