//! The printed report: the human table the bench ends with, rendered from a [`Results`] (the
//! same document it writes to `bench/results.json`) and nothing else, so the table and the file
//! cannot disagree. Rendering only: what the figures are and how they are checked is in
//! `results` and `assemble`.

use std::fmt::Write as _;

use crate::fixtures::Function;
use crate::results::{ColdSummary, Results};

/// A float as the file writes it (`3.0`, `0.3463`), or `-` when it is not a number.
fn float(x: f64) -> String {
    serde_json::Number::from_f64(x).map_or_else(|| "-".into(), |n| n.to_string())
}

/// A per-function float, `-` when the function has none.
fn per_fn(map: &std::collections::BTreeMap<String, f64>, f: &str) -> String {
    map.get(f).copied().map_or_else(|| "-".into(), float)
}

fn cold_row(label: String, s: &ColdSummary) -> Vec<String> {
    vec![
        label,
        float(s.init_ms_median),
        float(s.init_ms_p95),
        float(s.init_cpu_ms_median),
        float(s.first_invocation_ms_median),
        float(s.first_invocation_ms_p95),
        float(s.rss_mb_max),
        "-".into(),
        "-".into(),
    ]
}

/// The whole report.
pub fn render(r: &Results) -> String {
    let mut out = String::new();
    cold_starts(&mut out, r);
    https(&mut out, r);
    init_phases(&mut out, r);
    warm(&mut out, r);
    polling(&mut out, r);
    profile_trials(&mut out, r);
    targets(&mut out, r);
    out
}

fn cold_starts(out: &mut String, r: &Results) {
    out.push_str("\n== Cold start (x86_64 release, 128 MB env, Runtime API stub) ==\n");
    let mut rows = vec![];
    for f in Function::ALL {
        let n = f.binary();
        rows.push(vec![
            n.to_owned(),
            per_fn(&r.init_ms_median, n),
            per_fn(&r.init_ms_p95, n),
            per_fn(&r.init_cpu_ms_median, n),
            per_fn(&r.first_invocation_ms_median, n),
            per_fn(&r.first_invocation_ms_p95, n),
            per_fn(&r.rss_mb, n),
            format!("{}x", per_fn(&r.init_speedup_vs_peer, n)),
            r.zip_bytes
                .get(n)
                .map_or_else(|| "-".into(), u64::to_string),
        ]);
    }
    rows.push(vec![
        "python-peer (poll)".into(),
        format!("{}", r.peer_init_ms_median),
        float(r.peer.init_ms_p95),
        float(r.peer_init_cpu_ms_median),
        float(r.peer.first_invocation_ms_median),
        float(r.peer.first_invocation_ms_p95),
        float(r.peer_rss_mb),
        "1x".into(),
        "-".into(),
    ]);
    for (label, e) in &r.init_experiments.results {
        rows.push(cold_row(format!("({label})"), e));
    }
    out.push_str(&table(
        &[
            "function",
            "init p50 ms",
            "init p95 ms",
            "init CPU ms",
            "1st inv p50 ms",
            "1st inv p95 ms",
            "peak RSS MiB",
            "init vs peer",
            "zip bytes",
        ],
        &rows,
    ));

    let p = &r.peer_parity;
    let compact = |f| serde_json::to_value(f).map_or_else(|e| format!("({e})"), |v| v.to_string());
    let _ = writeln!(
        out,
        "peer parity (poll-deployment vs python-peer on the same event): {}  rust {}  peer {}",
        if p.equal { "same answer" } else { "DIFFERENT" },
        compact(&p.rust),
        compact(&p.peer),
    );
}

/// Plain HTTP and HTTPS, ours and the peer's, side by side.
fn https(out: &mut String, r: &Results) {
    out.push_str("\n== Spawn to first answer: plain HTTP vs HTTPS (GameSparks endpoint) ==\n");
    let Some(h) = &r.https else {
        out.push_str("not measured (results from before the HTTPS cold starts)\n");
        return;
    };
    let rows: Vec<Vec<String>> = h
        .side_by_side
        .iter()
        .map(|(label, s)| {
            vec![
                if label == crate::measure::PEER_LABEL {
                    format!("{label} (poll)")
                } else {
                    label.clone()
                },
                float(s.http_first_invocation_ms_median),
                float(s.https_first_invocation_ms_median),
                float(s.https_added_ms_median),
                float(s.http_first_invocation_ms_p95),
                float(s.https_first_invocation_ms_p95),
                float(s.http_init_ms_median),
                float(s.https_init_ms_median),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "target",
            "HTTP 1st p50 ms",
            "HTTPS 1st p50 ms",
            "TLS adds ms",
            "HTTP 1st p95 ms",
            "HTTPS 1st p95 ms",
            "HTTP init p50 ms",
            "HTTPS init p50 ms",
        ],
        &rows,
    ));
    let _ = writeln!(
        out,
        "trust: a bundle of {} certificates (the system's roots and the run's CA); poll-deployment reads it through SSL_CERT_FILE, the peer through AWS_CA_BUNDLE",
        h.ca_bundle_certificates
    );
}

