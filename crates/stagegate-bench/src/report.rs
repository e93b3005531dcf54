//! Turning samples into `bench/results.json`, the target checks and the printed table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::measure::ColdSample;
use crate::stats::{self, round};

pub const INIT_TARGET_MS: f64 = 15.0;
pub const RSS_TARGET_MB: f64 = 20.0;
pub const PEER_SPEEDUP_TARGET: f64 = 10.0;
pub const OVERHEAD_TARGET_MS: f64 = 1.0;
pub const TRANSITIONS_TARGET_RATIO: f64 = 1.0 / 3.0;
/// 3 MiB.
pub const ZIP_TARGET_BYTES: u64 = 3 * 1024 * 1024;

/// Summary of one target's cold starts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ColdSummary {
    pub runs: usize,
    pub init_ms_median: f64,
    pub init_ms_p95: f64,
    /// CPU time (all threads) used before the first /next, median.
    pub init_cpu_ms_median: f64,
    pub first_invocation_ms_median: f64,
    pub first_invocation_ms_p95: f64,
    /// Peak RSS (VmHWM), MiB: the largest of the runs.
    pub rss_mb_max: f64,
    pub rss_mb_median: f64,
}

pub fn summarize(samples: &[ColdSample]) -> ColdSummary {
    let init: Vec<f64> = samples.iter().map(|s| s.init_ms).collect();
    let first: Vec<f64> = samples.iter().map(|s| s.first_invocation_ms).collect();
    let rss: Vec<f64> = samples.iter().map(|s| s.rss_kib as f64 / 1024.0).collect();
    let cpu: Vec<f64> = samples.iter().map(|s| s.init_cpu_ms).collect();
    ColdSummary {
        runs: samples.len(),
        init_ms_median: round(stats::median(&init).unwrap_or(f64::NAN), 3),
        init_ms_p95: round(stats::percentile(&init, 95.0).unwrap_or(f64::NAN), 3),
        init_cpu_ms_median: round(stats::median(&cpu).unwrap_or(f64::NAN), 3),
        first_invocation_ms_median: round(stats::median(&first).unwrap_or(f64::NAN), 3),
        first_invocation_ms_p95: round(stats::percentile(&first, 95.0).unwrap_or(f64::NAN), 3),
        rss_mb_max: round(stats::max(&rss).unwrap_or(f64::NAN), 2),
        rss_mb_median: round(stats::median(&rss).unwrap_or(f64::NAN), 2),
    }
}

/// One target from the issue, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub target: String,
    pub subject: String,
    pub value: f64,
    pub limit: f64,
    pub met: bool,
    /// How far inside (positive) or outside (negative) the limit, in the value's unit.
    pub margin: f64,
}

impl Check {
    /// `value` must be at most `limit`.
    pub fn at_most(target: &str, subject: &str, value: f64, limit: f64) -> Self {
        Self {
            target: target.into(),
            subject: subject.into(),
            value,
            limit,
            met: value <= limit,
            margin: round(limit - value, 3),
        }
    }

    /// `value` must be at least `limit`.
    pub fn at_least(target: &str, subject: &str, value: f64, limit: f64) -> Self {
        Self {
            target: target.into(),
            subject: subject.into(),
            value,
            limit,
            met: value >= limit,
            margin: round(value - limit, 3),
        }
    }
}

/// One release-profile variant, measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    pub name: String,
    pub description: String,
    pub build_seconds: f64,
    pub zip_bytes: BTreeMap<String, u64>,
    pub binary_bytes: BTreeMap<String, u64>,
    pub init_ms_median: BTreeMap<String, f64>,
    pub first_invocation_ms_median: BTreeMap<String, f64>,
    pub rss_mb: BTreeMap<String, f64>,
    /// Means over the four functions.
    pub zip_bytes_mean: f64,
    pub init_ms_median_mean: f64,
    pub panic_abort: bool,
}

