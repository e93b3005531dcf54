//! Cold starts: init time, init CPU, first invocation and peak memory (VmHWM) of the functions
//! (fleet-step on its `ending` step, see `fixtures`) and the Python peer, plus the init
//! experiments (the same binaries with another environment: one root certificate, init phases
//! logged). They are one kind of measurement because they come from the same runs: every target
//! is started cold once per round, round-robin, so background noise spreads evenly over all of
//! them; the first round is a warm-up (page cache, .pyc files) and is not recorded. `profiles` reuses [`rounds`] for its variants.
//!
//! The HTTPS cold starts (issue 28) are two more targets of the same rounds: poll-deployment and
//! the peer with their GameSparks endpoint behind the TLS front (`tls_proxy`), trusting the run's
//! CA bundle (`run_ca`), so their figures sit beside the plain-HTTP ones under the same noise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;

use crate::artifacts::Build;
use crate::breakdown;
use crate::error::{Context, Result};
use crate::fixtures::Function;
use crate::measure::{self, ColdSample, Harness, Target};
use crate::peer::Peer;
use crate::progress::say;
use crate::results::{ColdSummary, PhaseMedians};
use crate::run_ca::TrustBundle;
use crate::stats::{self, round};

/// poll-deployment with a one-certificate trust store.
pub const EXPERIMENT_ONE_ROOT: &str = "+1-root-cert";

/// poll-deployment and the peer reaching the emulator over HTTPS.
pub const HTTPS_SUFFIX: &str = "+https";

/// Where the HTTPS targets reach the emulator, and the bundle that makes them trust it.
#[derive(Debug, Clone, Copy)]
pub struct HttpsFront<'a> {
    /// The TLS front's base URL.
    pub url: &'a str,
    pub bundle: &'a TrustBundle,
}

/// The cold starts, summarised per target.
#[derive(Debug, Clone)]
pub struct ColdStarts {
    /// The functions (`fixtures::Function::ALL`), by binary name.
    pub functions: BTreeMap<String, ColdSummary>,
    pub peer: ColdSummary,
    /// The other targets (`poll-deployment+1-root-cert`, `notify-result+phases`, ...), by label.
    pub experiments: BTreeMap<String, ColdSummary>,
    /// poll-deployment and the peer over HTTPS, by their plain label (`poll-deployment`,
    /// `python-peer`).
    pub https: BTreeMap<String, ColdSummary>,
    /// Certificates in the bundle the HTTPS targets trust.
    pub https_bundle_certificates: usize,
    /// Per function: its init phases' medians.
    pub init_breakdown: BTreeMap<String, PhaseMedians>,
    /// Median time to load the system's root certificates, as the connector does on the first
    /// HTTPS request.
    pub tls_trust_store_ms: f64,
    /// Certificates in the system trust store (None: no bundle found).
    pub system_roots: Option<usize>,
    /// Each target's answer to its event in the last round, by label.
    pub responses: BTreeMap<String, Bytes>,
}

impl ColdStarts {
    /// The last answer of the target labelled `label`.
    pub fn response(&self, label: &str) -> Result<&[u8]> {
        self.responses
            .get(label)
            .map(|b| b.as_ref())
            .ok_or_else(|| format!("no cold-start response from {label}").into())
    }
}

/// Summary of one target's cold starts.
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

/// poll-deployment (`poll`) and the peer over HTTPS: the GameSparks endpoint is the TLS front,
/// and each trusts the run's bundle the way it reads a custom store: our functions through
/// `SSL_CERT_FILE` (stagegate-http's system-store path, the one they take on Lambda), botocore
/// through `AWS_CA_BUNDLE` (it ignores `SSL_CERT_FILE`, and reads certifi's bundle without it).
pub fn https_targets(poll: &Target, peer: &Target, front: HttpsFront<'_>) -> [Target; 2] {
    let bundle = front.bundle.path.display().to_string();
    let endpoint = ("AWS_ENDPOINT_URL_GAMESPARKS", front.url);
    [
        Target::with_env(
            poll,
            HTTPS_SUFFIX,
            &[endpoint, ("SSL_CERT_FILE", bundle.as_str())],
        ),
        Target::with_env(
            peer,
            HTTPS_SUFFIX,
            &[endpoint, ("AWS_CA_BUNDLE", bundle.as_str())],
        ),
    ]
}

