//! The format of `bench/results.json`, as types. Other tooling and docs read that file, so its
//! shape is written down here once instead of being spread over `json!` maps and JSON pointers:
//! `assemble` fills a [`Results`], `report` renders one, and a test reads the committed file
//! back through these types (`deny_unknown_fields` everywhere), so a renamed, dropped or added
//! field fails a test instead of changing the file or printing "-".
//!
//! Pure data: this module depends on nothing that measures (only the simulation's and the
//! core's types it embeds).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use stagegate::classify::Outcome;
use stagegate::deployment::{DeploymentState, ResultCode};
use stagegate::policy::Action;

use crate::error::{Context, Result};
use crate::sim::{CostInputs, Model, StrategyResult};
use crate::stats::round;

/// Function binary name (`poll-deployment`, ...) to a figure.
pub type PerFunction<T> = BTreeMap<String, T>;

/// The whole of `bench/results.json`. Fields are in the file's (alphabetical) order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// `Debug` of the adaptive strategy's parameters.
    pub adaptive_params: String,
    pub binary_bytes: PerFunction<u64>,
    pub first_invocation_ms_median: PerFunction<f64>,
    pub first_invocation_ms_p95: PerFunction<f64>,
    pub handler_overhead_ms_p50: f64,
    pub handler_overhead_ms_p99: f64,
    /// Spawn to first answer over HTTPS beside plain HTTP (issue 28). Absent from files written
    /// before it was measured, so those still read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https: Option<Https>,
    pub init_breakdown: InitBreakdown,
    #[serde(deserialize_with = "nullable::numbers")]
    pub init_cpu_ms_median: PerFunction<f64>,
    pub init_experiments: InitExperiments,
    pub init_ms_median: PerFunction<f64>,
    pub init_ms_p95: PerFunction<f64>,
    pub init_speedup_vs_peer: PerFunction<f64>,
    pub machine: Machine,
    pub notes: Vec<String>,
    pub peer: ColdSummary,
    #[serde(deserialize_with = "nullable::number")]
    pub peer_init_cpu_ms_median: f64,
    pub peer_init_ms_median: f64,
    pub peer_parity: Parity,
    pub peer_rss_mb: f64,
    /// Strategy name to its simulated figures (rounded).
    pub polling: BTreeMap<String, StrategyResult>,
    pub polling_cost_inputs: CostInputs,
    pub polling_model: Model,
    /// The strategies in the order they are reported.
    pub polling_order: Vec<String>,
    pub polling_sensitivity: Vec<Sensitivity>,
    pub profile_runs: usize,
    pub profile_trials: Vec<Trial>,
    pub recommended_profile: Option<String>,
    pub recommended_profile_reason: Option<String>,
    pub rss_mb: PerFunction<f64>,
    pub rss_mb_median: PerFunction<f64>,
    pub runs: usize,
    pub sns_publishes: u64,
    /// The targets, checked.
    pub targets: Vec<Check>,
    pub timing: Timing,
    pub warm: Warm,
    pub warm_invocations: usize,
    pub zip_bytes: PerFunction<u64>,
}

impl Results {
    /// The file's text: pretty-printed, keys sorted at every level (through `serde_json::Value`,
    /// whose maps are sorted, so the order of struct fields does not matter), one final newline.
    pub fn to_json(&self) -> Result<String> {
        let value = serde_json::to_value(self).context("serialising the results")?;
        let text = serde_json::to_string_pretty(&value).context("serialising the results")?;
        Ok(text + "\n")
    }

    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).context("reading results")
    }
}

/// Summary of one target's cold starts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdSummary {
    pub runs: usize,
    pub init_ms_median: f64,
    pub init_ms_p95: f64,
    /// CPU time (all threads) used before the first /next, median; NaN (null) if it could not be
    /// read.
    #[serde(deserialize_with = "nullable::number")]
    pub init_cpu_ms_median: f64,
    pub first_invocation_ms_median: f64,
    pub first_invocation_ms_p95: f64,
    /// Peak RSS (VmHWM), MiB: the largest of the runs.
    pub rss_mb_max: f64,
    pub rss_mb_median: f64,
}

/// Where init goes, per function (the `+phases` cold starts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitBreakdown {
    pub functions: PerFunction<PhaseMedians>,
    pub note: String,
}

/// One function's init phases, in the order it marks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseMedians {
    /// `[phase, median ms]` pairs.
    pub phases_ms_median: Vec<(String, f64)>,
    pub runs: usize,
}

/// Cold starts of variants of the functions (other environment), kept apart from the real ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitExperiments {
    pub note: String,
    /// Target label (`poll-deployment+1-root-cert`, `notify-result+phases`, ...) to its summary.
    pub results: BTreeMap<String, ColdSummary>,
    /// Certificates in the system trust store (null: no bundle found).
    pub system_root_certificates: Option<usize>,
    /// Median time to load the system's root certificates; NaN (null) if they never loaded.
    #[serde(deserialize_with = "nullable::number")]
    pub tls_trust_store_ms: f64,
}