/// Picks a profile: among the unwind variants, the fastest init (differences under 0.5 ms or 5 %
/// count as ties, broken by the smaller zips); abort only if it wins by 15 % or more.
pub fn recommend(trials: &[Trial]) -> Option<(String, String)> {
    let unwind: Vec<&Trial> = trials.iter().filter(|t| !t.panic_abort).collect();
    let best_init = unwind
        .iter()
        .map(|t| t.init_ms_median_mean)
        .fold(f64::INFINITY, f64::min);
    let tolerance = (best_init * 0.05).max(0.5);
    let chosen = unwind
        .iter()
        .filter(|t| t.init_ms_median_mean <= best_init + tolerance)
        .min_by(|a, b| a.zip_bytes_mean.total_cmp(&b.zip_bytes_mean))?;
    let mut why = format!(
        "{}: init {:.2} ms (mean of medians; best unwind {:.2} ms, ties within {:.2} ms), zip {:.0} bytes mean",
        chosen.name, chosen.init_ms_median_mean, best_init, tolerance, chosen.zip_bytes_mean
    );
    for abort in trials.iter().filter(|t| t.panic_abort) {
        let zip_gain = 1.0 - abort.zip_bytes_mean / chosen.zip_bytes_mean;
        let init_gain = 1.0 - abort.init_ms_median_mean / chosen.init_ms_median_mean;
        let _ = write!(
            why,
            "; {} (panic abort) is {:.1} % smaller and {:.1} % faster to init",
            abort.name,
            zip_gain * 100.0,
            init_gain * 100.0
        );
        // A big gain in one measure, and no real loss (over 5 %) in the other.
        if (zip_gain >= 0.15 && init_gain >= -0.05) || (init_gain >= 0.15 && zip_gain >= -0.05) {
            return Some((abort.name.clone(), why + ": a big enough gain for abort"));
        }
    }
    why.push_str(": not worth losing lambda_runtime's panic reporting");
    Some((chosen.name.clone(), why))
}

fn pad(s: &str, w: usize) -> String {
    format!("{s:<w$}")
}

/// A fixed-width table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.len());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| pad(c, widths.get(i).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
    out.push('\n');
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.clone()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(name: &str, init: f64, zip: f64, abort: bool) -> Trial {
        Trial {
            name: name.into(),
            description: String::new(),
            build_seconds: 0.0,
            zip_bytes: BTreeMap::new(),
            binary_bytes: BTreeMap::new(),
            init_ms_median: BTreeMap::new(),
            first_invocation_ms_median: BTreeMap::new(),
            rss_mb: BTreeMap::new(),
            zip_bytes_mean: zip,
            init_ms_median_mean: init,
            panic_abort: abort,
        }
    }

    #[test]
    fn recommendation_prefers_unwind_and_breaks_ties_by_size() {
        let trials = [
            trial("current", 5.0, 3.0e6, true),
            trial("unwind", 5.1, 3.3e6, false),
            trial("fat", 5.2, 3.1e6, false),
            trial("slow-small", 9.0, 2.0e6, false),
        ];
        let (name, why) = recommend(&trials).unwrap();
        assert_eq!(name, "fat", "{why}");
        // A big abort gain wins.
        let trials = [
            trial("abort", 3.0, 2.0e6, true),
            trial("unwind", 5.0, 3.0e6, false),
        ];
        assert_eq!(recommend(&trials).unwrap().0, "abort");
        assert!(recommend(&[]).is_none());
    }

    #[test]
    fn checks_and_table() {
        let c = Check::at_most("init", "poll", 12.0, 15.0);
        assert!(c.met);
        assert_eq!(c.margin, 3.0);
        let c = Check::at_least("speedup", "poll", 8.0, 10.0);
        assert!(!c.met);
        assert_eq!(c.margin, -2.0);
        let t = table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\n---  --\nxxx  y\n");
    }

    #[test]
    fn summary_uses_medians_and_peaks() {
        let s = summarize(&[
            ColdSample {
                init_ms: 1.0,
                init_cpu_ms: 0.5,
                first_invocation_ms: 2.0,
                rss_kib: 1024,
                spawned_unix_us: 0.0,
            },
            ColdSample {
                init_ms: 3.0,
                init_cpu_ms: 0.7,
                first_invocation_ms: 4.0,
                rss_kib: 2048,
                spawned_unix_us: 0.0,
            },
        ]);
        assert_eq!(s.init_ms_median, 2.0);
        assert_eq!(s.init_cpu_ms_median, 0.6);
        assert_eq!(s.rss_mb_max, 2.0);
        assert_eq!(s.rss_mb_median, 1.5);
    }
}