/// The targets: the functions, the peer, poll-deployment and the peer over HTTPS,
/// poll-deployment with one root certificate (when the system has a bundle) and the functions
/// logging their init phases.
fn targets(
    build: &Build,
    peer: &Peer,
    one_root: Option<&Path>,
    https: HttpsFront<'_>,
) -> Result<Vec<Target>> {
    let mut targets: Vec<Target> = Function::ALL
        .iter()
        .map(|f| build.binary(*f).map(|b| Target::rust(f.binary(), *f, b)))
        .collect::<Result<_>>()?;
    let peer = Target::python_peer(&peer.python, &peer.dir);
    let poll = Target::rust(
        Function::Poll.binary(),
        Function::Poll,
        build.binary(Function::Poll)?,
    );
    targets.push(peer.clone());
    targets.extend(https_targets(&poll, &peer, https));
    // Experiment: the same poll-deployment with a one-certificate trust store, to show what
    // loading the system's root certificates costs at init (the SDK's HTTPS connector reads them
    // when the client is built). The emulator is plain HTTP, so nothing else changes.
    if let Some(path) = one_root {
        let path = path.display().to_string();
        targets.push(Target::with_env(
            &poll,
            EXPERIMENT_ONE_ROOT,
            &[("SSL_CERT_FILE", path.as_str())],
        ));
    }
    // The same binaries logging their init phases (see `breakdown`): where init goes.
    for f in Function::ALL {
        let base = Target::rust(f.binary(), f, build.binary(f)?);
        targets.push(Target::with_env(
            &base,
            breakdown::SUFFIX,
            &[breakdown::LOG_FILTER],
        ));
    }
    Ok(targets)
}

/// `runs` rounds of cold starts of every target of `build` and the peer.
pub async fn measure(
    h: &Harness<'_>,
    runs: usize,
    build: &Build,
    peer: &Peer,
    scratch: &Path,
    https: HttpsFront<'_>,
) -> Result<ColdStarts> {
    let one_root = one_root_certificate(scratch);
    let targets = targets(
        build,
        peer,
        one_root.as_ref().map(|(p, _)| p.as_path()),
        https,
    )?;
    say(format!(
        "cold starts: {} runs x {} targets (plus one warm-up round)",
        runs,
        targets.len()
    ));
    let done = rounds(h, &targets, runs).await?;
    let init_breakdown = done
        .phases
        .iter()
        .filter_map(|(label, runs)| {
            let name = label.trim_end_matches(breakdown::SUFFIX).to_owned();
            breakdown::summarize(runs).map(|m| (name, m))
        })
        .collect();
    let mut functions = BTreeMap::new();
    let mut experiments = BTreeMap::new();
    let mut over_https = BTreeMap::new();
    let mut peer_summary = None;
    for (t, s) in targets.iter().zip(&done.samples) {
        let summary = summarize(s);
        if t.label == measure::PEER_LABEL {
            peer_summary = Some(summary);
        } else if let Some(plain) = t.label.strip_suffix(HTTPS_SUFFIX) {
            over_https.insert(plain.to_owned(), summary);
        } else if t.label == t.function.binary() {
            functions.insert(t.label.clone(), summary);
        } else {
            experiments.insert(t.label.clone(), summary);
        }
    }
    Ok(ColdStarts {
        functions,
        peer: peer_summary.ok_or("no peer samples")?,
        experiments,
        https: over_https,
        https_bundle_certificates: https.bundle.certificates,
        init_breakdown,
        tls_trust_store_ms: tls_trust_store_ms(),
        system_roots: one_root.map(|(_, n)| n),
        responses: targets
            .iter()
            .map(|t| t.label.clone())
            .zip(done.responses)
            .collect(),
    })
}