/// The cold starts of poll-deployment and the Python peer with their GameSparks endpoint behind
/// a TLS front, beside the same targets' plain-HTTP ones from the same rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Https {
    /// Certificates in the bundle both trust: the system's roots and the run's CA.
    pub ca_bundle_certificates: usize,
    /// The HTTPS cold starts in full, by target (`poll-deployment`, `python-peer`).
    pub cold: BTreeMap<String, ColdSummary>,
    pub note: String,
    /// By target: plain HTTP and HTTPS side by side.
    pub side_by_side: BTreeMap<String, HttpVsHttps>,
}

/// One target's plain-HTTP and HTTPS cold starts (medians and p95s, ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpVsHttps {
    pub http_first_invocation_ms_median: f64,
    pub http_first_invocation_ms_p95: f64,
    pub http_init_ms_median: f64,
    /// HTTPS minus plain HTTP, first invocation medians: what TLS adds to the first answer.
    pub https_added_ms_median: f64,
    pub https_first_invocation_ms_median: f64,
    pub https_first_invocation_ms_p95: f64,
    pub https_init_ms_median: f64,
}

/// The machine the figures come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub cpu: String,
    pub cpus: usize,
    pub kernel: String,
    pub loadavg_after: Vec<f64>,
    pub loadavg_before: Vec<f64>,
    pub python: String,
    pub rustc: String,
}

/// The Rust poll-deployment's and the Python peer's answers to the same event, on the fields the
/// workflow acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parity {
    pub equal: bool,
    /// The gate-state fields compared ([`ParityFields::NAMES`]).
    pub fields: Vec<String>,
    pub peer: ParityFields,
    pub rust: ParityFields,
}

/// The gate-state fields the workflow routes on, as `GateState` spells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParityFields {
    pub action: Action,
    pub attempt: u32,
    pub deployment_state: DeploymentState,
    pub outcome: Outcome,
    pub result_code: Option<ResultCode>,
    pub wait_seconds: u64,
}

impl ParityFields {
    /// The field names, in the order the file lists them (a test checks they are this type's).
    pub const NAMES: [&'static str; 6] = [
        "action",
        "waitSeconds",
        "outcome",
        "deploymentState",
        "attempt",
        "resultCode",
    ];
}

/// Fixed 10 s vs adaptive polling in one variant of the simulation model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sensitivity {
    pub adaptive_latency_s_p95: f64,
    pub adaptive_transitions_mean: f64,
    pub fixed_10s_latency_s_p95: f64,
    pub fixed_10s_transitions_mean: f64,
    pub scenario: Scenario,
    pub transitions_ratio: f64,
    pub within_log_sd: f64,
}

/// Which model a sensitivity row varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// The base model with another within-stage spread.
    Base,
    /// No failures, no slow outliers, a full history everywhere.
    Clean,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Clean => "clean",
        }
    }
}

/// One release-profile variant, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trial {
    pub name: String,
    pub description: String,
    pub build_seconds: f64,
    pub zip_bytes: PerFunction<u64>,
    pub binary_bytes: PerFunction<u64>,
    pub init_ms_median: PerFunction<f64>,
    pub first_invocation_ms_median: PerFunction<f64>,
    pub rss_mb: PerFunction<f64>,
    /// Means over the functions (five since fleet-step; four in older files).
    pub zip_bytes_mean: f64,
    pub init_ms_median_mean: f64,
    pub panic_abort: bool,
}

/// One target from the issue, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// How long the benchmark took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    pub bench_seconds: f64,
    pub build_seconds: f64,
    /// `--no-build`: the builds were read, not made.
    pub builds_skipped: bool,
    pub measure_seconds: f64,
}

/// Warm poll-deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warm {
    pub direct_invocation_ms_p50: f64,
    pub direct_invocation_ms_p99: f64,
    pub emulator_requests_per_invocation_max: usize,
    pub emulator_round_trip_ms_p50: f64,
    pub invocations: usize,
    pub method: String,
    pub note_sdk_method: String,
    pub overhead_ms_max: f64,
    pub overhead_ms_p50: f64,
    pub overhead_ms_p50_by_subtracting_sdk_median: f64,
    pub overhead_ms_p90: f64,
    pub overhead_ms_p99: f64,
    pub proxied_invocation_ms_p50: f64,
    pub rss_mb_after_warm: f64,
    pub sdk_round_trip_ms_median: f64,
    pub sdk_round_trip_ms_p99: f64,
}

