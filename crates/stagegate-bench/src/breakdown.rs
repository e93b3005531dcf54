//! Where a cold start goes, per function: the phases each `main` marks (`stagegate::startup`,
//! logged at debug level when the bench asks for them), lined up with when the bench started the
//! process and when the runtime client first asked for an event. The marks are wall-clock
//! microseconds, the one clock both processes share.

use std::path::Path;

use serde::Deserialize;

use crate::measure::ColdSample;
use crate::results::PhaseMedians;
use crate::stats::{median, round};

/// Label suffix of the cold-start targets that log their phases.
pub const SUFFIX: &str = "+phases";
/// What those targets add to the Lambda environment.
pub const LOG_FILTER: (&str, &str) = ("RUST_LOG", "info,stagegate::startup=debug");

pub const PROCESS: &str = "process start and tokio runtime";
pub const RUNTIME: &str = "runtime client to the first GET /next";

/// The part of a `tracing-subscriber` JSON log line the phases are in (an external format: only
/// what is read here).
#[derive(Deserialize)]
struct LogLine {
    fields: LogFields,
}

#[derive(Deserialize)]
struct LogFields {
    phases: String,
}

/// One cold start's phases in order, in ms, from its log; None when the line is missing.
pub fn from_log(log: &Path, sample: &ColdSample) -> Option<Vec<(String, f64)>> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text
        .lines()
        .find(|l| l.contains(stagegate::startup::MESSAGE))?;
    let line: LogLine = serde_json::from_str(line).ok()?;
    let marks = stagegate::startup::parse(&line.fields.phases)?;
    let spawned = sample.spawned_unix_us;
    let mut phases = Vec::with_capacity(marks.len() + 1);
    let mut last = spawned;
    for (i, (phase, at)) in marks.iter().enumerate() {
        let at = *at as f64;
        let name = if i == 0 {
            PROCESS.to_owned()
        } else {
            phase.clone()
        };
        phases.push((name, (at - last) / 1000.0));
        last = at;
    }
    phases.push((
        RUNTIME.to_owned(),
        sample.init_ms - (last - spawned) / 1000.0,
    ));
    Some(phases)
}

/// Medians per phase over the runs (phases in the order the function marks them); None for no
/// runs.
pub fn summarize(runs: &[Vec<(String, f64)>]) -> Option<PhaseMedians> {
    let first = runs.first()?;
    let phases_ms_median = first
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let ms: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.get(i).map(|(_, ms)| *ms))
                .collect();
            (name.clone(), round(median(&ms).unwrap_or(f64::NAN), 3))
        })
        .collect();
    Some(PhaseMedians {
        runs: runs.len(),
        phases_ms_median,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_line_up_with_spawn_and_first_next() {
        let dir = std::env::temp_dir().join(format!("breakdown-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("f.log");
        std::fs::write(
            &log,
            "{\"level\":\"DEBUG\",\"fields\":{\"message\":\"init phases\",\"phases\":\"main=1000300,preflight and logging=1000500,clock and SDK config=1001500\"}}\n",
        )
        .unwrap();
        let sample = ColdSample {
            init_ms: 3.0,
            init_cpu_ms: 0.0,
            first_invocation_ms: 4.0,
            rss_kib: 0,
            spawned_unix_us: 1_000_000.0,
        };
        let phases = from_log(&log, &sample).unwrap();
        let ms: Vec<f64> = phases
            .iter()
            .map(|(_, ms)| (ms * 1000.0).round() / 1000.0)
            .collect();
        assert_eq!(ms, vec![0.3, 0.2, 1.0, 1.5]);
        assert_eq!(phases[0].0, PROCESS);
        assert_eq!(phases[3].0, RUNTIME);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn medians_per_phase_in_order() {
        let run = |a: f64, b: f64| vec![("x".to_owned(), a), ("y".to_owned(), b)];
        let m = summarize(&[run(1.0, 4.0), run(3.0, 2.0), run(2.0, 3.0)]).unwrap();
        assert_eq!(m.runs, 3);
        assert_eq!(
            m.phases_ms_median,
            vec![("x".to_owned(), 2.0), ("y".to_owned(), 3.0)]
        );
        assert!(summarize(&[]).is_none());
    }
}
