//! Where a function's cold start goes. Each `main` marks its init phases; with
//! `RUST_LOG=info,stagegate::startup=debug` one log line lists them as wall-clock microseconds,
//! which `cargo xtask bench` lines up with when it started the process and when the runtime
//! client first asked for an event (bench/results.json, `init_breakdown`). Off by default:
//! marking costs a clock read per phase and logs nothing.

use std::time::{SystemTime, UNIX_EPOCH};

/// The log line's message and field the bench looks for.
pub const MESSAGE: &str = "init phases";

#[derive(Debug)]
pub struct Startup {
    marks: Vec<(&'static str, SystemTime)>,
}

impl Startup {
    /// The first mark: `main` is running (the process is loaded and the tokio runtime is up).
    pub fn begin() -> Self {
        Self {
            marks: vec![("main", SystemTime::now())],
        }
    }

    /// `phase` has just finished.
    pub fn mark(&mut self, phase: &'static str) {
        self.marks.push((phase, SystemTime::now()));
    }

    /// Logs the marks at debug level, as `phase=unix_microseconds` pairs in order.
    pub fn report(self) {
        tracing::debug!(target: "stagegate::startup", phases = %render(&self.marks), "{MESSAGE}");
    }
}

fn render(marks: &[(&'static str, SystemTime)]) -> String {
    marks
        .iter()
        .map(|(phase, at)| {
            let us = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
            format!("{phase}={us}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The bench's side: the marks back from a `phases` field.
pub fn parse(phases: &str) -> Option<Vec<(String, u128)>> {
    phases
        .split(',')
        .map(|pair| {
            let (phase, us) = pair.split_once('=')?;
            Some((phase.to_owned(), us.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn marks_round_trip_in_order() {
        let t0 = UNIX_EPOCH + Duration::from_micros(1_764_563_000_000_123);
        let marks = [
            ("main", t0),
            ("SDK config", t0 + Duration::from_micros(250)),
        ];
        let text = render(&marks);
        assert_eq!(text, "main=1764563000000123,SDK config=1764563000000373");
        assert_eq!(
            parse(&text),
            Some(vec![
                ("main".to_owned(), 1_764_563_000_000_123),
                ("SDK config".to_owned(), 1_764_563_000_000_373)
            ])
        );
        assert_eq!(parse("main=x"), None);
    }
}
