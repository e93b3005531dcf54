//! Assembling the results document: from what was measured (`measurements`), the main build's
//! sizes and the polling simulation to a [`Results`], with the figures rounded as the file
//! keeps them, the targets checked, a release profile recommended, and the notes that
//! say how each figure was taken. Pure: no I/O, no clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::adaptive::AdaptiveParams;
use crate::artifacts::Build;
use crate::measure::PEER_LABEL;
use crate::measurements::cold::ColdStarts;
use crate::measurements::polling::Polling;
use crate::measurements::{Counts, Measured};
use crate::results::{
    Check, ColdSummary, HttpVsHttps, Https, InitBreakdown, InitExperiments, Machine, PerFunction,
    Results, Timing, Trial, Warm,
};
use crate::sim::StrategyResult;
use crate::stats::{self, round};

/// Issue 15: init <= 10 ms median and >= 30x the Python peer in the same run, zips <= 3 MB.
pub const INIT_TARGET_MS: f64 = 10.0;
pub const RSS_TARGET_MB: f64 = 20.0;
pub const PEER_SPEEDUP_TARGET: f64 = 30.0;
pub const OVERHEAD_TARGET_MS: f64 = 1.0;
pub const TRANSITIONS_TARGET_RATIO: f64 = 1.0 / 3.0;
/// 3 MiB.
pub const ZIP_TARGET_BYTES: u64 = 3 * 1024 * 1024;

const INIT_BREAKDOWN_NOTE: &str = "The `+phases` cold starts: each function's main marks its init phases (stagegate::startup, logged at debug level only for these runs) in wall-clock microseconds, lined up with the process spawn and the first GET /invocation/next. `process start and tokio runtime` is spawn to the first line of main; the TLS trust store is not part of init (the connector builds it on the first HTTPS request)";
const INIT_EXPERIMENTS_NOTE: &str = "poll-deployment+1-root-cert: the same binary and event with SSL_CERT_FILE holding one root certificate instead of the system store. The old connector loaded the system's roots when each client was built (about 1.3 ms of init per client); stagegate-http loads them on the first HTTPS request, so init should not differ. What that first request pays is `tls_trust_store_ms` (measured in the bench process: loading and parsing the system's roots)";
const HTTPS_NOTE: &str = "poll-deployment+https and python-peer+https: the same binaries and event in the same rounds as the plain-HTTP cold starts, with AWS_ENDPOINT_URL_GAMESPARKS at a TLS front on 127.0.0.1 (a tokio-rustls proxy in the harness, TLS 1.2/1.3, ring) that forwards to the emulator. Its certificate is signed by a CA made for the run; both trust a bundle of the system's roots plus that CA, so each loads a real-sized trust store on its first HTTPS request: poll-deployment through SSL_CERT_FILE (stagegate-http's system-store path), the peer through AWS_CA_BUNDLE (botocore). https_added_ms_median = HTTPS minus plain-HTTP first invocation median: trust store, handshake, encryption and the proxy's loopback hop";
const WARM_METHOD: &str = "poll-deployment stays warm behind the Runtime API stub; the event is served, the response POST ends the invocation. Its GameSparks endpoint is a timing proxy in the harness that records, per request, when it had the request head and when it had the emulator's full answer; handler overhead = invocation time - that window (the emulator round trip). Everything the function does itself (runtime client, JSON, SDK signing/serialising/parsing, classify/decide/backoff, logging) counts as overhead.";
const WARM_SDK_METHOD: &str = "the alternative: direct (no proxy) invocation p50 minus the median of direct SDK GetStageDeployment calls from the harness; it also subtracts the SDK's own client-side work, so it is lower";
const NOTES: [&str; 4] = [
    "init = process spawn to its first GET /2018-06-01/runtime/invocation/next; first invocation = spawn to the first response POST; one unrecorded warm-up round first",
    "rss_mb = the largest VmHWM (MiB) over the runs, read after the first invocation; rss_mb_median = the median",
    "functions are the x86_64 cargo-lambda build (zig linker) that the zips contain; arm64 (what infra/ deploys) cannot be built here",
    "zip target 3 MiB = 3145728 bytes",
];