fn init_phases(out: &mut String, r: &Results) {
    out.push_str("\n== Where init goes (median ms per phase, `+phases` runs) ==\n");
    for (name, b) in &r.init_breakdown.functions {
        let phases: Vec<String> = b
            .phases_ms_median
            .iter()
            .map(|(phase, ms)| format!("{phase} {}", float(*ms)))
            .collect();
        let _ = writeln!(out, "{name}: {}", phases.join(" | "));
    }
}

fn warm(out: &mut String, r: &Results) {
    out.push_str("\n== Warm poll-deployment ==\n");
    let w = &r.warm;
    out.push_str(&table(
        &["measure", "value"],
        &[
            vec!["invocations".into(), w.invocations.to_string()],
            vec![
                "handler overhead p50 ms".into(),
                float(r.handler_overhead_ms_p50),
            ],
            vec![
                "handler overhead p99 ms".into(),
                float(r.handler_overhead_ms_p99),
            ],
            vec![
                "emulator round trip p50 ms (proxy window)".into(),
                float(w.emulator_round_trip_ms_p50),
            ],
            vec![
                "invocation p50 ms, no proxy".into(),
                float(w.direct_invocation_ms_p50),
            ],
            vec![
                "SDK GetStageDeployment from harness p50 ms".into(),
                float(w.sdk_round_trip_ms_median),
            ],
            vec![
                "overhead p50 ms by SDK-median subtraction".into(),
                float(w.overhead_ms_p50_by_subtracting_sdk_median),
            ],
        ],
    ));
}

fn polling(out: &mut String, r: &Results) {
    out.push_str("\n== Polling (simulated) ==\n");
    let rows: Vec<Vec<String>> = r
        .polling_order
        .iter()
        .map(|s| {
            let p = r.polling.get(s);
            let cell = |pick: fn(&crate::sim::StrategyResult) -> f64| {
                p.map_or("-".into(), |p| float(pick(p)))
            };
            vec![
                s.clone(),
                cell(|p| p.transitions_mean),
                cell(|p| p.polls_mean),
                cell(|p| p.detection_latency_s_p50),
                cell(|p| p.detection_latency_s_p95),
                cell(|p| p.detection_latency_s_max),
                cell(|p| p.usd_per_1000),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "strategy",
            "transitions",
            "polls",
            "latency p50 s",
            "latency p95 s",
            "latency max s",
            "USD / 1000",
        ],
        &rows,
    ));
    out.push_str("\nsensitivity (fixed 10 s vs adaptive):\n");
    let rows: Vec<Vec<String>> = r
        .polling_sensitivity
        .iter()
        .map(|s| {
            vec![
                float(s.within_log_sd),
                s.scenario.as_str().to_owned(),
                float(s.fixed_10s_transitions_mean),
                float(s.adaptive_transitions_mean),
                float(s.transitions_ratio),
                float(s.fixed_10s_latency_s_p95),
                float(s.adaptive_latency_s_p95),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "within-stage sd",
            "model",
            "fixed10 trans",
            "adaptive trans",
            "ratio",
            "fixed10 p95 s",
            "adaptive p95 s",
        ],
        &rows,
    ));
}

fn profile_trials(out: &mut String, r: &Results) {
    if r.profile_trials.is_empty() {
        return;
    }
    out.push_str("\n== Release profile trials (x86_64 cargo-lambda zips) ==\n");
    let rows: Vec<Vec<String>> = r
        .profile_trials
        .iter()
        .map(|t| {
            let zips: Vec<String> = t.zip_bytes.values().map(u64::to_string).collect();
            let inits: Vec<String> = t.init_ms_median.values().copied().map(float).collect();
            vec![
                t.name.clone(),
                float(t.zip_bytes_mean),
                float(t.init_ms_median_mean),
                float(t.build_seconds),
                zips.join("/"),
                inits.join("/"),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "profile",
            "zip mean B",
            "init p50 mean ms",
            "build s",
            "zips (fleet/notify/poll/rollback/start)",
            "init p50 ms (same order)",
        ],
        &rows,
    ));
    let _ = writeln!(
        out,
        "recommended: {}",
        r.recommended_profile_reason.as_deref().unwrap_or("-")
    );
}