/// serde_json writes a NaN (a figure that could not be measured) as `null`; these read such a
/// `null` back as NaN, for the figures that can be NaN.
mod nullable {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer};

    pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        Ok(BTreeMap::<String, Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::Value;

    use super::*;

    fn committed() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results.json");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// Where two JSON values differ, as JSON-pointer-like paths (for a readable failure).
    fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    let p = format!("{path}/{k}");
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => differences(&p, u, v, out),
                        (u, v) => out.push(format!("{p}: {u:?} vs {v:?}")),
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (u, v)) in x.iter().zip(y).enumerate() {
                    differences(&format!("{path}/{i}"), u, v, out);
                }
            }
            _ if a != b => out.push(format!("{path}: {a} vs {b}")),
            _ => {}
        }
    }

    #[test]
    fn the_committed_results_round_trip_through_the_type() {
        let text = committed();
        let file: Value = serde_json::from_str(&text).unwrap();
        let typed = Results::from_json(&text).unwrap_or_else(|e| panic!("{e}"));
        let again = serde_json::to_value(&typed).unwrap();
        let mut diff = vec![];
        differences("", &file, &again, &mut diff);
        assert!(
            diff.is_empty(),
            "bench/results.json (left) vs through `Results` (right):\n{}",
            diff.join("\n")
        );
        assert_eq!(file, again);
        // And the writer gives the very same text (key order, number formatting, newline).
        assert_eq!(typed.to_json().unwrap(), text);
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let mut file: Value = serde_json::from_str(&committed()).unwrap();
        if let Some(warm) = file.get_mut("warm").and_then(Value::as_object_mut) {
            warm.insert("overhead_ms_p42".into(), Value::from(1.0));
        }
        let err = serde_json::from_value::<Results>(file).unwrap_err();
        assert!(err.to_string().contains("overhead_ms_p42"), "{err}");
    }

    #[test]
    fn unmeasured_figures_are_null_and_read_back_as_nan() {
        let mut r = Results::from_json(&committed()).unwrap();
        r.peer.init_cpu_ms_median = f64::NAN;
        r.init_experiments.tls_trust_store_ms = f64::NAN;
        let text = r.to_json().unwrap();
        assert!(text.contains("\"tls_trust_store_ms\": null"));
        let back = Results::from_json(&text).unwrap();
        assert!(back.peer.init_cpu_ms_median.is_nan());
        assert!(back.init_experiments.tls_trust_store_ms.is_nan());
    }

    fn with_https() -> Results {
        let mut r = Results::from_json(&committed()).unwrap();
        let plain = r.peer;
        r.https = Some(Https {
            ca_bundle_certificates: 147,
            cold: [("python-peer".to_owned(), plain)].into(),
            note: "n".into(),
            side_by_side: [(
                "python-peer".to_owned(),
                HttpVsHttps {
                    http_first_invocation_ms_median: 1.0,
                    http_first_invocation_ms_p95: 2.0,
                    http_init_ms_median: 0.5,
                    https_added_ms_median: 3.25,
                    https_first_invocation_ms_median: 4.25,
                    https_first_invocation_ms_p95: 5.0,
                    https_init_ms_median: 0.75,
                },
            )]
            .into(),
        });
        r
    }

    #[test]
    fn the_https_figures_are_written_and_read_back() {
        let r = with_https();
        let text = r.to_json().unwrap();
        let file: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            file["https"]["side_by_side"]["python-peer"]["https_added_ms_median"],
            Value::from(3.25)
        );
        assert_eq!(file["https"]["ca_bundle_certificates"], Value::from(147));
        assert_eq!(Results::from_json(&text).unwrap(), r);
        // A file from before the HTTPS cold starts has no `https` and reads as None.
        let mut old = file;
        if let Some(map) = old.as_object_mut() {
            map.remove("https");
        }
        let old = serde_json::from_value::<Results>(old).unwrap();
        assert_eq!(old.https, None);
        assert!(!old.to_json().unwrap().contains("\"https\""));
    }

    #[test]
    fn an_unknown_https_field_is_refused() {
        let mut file = serde_json::to_value(with_https()).unwrap();
        if let Some(row) = file
            .pointer_mut("/https/side_by_side/python-peer")
            .and_then(Value::as_object_mut)
        {
            row.insert("tls_ms".into(), Value::from(1.0));
        }
        let err = serde_json::from_value::<Results>(file).unwrap_err();
        assert!(err.to_string().contains("tls_ms"), "{err}");
    }

    #[test]
    fn parity_names_are_the_fields() {
        let f = ParityFields {
            action: Action::Wait,
            attempt: 1,
            deployment_state: DeploymentState::InProgress,
            outcome: Outcome::InProgress,
            result_code: None,
            wait_seconds: 14,
        };
        let Value::Object(map) = serde_json::to_value(&f).unwrap() else {
            panic!("not an object")
        };
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut names = ParityFields::NAMES.to_vec();
        keys.sort_unstable();
        names.sort_unstable();
        assert_eq!(keys, names);
    }

    #[test]
    fn checks() {
        let c = Check::at_most("init", "poll", 12.0, 15.0);
        assert!(c.met);
        assert_eq!(c.margin, 3.0);
        let c = Check::at_least("speedup", "poll", 8.0, 10.0);
        assert!(!c.met);
        assert_eq!(c.margin, -2.0);
    }
}