/// The results document.
pub fn assemble(
    counts: Counts,
    m: &Measured,
    build: &Build,
    polling: &Polling,
    timing: Timing,
    machine: Machine,
) -> Results {
    let cold = &m.cold;
    let per_fn = |f: fn(&ColdSummary) -> f64| -> PerFunction<f64> {
        cold.functions
            .iter()
            .map(|(k, v)| (k.clone(), f(v)))
            .collect()
    };
    let init_ms_median = per_fn(|s| s.init_ms_median);
    let rss_mb = per_fn(|s| s.rss_mb_max);
    let init_speedup_vs_peer: PerFunction<f64> = init_ms_median
        .iter()
        .map(|(k, v)| (k.clone(), round(cold.peer.init_ms_median / v, 1)))
        .collect();
    let warm = warm(m);
    let recommendation = recommend(&m.trials);
    let targets = checks(
        &cold.functions,
        &rss_mb,
        &init_speedup_vs_peer,
        warm.overhead_ms_p50,
        &polling.results,
        build,
    );

    Results {
        adaptive_params: format!("{:?}", AdaptiveParams::default()),
        binary_bytes: build.binary_bytes.clone(),
        first_invocation_ms_median: per_fn(|s| s.first_invocation_ms_median),
        first_invocation_ms_p95: per_fn(|s| s.first_invocation_ms_p95),
        handler_overhead_ms_p50: warm.overhead_ms_p50,
        handler_overhead_ms_p99: warm.overhead_ms_p99,
        https: https(cold),
        init_breakdown: InitBreakdown {
            functions: cold.init_breakdown.clone(),
            note: INIT_BREAKDOWN_NOTE.into(),
        },
        init_cpu_ms_median: per_fn(|s| s.init_cpu_ms_median),
        init_experiments: InitExperiments {
            note: INIT_EXPERIMENTS_NOTE.into(),
            results: cold.experiments.clone(),
            system_root_certificates: cold.system_roots,
            tls_trust_store_ms: cold.tls_trust_store_ms,
        },
        init_ms_median,
        init_ms_p95: per_fn(|s| s.init_ms_p95),
        init_speedup_vs_peer,
        machine,
        notes: NOTES.map(str::to_owned).to_vec(),
        peer: cold.peer,
        peer_init_cpu_ms_median: cold.peer.init_cpu_ms_median,
        peer_init_ms_median: cold.peer.init_ms_median,
        peer_parity: m.parity.clone(),
        peer_rss_mb: cold.peer.rss_mb_max,
        polling: polling
            .results
            .iter()
            .map(|(k, r)| (k.clone(), rounded(r)))
            .collect(),
        polling_cost_inputs: polling.cost,
        polling_model: polling.model,
        polling_order: polling.order.clone(),
        polling_sensitivity: polling.sensitivity.clone(),
        profile_runs: if m.trials.is_empty() {
            0
        } else {
            counts.profile_runs
        },
        profile_trials: m.trials.clone(),
        recommended_profile: recommendation.as_ref().map(|(n, _)| n.clone()),
        recommended_profile_reason: recommendation.map(|(_, why)| why),
        rss_mb,
        rss_mb_median: per_fn(|s| s.rss_mb_median),
        runs: counts.runs,
        sns_publishes: m.sns_published,
        targets,
        timing,
        warm,
        warm_invocations: counts.warm,
        zip_bytes: build.zip_bytes.clone(),
    }
}