fn targets(out: &mut String, r: &Results) {
    out.push_str("\n== Targets ==\n");
    let rows: Vec<Vec<String>> = r
        .targets
        .iter()
        .map(|c| {
            vec![
                c.target.clone(),
                c.subject.clone(),
                float(c.value),
                float(c.limit),
                if c.met { "met" } else { "MISSED" }.into(),
                float(c.margin),
            ]
        })
        .collect();
    out.push_str(&table(
        &["target", "subject", "value", "limit", "", "margin"],
        &rows,
    ));
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
    use std::path::Path;

    use super::*;
    use crate::results::{HttpVsHttps, Https};

    #[test]
    fn table_pads_columns() {
        let t = table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\n---  --\nxxx  y\n");
    }

    #[test]
    fn floats_print_as_the_file_writes_them() {
        assert_eq!(float(15.0), "15.0");
        assert_eq!(float(0.3463), "0.3463");
        assert_eq!(float(f64::NAN), "-");
    }

    #[test]
    fn the_committed_results_render_every_figure() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results.json");
        let r = Results::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let text = render(&r);
        let row = |start: &str| {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no `{start}` row in\n{text}"))
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        // Every cell of a function's row comes from the file (none is "-").
        let poll = row("poll-deployment ");
        assert_eq!(poll.len(), 9, "{poll:?}");
        assert!(!poll.contains(&"-".to_owned()), "{poll:?}");
        assert_eq!(poll[1], float(r.init_ms_median["poll-deployment"]));
        let fixed = row("fixed_10s ");
        assert_eq!(fixed[1], float(r.polling["fixed_10s"].transitions_mean));
        assert!(text.contains("poll-deployment vs python-peer on the same event"));
        assert!(text.contains(" rust {\"action\":"), "{text}");
        assert!(text.contains("poll-deployment: process start and tokio runtime "));
        assert!(text.contains("handler overhead p50 <= 1 ms"));
        if r.https.is_none() {
            assert!(text.contains("plain HTTP vs HTTPS"), "{text}");
            assert!(text.contains("not measured"), "{text}");
        }
    }

    #[test]
    fn https_figures_print_beside_plain_http_for_ours_and_the_peer() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results.json");
        let mut r = Results::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let row = |http: f64, https: f64| HttpVsHttps {
            http_first_invocation_ms_median: http,
            http_first_invocation_ms_p95: http + 0.5,
            http_init_ms_median: http - 2.0,
            https_added_ms_median: https - http,
            https_first_invocation_ms_median: https,
            https_first_invocation_ms_p95: https + 0.5,
            https_init_ms_median: http - 1.75,
        };
        r.https = Some(Https {
            ca_bundle_certificates: 147,
            cold: Default::default(),
            note: String::new(),
            side_by_side: [
                ("poll-deployment".to_owned(), row(6.25, 9.75)),
                ("python-peer".to_owned(), row(320.5, 351.0)),
            ]
            .into(),
        });
        let text = render(&r);
        let section = text
            .split("\n== ")
            .find(|s| s.starts_with("Spawn to first answer: plain HTTP vs HTTPS"))
            .unwrap_or_else(|| panic!("no HTTPS section in\n{text}"));
        let cells = |start: &str| -> Vec<String> {
            section
                .lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no `{start}` row in\n{section}"))
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(
            cells("poll-deployment "),
            [
                "poll-deployment",
                "6.25",
                "9.75",
                "3.5",
                "6.75",
                "10.25",
                "4.25",
                "4.5"
            ]
        );
        assert_eq!(
            cells("python-peer (poll) "),
            [
                "python-peer",
                "(poll)",
                "320.5",
                "351.0",
                "30.5",
                "321.0",
                "351.5",
                "318.5",
                "318.75"
            ]
        );
        assert!(
            section.contains("a bundle of 147 certificates"),
            "{section}"
        );
        assert!(!section.contains("not measured"), "{section}");
    }
}