/// Per `+phases` target: each run's init phases in ms.
pub type PhaseRuns = BTreeMap<String, Vec<Vec<(String, f64)>>>;

/// What [`rounds`] recorded.
pub struct Rounds {
    /// Per target (in the order given): one sample per recorded round.
    pub samples: Vec<Vec<ColdSample>>,
    /// Per target: its answer in the last round.
    pub responses: Vec<Bytes>,
    pub phases: PhaseRuns,
}

/// One unrecorded warm-up round, then `runs` recorded rounds; each round starts every target
/// once, in order.
pub async fn rounds(h: &Harness<'_>, targets: &[Target], runs: usize) -> Result<Rounds> {
    let bodies: Vec<Bytes> = targets
        .iter()
        .map(|t| h.events.bytes(t.function))
        .collect::<Result<_>>()?;
    let mut samples: Vec<Vec<ColdSample>> = vec![Vec::with_capacity(runs); targets.len()];
    let mut responses = vec![Bytes::new(); targets.len()];
    let mut phases = PhaseRuns::new();
    for round in 0..=runs {
        for (i, t) in targets.iter().enumerate() {
            if t.function.needs_reset() {
                h.emulator
                    .reset()
                    .context("resetting the emulator between runs")?;
            }
            let log = h.logs.join(format!("{}.log", t.label));
            let (s, response) = measure::cold_start(t, h.endpoints, &bodies[i], round, &log)
                .await
                .map_err(|e| format!("cold start {} (round {round}): {e}", t.label))?;
            if round > 0 && t.label.ends_with(breakdown::SUFFIX) {
                let run = breakdown::from_log(&log, &s).ok_or(format!(
                    "{}: no `{}` line in {}",
                    t.label,
                    stagegate::startup::MESSAGE,
                    log.display()
                ))?;
                phases.entry(t.label.clone()).or_default().push(run);
            }
            if round > 0 {
                samples[i].push(s);
            }
            responses[i] = response;
        }
        if round > 0 && (round % 10 == 0 || round == runs) {
            say(format!("  round {round}/{runs}"));
        }
    }
    Ok(Rounds {
        samples,
        responses,
        phases,
    })
}

/// What the first HTTPS request of a function pays for its trust store (median of 31 loads).
fn tls_trust_store_ms() -> f64 {
    let ms: Vec<f64> = (0..31)
        .filter_map(|_| {
            let started = Instant::now();
            stagegate_http::trust_roots()
                .ok()
                .map(|_| started.elapsed().as_secs_f64() * 1000.0)
        })
        .collect();
    round(stats::median(&ms).unwrap_or(f64::NAN), 3)
}