/// The HTTPS cold starts beside the same targets' plain-HTTP ones; None when there were none.
fn https(cold: &ColdStarts) -> Option<Https> {
    if cold.https.is_empty() {
        return None;
    }
    let side_by_side = cold
        .https
        .iter()
        .filter_map(|(label, tls)| {
            let plain = if label == PEER_LABEL {
                &cold.peer
            } else {
                cold.functions.get(label)?
            };
            let row = HttpVsHttps {
                http_first_invocation_ms_median: plain.first_invocation_ms_median,
                http_first_invocation_ms_p95: plain.first_invocation_ms_p95,
                http_init_ms_median: plain.init_ms_median,
                https_added_ms_median: round(
                    tls.first_invocation_ms_median - plain.first_invocation_ms_median,
                    3,
                ),
                https_first_invocation_ms_median: tls.first_invocation_ms_median,
                https_first_invocation_ms_p95: tls.first_invocation_ms_p95,
                https_init_ms_median: tls.init_ms_median,
            };
            Some((label.clone(), row))
        })
        .collect();
    Some(Https {
        ca_bundle_certificates: cold.https_bundle_certificates,
        cold: cold.https.clone(),
        note: HTTPS_NOTE.into(),
        side_by_side,
    })
}

fn warm(m: &Measured) -> Warm {
    let w = &m.warm;
    let overhead = &w.proxied.overhead_ms;
    let p = |samples: &[f64], pct: f64| stats::percentile(samples, pct).unwrap_or(f64::NAN);
    let direct_p50 = w.direct_invocation_ms_p50();
    let sdk_median = w.sdk_round_trip_ms_median();
    Warm {
        direct_invocation_ms_p50: round(direct_p50, 4),
        direct_invocation_ms_p99: round(p(&w.direct.invocation_ms, 99.0), 4),
        emulator_requests_per_invocation_max: w
            .proxied
            .upstream_requests
            .iter()
            .copied()
            .max()
            .unwrap_or(0),
        emulator_round_trip_ms_p50: round(p(&w.proxied.upstream_ms, 50.0), 4),
        invocations: overhead.len(),
        method: WARM_METHOD.into(),
        note_sdk_method: WARM_SDK_METHOD.into(),
        overhead_ms_max: round(stats::max(overhead).unwrap_or(f64::NAN), 4),
        overhead_ms_p50: round(p(overhead, 50.0), 4),
        overhead_ms_p50_by_subtracting_sdk_median: round(direct_p50 - sdk_median, 4),
        overhead_ms_p90: round(p(overhead, 90.0), 4),
        overhead_ms_p99: round(p(overhead, 99.0), 4),
        proxied_invocation_ms_p50: round(p(&w.proxied.invocation_ms, 50.0), 4),
        rss_mb_after_warm: round(w.rss_mb(), 2),
        sdk_round_trip_ms_median: round(sdk_median, 4),
        sdk_round_trip_ms_p99: round(p(&w.sdk_ms, 99.0), 4),
    }
}

/// A strategy's figures as the file keeps them.
fn rounded(r: &StrategyResult) -> StrategyResult {
    StrategyResult {
        transitions_mean: round(r.transitions_mean, 2),
        detection_latency_s_p95: round(r.detection_latency_s_p95, 2),
        usd_per_1000: round(r.usd_per_1000, 5),
        polls_mean: round(r.polls_mean, 2),
        detection_latency_s_p50: round(r.detection_latency_s_p50, 2),
        detection_latency_s_mean: round(r.detection_latency_s_mean, 2),
        detection_latency_s_max: round(r.detection_latency_s_max, 1),
        lambda_invocations_mean: round(r.lambda_invocations_mean, 2),
    }
}