/// Writes the first certificate of the system trust store to `dir/one-root.pem`; returns the
/// path and how many certificates the whole store has.
fn one_root_certificate(dir: &Path) -> Option<(PathBuf, usize)> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let bundle = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())?;
    let start = bundle.find(BEGIN)?;
    let end = start + bundle[start..].find(END)? + END.len();
    let path = dir.join("one-root.pem");
    std::fs::write(&path, format!("{}\n", &bundle[start..end])).ok()?;
    Some((path, bundle.matches(BEGIN).count()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::measure::Endpoints;

    /// The environment `t` is started with (the last value of each variable wins).
    fn started_env(t: &Target) -> HashMap<String, String> {
        let endpoints = Endpoints {
            gamesparks: "http://127.0.0.1:1".into(),
            sns: "http://127.0.0.1:2".into(),
            scratch: PathBuf::from("/tmp/home"),
        };
        t.command(&endpoints, "127.0.0.1:3")
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned())))
            .collect()
    }

    #[test]
    fn https_targets_reach_the_front_and_trust_the_run_bundle_each_its_own_way() {
        let poll = Target::rust("poll-deployment", Function::Poll, Path::new("/bin/poll"));
        let peer = Target::python_peer(Path::new("/venv/bin/python"), Path::new("/peer"));
        let bundle = TrustBundle {
            path: PathBuf::from("/scratch/run-ca-bundle.pem"),
            certificates: 147,
        };
        let front = HttpsFront {
            url: "https://127.0.0.1:4443",
            bundle: &bundle,
        };
        let [ours, theirs] = https_targets(&poll, &peer, front);
        assert_eq!(ours.label, "poll-deployment+https");
        assert_eq!(theirs.label, "python-peer+https");
        assert_eq!(ours.program, poll.program);
        assert_eq!(theirs.args, peer.args);

        let ours = started_env(&ours);
        assert_eq!(
            ours["AWS_ENDPOINT_URL_GAMESPARKS"],
            "https://127.0.0.1:4443"
        );
        assert_eq!(ours["SSL_CERT_FILE"], "/scratch/run-ca-bundle.pem");
        // AWS_CA_BUNDLE would take precedence in stagegate-http and skip the system-store path.
        assert!(!ours.contains_key("AWS_CA_BUNDLE"), "{ours:?}");
        let theirs = started_env(&theirs);
        assert_eq!(
            theirs["AWS_ENDPOINT_URL_GAMESPARKS"],
            "https://127.0.0.1:4443"
        );
        assert_eq!(theirs["AWS_CA_BUNDLE"], "/scratch/run-ca-bundle.pem");
        assert_eq!(theirs["_HANDLER"], "handler.poll");
        // Everything else is the plain target's Lambda environment.
        assert_eq!(
            started_env(&poll)["AWS_ENDPOINT_URL_GAMESPARKS"],
            "http://127.0.0.1:1"
        );
        assert_eq!(ours["AWS_ENDPOINT_URL_SNS"], "http://127.0.0.1:2");
    }

    #[test]
    fn fleet_step_starts_cold_with_its_bucket_the_topic_and_no_way_to_aws_s3() {
        let binaries: BTreeMap<String, PathBuf> = Function::ALL
            .iter()
            .map(|f| {
                (
                    f.binary().to_owned(),
                    PathBuf::from("/bin").join(f.binary()),
                )
            })
            .collect();
        let build = Build {
            variant: crate::artifacts::CURRENT,
            target_dir: PathBuf::from("/t"),
            lambda_dir: PathBuf::from("/t/lambda"),
            binaries,
            zip_bytes: BTreeMap::new(),
            binary_bytes: BTreeMap::new(),
            build_seconds: 0.0,
        };
        let peer = Peer {
            dir: PathBuf::from("/peer"),
            python: PathBuf::from("/venv/bin/python"),
            created: false,
        };
        let bundle = TrustBundle {
            path: PathBuf::from("/scratch/run-ca-bundle.pem"),
            certificates: 147,
        };
        let front = HttpsFront {
            url: "https://127.0.0.1:4443",
            bundle: &bundle,
        };
        let all = targets(&build, &peer, None, front).unwrap_or_else(|e| panic!("{e}"));
        let labels: Vec<&str> = all.iter().map(|t| t.label.as_str()).collect();
        for label in ["fleet-step", "fleet-step+phases"] {
            assert!(labels.contains(&label), "{labels:?}");
        }
        let fleet = all
            .iter()
            .find(|t| t.label == "fleet-step")
            .unwrap_or_else(|| panic!("no fleet-step in {labels:?}"));
        assert_eq!(fleet.program, PathBuf::from("/bin/fleet-step"));
        let env = started_env(fleet);
        assert_eq!(env["FLEET_BUCKET"], crate::fixtures::FLEET_BUCKET);
        assert_eq!(env["TOPIC_ARN"], crate::fixtures::TOPIC_ARN);
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "fleet-step");
        assert_eq!(env["AWS_ENDPOINT_URL_S3"], "http://127.0.0.1:2");
        // The others start as before.
        let poll = all
            .iter()
            .find(|t| t.label == "poll-deployment")
            .unwrap_or_else(|| panic!("no poll-deployment in {labels:?}"));
        assert!(!started_env(poll).contains_key("FLEET_BUCKET"));
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