/// The targets, checked (the polling ones on the unrounded simulation).
fn checks(
    cold: &BTreeMap<String, ColdSummary>,
    rss_mb: &PerFunction<f64>,
    speedup: &PerFunction<f64>,
    overhead_p50: f64,
    polling: &BTreeMap<String, StrategyResult>,
    build: &Build,
) -> Vec<Check> {
    let mut checks = vec![];
    for (f, s) in cold {
        checks.push(Check::at_most(
            "init median <= 10 ms",
            f,
            s.init_ms_median,
            INIT_TARGET_MS,
        ));
    }
    for (f, v) in rss_mb {
        checks.push(Check::at_most(
            "peak RSS <= 20 MB (MiB)",
            f,
            *v,
            RSS_TARGET_MB,
        ));
    }
    for (f, v) in speedup {
        checks.push(Check::at_least(
            ">= 30x faster init than the Python peer",
            f,
            *v,
            PEER_SPEEDUP_TARGET,
        ));
    }
    checks.push(Check::at_most(
        "handler overhead p50 <= 1 ms",
        "poll-deployment",
        overhead_p50,
        OVERHEAD_TARGET_MS,
    ));
    if let (Some(fixed), Some(adaptive)) = (polling.get("fixed_10s"), polling.get("adaptive")) {
        checks.push(Check::at_most(
            "adaptive transitions <= 1/3 of fixed 10 s (ratio)",
            "adaptive",
            round(adaptive.transitions_mean / fixed.transitions_mean, 3),
            round(TRANSITIONS_TARGET_RATIO, 3),
        ));
        checks.push(Check::at_most(
            "adaptive p95 detection latency <= fixed 10 s's (s)",
            "adaptive",
            round(adaptive.detection_latency_s_p95, 2),
            round(fixed.detection_latency_s_p95, 2),
        ));
    }
    for (f, z) in &build.zip_bytes {
        checks.push(Check::at_most(
            "zip <= 3 MiB (bytes)",
            f,
            *z as f64,
            ZIP_TARGET_BYTES as f64,
        ));
    }
    checks
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

    fn summary(init: f64, first: f64) -> ColdSummary {
        ColdSummary {
            runs: 3,
            init_ms_median: init,
            init_ms_p95: init + 1.0,
            init_cpu_ms_median: init / 2.0,
            first_invocation_ms_median: first,
            first_invocation_ms_p95: first + 1.0,
            rss_mb_max: 10.0,
            rss_mb_median: 9.0,
        }
    }

    fn cold(https: &[(&str, ColdSummary)]) -> ColdStarts {
        ColdStarts {
            functions: [
                ("poll-deployment".to_owned(), summary(4.0, 6.0)),
                ("notify-result".to_owned(), summary(3.0, 5.0)),
            ]
            .into(),
            peer: summary(300.0, 320.0),
            experiments: BTreeMap::new(),
            https: https.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            https_bundle_certificates: 147,
            init_breakdown: BTreeMap::new(),
            tls_trust_store_ms: 1.3,
            system_roots: Some(146),
            responses: BTreeMap::new(),
        }
    }

    #[test]
    fn https_sits_beside_the_same_targets_plain_http() {
        let c = cold(&[
            ("poll-deployment", summary(4.1, 9.5)),
            ("python-peer", summary(301.0, 340.25)),
        ]);
        let h = https(&c).unwrap_or_else(|| panic!("no https section"));
        assert_eq!(h.ca_bundle_certificates, 147);
        assert_eq!(h.cold, c.https);
        assert_eq!(
            h.side_by_side.keys().collect::<Vec<_>>(),
            ["poll-deployment", "python-peer"]
        );
        let ours = h.side_by_side["poll-deployment"];
        assert_eq!(ours.http_first_invocation_ms_median, 6.0);
        assert_eq!(ours.https_first_invocation_ms_median, 9.5);
        assert_eq!(ours.https_added_ms_median, 3.5);
        assert_eq!(ours.http_init_ms_median, 4.0);
        assert_eq!(ours.https_init_ms_median, 4.1);
        assert_eq!(ours.https_first_invocation_ms_p95, 10.5);
        // The peer's plain figures are the peer's, not a function's.
        let theirs = h.side_by_side["python-peer"];
        assert_eq!(theirs.http_first_invocation_ms_median, 320.0);
        assert_eq!(theirs.http_first_invocation_ms_p95, 321.0);
        assert_eq!(theirs.https_added_ms_median, 20.25);
        // No HTTPS cold starts, no section.
        assert!(https(&cold(&[])).is_none());
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
}
