//! `stagegate-bench`: cold start, peak memory, warm handler cost, polling efficiency and zip
//! size of the four stagegate functions, against a Python peer of poll-deployment. Prints a table
//! and writes `bench/results.json`. See bench/README.md for the method.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use serde_json::{json, Value};

use stagegate_bench::artifacts::{self, Build, Tools};
use stagegate_bench::error::{Context, Result};
use stagegate_bench::fixtures::{self, Events, Function};
use stagegate_bench::measure::{self, ColdSample, Endpoints, Target};
use stagegate_bench::report::{self, Check, ColdSummary, Trial};
use stagegate_bench::sim::{self, CostInputs, Model, StrategyResult};
use stagegate_bench::stats::{self, round};
use stagegate_bench::stubs::{SnsStub, TimingProxy};
use stagegate_bench::{adaptive, breakdown, peer};

#[derive(Debug, Parser)]
#[command(
    name = "stagegate-bench",
    about = "Benchmarks the stagegate Lambda functions against a Python peer and writes bench/results.json"
)]
struct Cli {
    /// Cold starts per function (after one unrecorded warm-up run).
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Warm poll-deployment invocations (after 50 unrecorded ones).
    #[arg(long, default_value_t = 1000)]
    warm: usize,
    /// Skip the release-profile trials (three extra release builds).
    #[arg(long)]
    skip_profiles: bool,
    /// Cold starts per function and profile in the trials.
    #[arg(long, default_value_t = 15)]
    profile_runs: usize,
    /// Where to write the results; relative paths are relative to the workspace root.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// Use the zips and binaries an earlier run built instead of running cargo lambda build.
    #[arg(long)]
    no_build: bool,
    /// The workspace root (default: the one this binary was built from).
    #[arg(long)]
    workspace: Option<PathBuf>,
    /// The Python used to create the peer's venv (bench/.venv-peer) when it is missing.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Simulated deployments per polling strategy.
    #[arg(long, default_value_t = 20_000)]
    sim_deployments: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stagegate-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root(cli: &Cli) -> Result<PathBuf> {
    let root = match &cli.workspace {
        Some(p) => p.clone(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    let root = root
        .canonicalize()
        .context(format!("workspace {}", root.display()))?;
    if !root.join("Cargo.toml").is_file() || !root.join("events").is_dir() {
        stagegate_bench::bail!(
            "{} does not look like the stagegate workspace (no Cargo.toml or events/); pass --workspace",
            root.display()
        );
    }
    Ok(root)
}

fn say(msg: impl AsRef<str>) {
    eprintln!("stagegate-bench: {}", msg.as_ref());
}

struct Paths {
    ws: PathBuf,
    scratch: PathBuf,
    logs: PathBuf,
}

fn run(cli: &Cli) -> Result<()> {
    let started = Instant::now();
    if cli.runs == 0 || cli.warm == 0 {
        stagegate_bench::bail!("--runs and --warm must be at least 1");
    }
    let ws = workspace_root(cli)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { ws.join(p) })
        .unwrap_or_else(|| ws.join("target"));
    let scratch = target_dir.join("stagegate-bench");
    let logs = scratch.join("logs");
    std::fs::create_dir_all(&logs).context(format!("creating {}", logs.display()))?;
    std::fs::create_dir_all(scratch.join("home")).context("creating the scratch home")?;
    let cx = Paths {
        ws: ws.clone(),
        scratch,
        logs,
    };
    let load_before = loadavg();
    if load_before.first().copied().unwrap_or(0.0) > 1.0 {
        say(format!(
            "warning: load average {load_before:?} before starting: other work on this machine will add noise"
        ));
    }

    // 1. Builds (CPU-heavy; all before any measurement).
    let tools = Tools::new(&ws)?;
    let build_started = Instant::now();
    say(if cli.no_build {
        "reading the existing cargo-lambda build (--no-build)".to_owned()
    } else {
        "cargo lambda build --release --output-format zip (x86_64) of the four functions".to_owned()
    });
    let main_build = artifacts::build(
        &tools,
        artifacts::CURRENT,
        &target_dir,
        &target_dir.join("lambda"),
        &cx.logs.join("build-current.log"),
        cli.no_build,
    )?;
    let mut trial_builds: Vec<Build> = vec![];
    if !cli.skip_profiles {
        trial_builds.push(main_build.clone());
        for v in artifacts::VARIANTS.iter().skip(1) {
            let dir = target_dir.join("bench-profiles").join(v.name);
            say(format!(
                "profile trial {}: building into {} ({})",
                v.name,
                dir.display(),
                v.config_args().join(" ")
            ));
            trial_builds.push(artifacts::build(
                &tools,
                *v,
                &dir,
                &dir.join("lambda"),
                &cx.logs.join(format!("build-{}.log", v.name)),
                cli.no_build,
            )?);
        }
    }
    let build_seconds = build_started.elapsed().as_secs_f64();

    // 2. The Python peer's venv.
    let peer = peer::ensure(&ws, &cli.python, &cx.logs.join("peer-venv.log"))?;

    // 3. Measurements, on a runtime of their own.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the Tokio runtime")?;
    let measure_started = Instant::now();
    let measured = rt.block_on(async {
        tokio::select! {
            r = measure_all(cli, &cx, &main_build, &trial_builds, &peer) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
        }
    })?;
    drop(rt);
    let measure_seconds = measure_started.elapsed().as_secs_f64();

    // 4. Polling simulation.
    let model = Model {
        deployments: cli.sim_deployments.max(1),
        ..Model::default()
    };
    let cost = CostInputs {
        billed_ms_per_invocation: measured.direct_invocation_ms_p50.max(1.0).ceil(),
        history_read_ms: measured.sdk_round_trip_ms_median,
    };
    let deployments = sim::deployments(&model);
    let strategies = sim::strategies();
    let order: Vec<String> = strategies.iter().map(sim::Strategy::name).collect();
    let polling: BTreeMap<String, StrategyResult> = strategies
        .iter()
        .map(|s| (s.name(), sim::evaluate(s, &deployments, &model, &cost)))
        .collect();
    let sensitivity = sensitivity(&model, &cost);

    // 5. Results.
    let results = assemble(
        cli,
        &measured,
        &main_build,
        &polling,
        &order,
        &model,
        &cost,
        &sensitivity,
    );
    let bench_seconds = started.elapsed().as_secs_f64();
    let mut results = results;
    if let Value::Object(map) = &mut results {
        map.insert(
            "timing".into(),
            json!({
                "bench_seconds": round(bench_seconds, 1),
                "build_seconds": round(build_seconds, 1),
                "measure_seconds": round(measure_seconds, 1),
                "builds_skipped": cli.no_build,
            }),
        );
        map.insert(
            "machine".into(),
            machine_info(&load_before, &loadavg(), &peer.python),
        );
    }
    let out = if cli.out.is_absolute() {
        cli.out.clone()
    } else {
        ws.join(&cli.out)
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).context(format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&results).context("serialising the results")?;
    std::fs::write(&out, text + "\n").context(format!("writing {}", out.display()))?;
    print!("{}", render(&results, &order));
    println!(
        "\nresults: {}  (benchmark took {:.0} s: builds {:.0} s, measurements {:.0} s)",
        out.display(),
        bench_seconds,
        build_seconds,
        measure_seconds
    );
    Ok(())
}

/// Everything measured on the runtime.
struct Measured {
    cold: BTreeMap<String, ColdSummary>,
    peer: ColdSummary,
    overhead_ms: Vec<f64>,
    proxied_invocation_ms: Vec<f64>,
    upstream_ms: Vec<f64>,
    upstream_requests_max: usize,
    direct_invocation_ms: Vec<f64>,
    direct_invocation_ms_p50: f64,
    sdk_round_trip_ms: Vec<f64>,
    sdk_round_trip_ms_median: f64,
    warm_rss_mb: f64,
    trials: Vec<Trial>,
    sns_published: u64,
    parity: Value,
    experiments: BTreeMap<String, ColdSummary>,
    /// Per function: its init phases' medians.
    init_breakdown: BTreeMap<String, Value>,
    /// Median time to load the system's root certificates, as the connector does on the first
    /// HTTPS request.
    tls_trust_store_ms: f64,
    /// Certificates in the system trust store.
    system_roots: Option<usize>,
}

async fn measure_all(
    cli: &Cli,
    cx: &Paths,
    main_build: &Build,
    trial_builds: &[Build],
    peer: &peer::Peer,
) -> Result<Measured> {
    let emulator = gamesparks_local::Server::start(gamesparks_local::Config {
        scenario: fixtures::scenario()?,
        seed: 7,
        ..gamesparks_local::Config::default()
    })
    .await
    .context("starting the GameSparks emulator")?;
    let sns = SnsStub::start().await?;
    let endpoints = Endpoints {
        gamesparks: emulator.url(),
        sns: sns.url(),
        scratch: cx.scratch.join("home"),
    };
    let events = fixtures::events(&cx.ws, time::OffsetDateTime::now_utc())?;

    // Cold starts: the four functions and the peer, round-robin so background noise spreads
    // evenly; the first round is a warm-up (page cache, .pyc files) and is not recorded.
    let mut targets: Vec<Target> = Function::ALL
        .iter()
        .map(|f| {
            main_build
                .binary(*f)
                .map(|b| Target::rust(f.binary(), *f, b))
        })
        .collect::<Result<_>>()?;
    targets.push(Target::python_peer(&peer.python, &peer.dir));
    // Experiment: the same poll-deployment with a one-certificate trust store, to show what
    // loading the system's root certificates costs at init (the SDK's HTTPS connector reads them
    // when the client is built). The emulator is plain HTTP, so nothing else changes.
    let one_root = one_root_certificate(&cx.scratch);
    if let Some((path, _)) = &one_root {
        let poll = Target::rust(
            Function::Poll.binary(),
            Function::Poll,
            main_build.binary(Function::Poll)?,
        );
        let path = path.display().to_string();
        targets.push(Target::with_env(
            &poll,
            EXPERIMENT_ONE_ROOT,
            &[("SSL_CERT_FILE", path.as_str())],
        ));
    }
    // The same four binaries logging their init phases (see `breakdown`): where init goes.
    for f in Function::ALL {
        let base = Target::rust(f.binary(), f, main_build.binary(f)?);
        targets.push(Target::with_env(
            &base,
            breakdown::SUFFIX,
            &[breakdown::LOG_FILTER],
        ));
    }
    say(format!(
        "cold starts: {} runs x {} targets (plus one warm-up round)",
        cli.runs,
        targets.len()
    ));
    let (samples, responses, phases) =
        cold_rounds(&targets, &endpoints, &events, &emulator, cli.runs, &cx.logs).await?;
    let init_breakdown: BTreeMap<String, Value> = phases
        .iter()
        .map(|(label, runs)| {
            let name = label.trim_end_matches(breakdown::SUFFIX).to_owned();
            (name, breakdown::summarize(runs))
        })
        .collect();
    let parity = parity(&targets, &responses);
    let mut cold: BTreeMap<String, ColdSummary> = BTreeMap::new();
    let mut experiments: BTreeMap<String, ColdSummary> = BTreeMap::new();
    let mut peer_summary = None;
    for (t, s) in targets.iter().zip(&samples) {
        let summary = report::summarize(s);
        if t.label == "python-peer" {
            peer_summary = Some(summary);
        } else if t.label == t.function.binary() {
            cold.insert(t.label.clone(), summary);
        } else {
            experiments.insert(t.label.clone(), summary);
        }
    }
    let peer_summary = peer_summary.ok_or("no peer samples")?;

    // Warm: poll-deployment kept warm, first through the timing proxy (per-invocation handler
    // overhead), then straight to the emulator (the invocation time Lambda would bill).
    let poll_bin = main_build.binary(Function::Poll)?;
    let poll_event = measure::event_bytes(events.get(Function::Poll))?;
    let proxy = TimingProxy::start(emulator.addr()).await?;
    say(format!(
        "warm: {} poll-deployment invocations through the timing proxy",
        cli.warm
    ));
    let proxied_endpoints = Endpoints {
        gamesparks: proxy.url(),
        ..endpoints.clone()
    };
    let proxied = measure::warm(
        &Target::rust("poll-deployment", Function::Poll, poll_bin),
        &proxied_endpoints,
        &poll_event,
        50,
        cli.warm,
        Some(&proxy),
        &cx.logs.join("warm-proxied.log"),
    )
    .await?;
    say(format!(
        "warm: {} poll-deployment invocations straight to the emulator",
        cli.warm
    ));
    let direct = measure::warm(
        &Target::rust("poll-deployment", Function::Poll, poll_bin),
        &endpoints,
        &poll_event,
        50,
        cli.warm,
        None,
        &cx.logs.join("warm-direct.log"),
    )
    .await?;
    say(format!(
        "warm: {} GetStageDeployment calls from the harness (SDK round trip)",
        cli.warm
    ));
    let sdk = measure::sdk_round_trips(&emulator.url(), cli.warm).await?;

    // Profile trials: all variants measured in one round-robin pass.
    let manifest_panic = artifacts::manifest_panic(&cx.ws);
    let mut trials = vec![];
    if !trial_builds.is_empty() {
        let mut ttargets = vec![];
        for b in trial_builds {
            for f in Function::ALL {
                ttargets.push(Target::rust(
                    &format!("{}.{}", b.variant.name, f.binary()),
                    f,
                    b.binary(f)?,
                ));
            }
        }
        say(format!(
            "profile trials: {} runs x {} targets (plus one warm-up round)",
            cli.profile_runs,
            ttargets.len()
        ));
        let (tsamples, _, _) = cold_rounds(
            &ttargets,
            &endpoints,
            &events,
            &emulator,
            cli.profile_runs.max(1),
            &cx.logs,
        )
        .await?;
        for (i, b) in trial_builds.iter().enumerate() {
            trials.push(trial(
                b,
                &ttargets[i * 4..i * 4 + 4],
                &tsamples[i * 4..i * 4 + 4],
                manifest_panic.as_deref(),
            ));
        }
    }

    Ok(Measured {
        cold,
        peer: peer_summary,
        direct_invocation_ms_p50: stats::median(&direct.invocation_ms).unwrap_or(f64::NAN),
        overhead_ms: proxied.overhead_ms,
        proxied_invocation_ms: proxied.invocation_ms,
        upstream_ms: proxied.upstream_ms,
        upstream_requests_max: proxied.upstream_requests.iter().copied().max().unwrap_or(0),
        direct_invocation_ms: direct.invocation_ms,
        sdk_round_trip_ms_median: stats::median(&sdk).unwrap_or(f64::NAN),
        sdk_round_trip_ms: sdk,
        warm_rss_mb: direct.rss_kib.max(proxied.rss_kib) as f64 / 1024.0,
        trials,
        sns_published: sns.published(),
        parity,
        experiments,
        init_breakdown,
        tls_trust_store_ms: tls_trust_store_ms(),
        system_roots: one_root.map(|(_, n)| n),
    })
}

const EXPERIMENT_ONE_ROOT: &str = "+1-root-cert";

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

/// The Rust poll-deployment's and the peer's answers to the same event, on the fields the
/// workflow acts on.
fn parity(targets: &[Target], responses: &[bytes::Bytes]) -> Value {
    const FIELDS: [&str; 6] = [
        "action",
        "waitSeconds",
        "outcome",
        "deploymentState",
        "attempt",
        "resultCode",
    ];
    let pick = |label: &str| -> Value {
        let body = targets
            .iter()
            .zip(responses)
            .find(|(t, _)| t.label == label)
            .and_then(|(_, b)| serde_json::from_slice::<Value>(b).ok())
            .unwrap_or(Value::Null);
        FIELDS
            .iter()
            .map(|f| (f.to_string(), body.get(*f).cloned().unwrap_or(Value::Null)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let rust = pick(Function::Poll.binary());
    let peer = pick("python-peer");
    // The Rust state serialises the action in lower case, as does the peer.
    let equal = rust == peer;
    json!({ "fields": FIELDS, "rust": rust, "peer": peer, "equal": equal })
}

/// Per `+phases` target: each run's init phases in ms.
type PhaseRuns = BTreeMap<String, Vec<Vec<(String, f64)>>>;

async fn cold_rounds(
    targets: &[Target],
    endpoints: &Endpoints,
    events: &Events,
    emulator: &gamesparks_local::RunningServer,
    runs: usize,
    logs: &Path,
) -> Result<(Vec<Vec<ColdSample>>, Vec<bytes::Bytes>, PhaseRuns)> {
    let bodies: Vec<bytes::Bytes> = targets
        .iter()
        .map(|t| measure::event_bytes(events.get(t.function)))
        .collect::<Result<_>>()?;
    let mut samples: Vec<Vec<ColdSample>> = vec![Vec::with_capacity(runs); targets.len()];
    let mut last_responses = vec![bytes::Bytes::new(); targets.len()];
    let mut phases = PhaseRuns::new();
    for round in 0..=runs {
        for (i, t) in targets.iter().enumerate() {
            if t.function.needs_reset() {
                emulator
                    .reset()
                    .context("resetting the emulator between runs")?;
            }
            let log = logs.join(format!("{}.log", t.label));
            let (s, response) = measure::cold_start(t, endpoints, &bodies[i], round, &log)
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
            last_responses[i] = response;
        }
        if round > 0 && (round % 10 == 0 || round == runs) {
            say(format!("  round {round}/{runs}"));
        }
    }
    Ok((samples, last_responses, phases))
}

fn trial(
    b: &Build,
    targets: &[Target],
    samples: &[Vec<ColdSample>],
    manifest_panic: Option<&str>,
) -> Trial {
    let mut init = BTreeMap::new();
    let mut first = BTreeMap::new();
    let mut rss = BTreeMap::new();
    for (t, s) in targets.iter().zip(samples) {
        let sum = report::summarize(s);
        let name = t.function.binary().to_owned();
        init.insert(name.clone(), sum.init_ms_median);
        first.insert(name.clone(), sum.first_invocation_ms_median);
        rss.insert(name, sum.rss_mb_max);
    }
    let zip_mean = b.zip_bytes.values().sum::<u64>() as f64 / b.zip_bytes.len().max(1) as f64;
    let init_mean = init.values().sum::<f64>() / init.len().max(1) as f64;
    Trial {
        name: b.variant.name.into(),
        description: b.variant.description.into(),
        build_seconds: round(b.build_seconds, 1),
        zip_bytes: b.zip_bytes.clone(),
        binary_bytes: b.binary_bytes.clone(),
        init_ms_median: init,
        first_invocation_ms_median: first,
        rss_mb: rss,
        zip_bytes_mean: round(zip_mean, 0),
        init_ms_median_mean: round(init_mean, 3),
        panic_abort: b.variant.panic_abort(manifest_panic),
    }
}

/// Fixed 10 s vs adaptive over other within-stage spreads, in the base model and in a clean one
/// (no failures or slow outliers, full history everywhere).
fn sensitivity(base: &Model, cost: &CostInputs) -> Vec<Value> {
    let mut out = vec![];
    for clean in [false, true] {
        for sd in [0.05, 0.10, 0.15, 0.25] {
            // clean: no failures, no slow outliers, every stage has its full history.
            let m = if clean {
                Model {
                    within_log_sd: sd,
                    fail_fast_rate: 0.0,
                    fail_mid_rate: 0.0,
                    slow_rate: 0.0,
                    no_history_rate: 0.0,
                    short_history_rate: 0.0,
                    ..*base
                }
            } else {
                Model {
                    within_log_sd: sd,
                    ..*base
                }
            };
            let ds = sim::deployments(&m);
            let fixed = sim::evaluate(&sim::Strategy::Fixed(10), &ds, &m, cost);
            let adaptive = sim::evaluate(
                &sim::Strategy::Adaptive(adaptive::AdaptiveParams::default()),
                &ds,
                &m,
                cost,
            );
            out.push(json!({
                "within_log_sd": sd,
                "scenario": if clean { "clean" } else { "base" },
                "fixed_10s_transitions_mean": round(fixed.transitions_mean, 2),
                "fixed_10s_latency_s_p95": round(fixed.detection_latency_s_p95, 2),
                "adaptive_transitions_mean": round(adaptive.transitions_mean, 2),
                "adaptive_latency_s_p95": round(adaptive.detection_latency_s_p95, 2),
                "transitions_ratio": round(adaptive.transitions_mean / fixed.transitions_mean, 3),
            }));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    cli: &Cli,
    m: &Measured,
    build: &Build,
    polling: &BTreeMap<String, StrategyResult>,
    order: &[String],
    model: &Model,
    cost: &CostInputs,
    sensitivity: &[Value],
) -> Value {
    let per_fn = |f: fn(&ColdSummary) -> f64| -> BTreeMap<String, f64> {
        m.cold.iter().map(|(k, v)| (k.clone(), f(v))).collect()
    };
    let init_median = per_fn(|s| s.init_ms_median);
    let speedup: BTreeMap<String, f64> = init_median
        .iter()
        .map(|(k, v)| (k.clone(), round(m.peer.init_ms_median / v, 1)))
        .collect();
    let overhead_p50 = round(stats::median(&m.overhead_ms).unwrap_or(f64::NAN), 4);
    let overhead_p99 = round(
        stats::percentile(&m.overhead_ms, 99.0).unwrap_or(f64::NAN),
        4,
    );
    let rss = per_fn(|s| s.rss_mb_max);

    let polling_json: BTreeMap<String, Value> = polling
        .iter()
        .map(|(k, r)| {
            (
                k.clone(),
                json!({
                    "transitions_mean": round(r.transitions_mean, 2),
                    "detection_latency_s_p95": round(r.detection_latency_s_p95, 2),
                    "usd_per_1000": round(r.usd_per_1000, 5),
                    "polls_mean": round(r.polls_mean, 2),
                    "detection_latency_s_p50": round(r.detection_latency_s_p50, 2),
                    "detection_latency_s_mean": round(r.detection_latency_s_mean, 2),
                    "detection_latency_s_max": round(r.detection_latency_s_max, 1),
                    "lambda_invocations_mean": round(r.lambda_invocations_mean, 2),
                }),
            )
        })
        .collect();

    // Target checks.
    let mut checks = vec![];
    for (f, s) in &m.cold {
        checks.push(Check::at_most(
            "init median <= 15 ms",
            f,
            s.init_ms_median,
            report::INIT_TARGET_MS,
        ));
    }
    for (f, v) in &rss {
        checks.push(Check::at_most(
            "peak RSS <= 20 MB (MiB)",
            f,
            *v,
            report::RSS_TARGET_MB,
        ));
    }
    for (f, v) in &speedup {
        checks.push(Check::at_least(
            ">= 10x faster init than the Python peer",
            f,
            *v,
            report::PEER_SPEEDUP_TARGET,
        ));
    }
    checks.push(Check::at_most(
        "handler overhead p50 <= 1 ms",
        "poll-deployment",
        overhead_p50,
        report::OVERHEAD_TARGET_MS,
    ));
    if let (Some(fixed), Some(adaptive)) = (polling.get("fixed_10s"), polling.get("adaptive")) {
        checks.push(Check::at_most(
            "adaptive transitions <= 1/3 of fixed 10 s (ratio)",
            "adaptive",
            round(adaptive.transitions_mean / fixed.transitions_mean, 3),
            round(report::TRANSITIONS_TARGET_RATIO, 3),
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
            report::ZIP_TARGET_BYTES as f64,
        ));
    }
    let recommendation = report::recommend(&m.trials);

    json!({
        "init_ms_median": init_median,
        "init_ms_p95": per_fn(|s| s.init_ms_p95),
        "rss_mb": rss,
        "peer_init_ms_median": m.peer.init_ms_median,
        "peer_rss_mb": m.peer.rss_mb_max,
        "handler_overhead_ms_p50": overhead_p50,
        "handler_overhead_ms_p99": overhead_p99,
        "polling": polling_json,
        "zip_bytes": build.zip_bytes,

        "init_cpu_ms_median": per_fn(|s| s.init_cpu_ms_median),
        "peer_init_cpu_ms_median": m.peer.init_cpu_ms_median,
        "init_breakdown": {
            "functions": m.init_breakdown,
            "note": "The `+phases` cold starts: each function's main marks its init phases (stagegate::startup, logged at debug level only for these runs) in wall-clock microseconds, lined up with the process spawn and the first GET /invocation/next. `process start and tokio runtime` is spawn to the first line of main; the TLS trust store is not part of init (the connector builds it on the first HTTPS request)",
        },
        "init_experiments": {
            "results": m.experiments,
            "system_root_certificates": m.system_roots,
            "note": "poll-deployment+1-root-cert: the same binary and event with SSL_CERT_FILE holding one root certificate instead of the system store. The old connector loaded the system's roots when each client was built (about 1.3 ms of init per client); stagegate-http loads them on the first HTTPS request, so init should not differ. What that first request pays is `tls_trust_store_ms` (measured in the bench process: loading and parsing the system's roots)",
            "tls_trust_store_ms": m.tls_trust_store_ms,
        },
        "first_invocation_ms_median": per_fn(|s| s.first_invocation_ms_median),
        "first_invocation_ms_p95": per_fn(|s| s.first_invocation_ms_p95),
        "rss_mb_median": per_fn(|s| s.rss_mb_median),
        "binary_bytes": build.binary_bytes,
        "peer": m.peer,
        "init_speedup_vs_peer": speedup,
        "warm": {
            "invocations": m.overhead_ms.len(),
            "method": "poll-deployment stays warm behind the Runtime API stub; the event is served, the response POST ends the invocation. Its GameSparks endpoint is a timing proxy in the harness that records, per request, when it had the request head and when it had the emulator's full answer; handler overhead = invocation time - that window (the emulator round trip). Everything the function does itself (runtime client, JSON, SDK signing/serialising/parsing, classify/decide/backoff, logging) counts as overhead.",
            "overhead_ms_p50": overhead_p50,
            "overhead_ms_p90": round(stats::percentile(&m.overhead_ms, 90.0).unwrap_or(f64::NAN), 4),
            "overhead_ms_p99": overhead_p99,
            "overhead_ms_max": round(stats::max(&m.overhead_ms).unwrap_or(f64::NAN), 4),
            "proxied_invocation_ms_p50": round(stats::median(&m.proxied_invocation_ms).unwrap_or(f64::NAN), 4),
            "emulator_round_trip_ms_p50": round(stats::median(&m.upstream_ms).unwrap_or(f64::NAN), 4),
            "emulator_requests_per_invocation_max": m.upstream_requests_max,
            "direct_invocation_ms_p50": round(m.direct_invocation_ms_p50, 4),
            "direct_invocation_ms_p99": round(stats::percentile(&m.direct_invocation_ms, 99.0).unwrap_or(f64::NAN), 4),
            "sdk_round_trip_ms_median": round(m.sdk_round_trip_ms_median, 4),
            "sdk_round_trip_ms_p99": round(stats::percentile(&m.sdk_round_trip_ms, 99.0).unwrap_or(f64::NAN), 4),
            "overhead_ms_p50_by_subtracting_sdk_median": round(m.direct_invocation_ms_p50 - m.sdk_round_trip_ms_median, 4),
            "note_sdk_method": "the alternative: direct (no proxy) invocation p50 minus the median of direct SDK GetStageDeployment calls from the harness; it also subtracts the SDK's own client-side work, so it is lower",
            "rss_mb_after_warm": round(m.warm_rss_mb, 2),
        },
        "polling_order": order,
        "polling_model": model,
        "polling_cost_inputs": cost,
        "polling_sensitivity": sensitivity,
        "adaptive_params": format!("{:?}", adaptive::AdaptiveParams::default()),
        "profile_trials": m.trials,
        "recommended_profile": recommendation.as_ref().map(|(n, _)| n.clone()),
        "recommended_profile_reason": recommendation.map(|(_, why)| why),
        "targets": checks,
        "runs": cli.runs,
        "warm_invocations": cli.warm,
        "profile_runs": if m.trials.is_empty() { 0 } else { cli.profile_runs },
        "sns_publishes": m.sns_published,
        "peer_parity": m.parity,
        "notes": [
            "init = process spawn to its first GET /2018-06-01/runtime/invocation/next; first invocation = spawn to the first response POST; one unrecorded warm-up round first",
            "rss_mb = the largest VmHWM (MiB) over the runs, read after the first invocation; rss_mb_median = the median",
            "functions are the x86_64 cargo-lambda build (zig linker) that the zips contain; arm64 (what infra/ deploys) cannot be built here",
            "zip target 3 MiB = 3145728 bytes",
        ],
    })
}

fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    v.pointer(path).unwrap_or(&Value::Null)
}

fn num(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// The printed report.
fn render(r: &Value, order: &[String]) -> String {
    let mut out = String::new();
    out.push_str("\n== Cold start (x86_64 release, 128 MB env, Runtime API stub) ==\n");
    let mut rows = vec![];
    let peer_init = get(r, "/peer_init_ms_median").as_f64().unwrap_or(f64::NAN);
    for f in Function::ALL {
        let n = f.binary();
        rows.push(vec![
            n.to_owned(),
            num(get(r, &format!("/init_ms_median/{n}"))),
            num(get(r, &format!("/init_ms_p95/{n}"))),
            num(get(r, &format!("/init_cpu_ms_median/{n}"))),
            num(get(r, &format!("/first_invocation_ms_median/{n}"))),
            num(get(r, &format!("/first_invocation_ms_p95/{n}"))),
            num(get(r, &format!("/rss_mb/{n}"))),
            format!("{}x", num(get(r, &format!("/init_speedup_vs_peer/{n}")))),
            num(get(r, &format!("/zip_bytes/{n}"))),
        ]);
    }
    rows.push(vec![
        "python-peer (poll)".into(),
        format!("{peer_init}"),
        num(get(r, "/peer/init_ms_p95")),
        num(get(r, "/peer_init_cpu_ms_median")),
        num(get(r, "/peer/first_invocation_ms_median")),
        num(get(r, "/peer/first_invocation_ms_p95")),
        num(get(r, "/peer_rss_mb")),
        "1x".into(),
        "-".into(),
    ]);
    if let Some(exp) = get(r, "/init_experiments/results").as_object() {
        for (label, e) in exp {
            rows.push(vec![
                format!("({label})"),
                num(get(e, "/init_ms_median")),
                num(get(e, "/init_ms_p95")),
                num(get(e, "/init_cpu_ms_median")),
                num(get(e, "/first_invocation_ms_median")),
                num(get(e, "/first_invocation_ms_p95")),
                num(get(e, "/rss_mb_max")),
                "-".into(),
                "-".into(),
            ]);
        }
    }
    out.push_str(&report::table(
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

    out.push_str(&format!(
        "peer parity (poll-deployment vs python-peer on the same event): {}  rust {}  peer {}\n",
        if get(r, "/peer_parity/equal").as_bool() == Some(true) {
            "same answer"
        } else {
            "DIFFERENT"
        },
        get(r, "/peer_parity/rust"),
        get(r, "/peer_parity/peer"),
    ));

    if let Some(functions) = get(r, "/init_breakdown/functions").as_object() {
        out.push_str("\n== Where init goes (median ms per phase, `+phases` runs) ==\n");
        for (name, b) in functions {
            let phases: Vec<String> = get(b, "/phases_ms_median")
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            format!(
                                "{} {}",
                                num(get(p, "/0")).trim_matches('"'),
                                num(get(p, "/1"))
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push_str(&format!("{name}: {}\n", phases.join(" | ")));
        }
    }
    out.push_str("\n== Warm poll-deployment ==\n");
    let w = |k: &str| num(get(r, &format!("/warm/{k}")));
    out.push_str(&report::table(
        &["measure", "value"],
        &[
            vec!["invocations".into(), w("invocations")],
            vec![
                "handler overhead p50 ms".into(),
                num(get(r, "/handler_overhead_ms_p50")),
            ],
            vec![
                "handler overhead p99 ms".into(),
                num(get(r, "/handler_overhead_ms_p99")),
            ],
            vec![
                "emulator round trip p50 ms (proxy window)".into(),
                w("emulator_round_trip_ms_p50"),
            ],
            vec![
                "invocation p50 ms, no proxy".into(),
                w("direct_invocation_ms_p50"),
            ],
            vec![
                "SDK GetStageDeployment from harness p50 ms".into(),
                w("sdk_round_trip_ms_median"),
            ],
            vec![
                "overhead p50 ms by SDK-median subtraction".into(),
                w("overhead_ms_p50_by_subtracting_sdk_median"),
            ],
        ],
    ));

    out.push_str("\n== Polling (simulated) ==\n");
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|s| {
            let p = |k: &str| num(get(r, &format!("/polling/{s}/{k}")));
            vec![
                s.clone(),
                p("transitions_mean"),
                p("polls_mean"),
                p("detection_latency_s_p50"),
                p("detection_latency_s_p95"),
                p("detection_latency_s_max"),
                p("usd_per_1000"),
            ]
        })
        .collect();
    out.push_str(&report::table(
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
    if let Some(sens) = get(r, "/polling_sensitivity").as_array() {
        out.push_str("\nsensitivity (fixed 10 s vs adaptive):\n");
        let rows: Vec<Vec<String>> = sens
            .iter()
            .map(|s| {
                vec![
                    num(get(s, "/within_log_sd")),
                    num(get(s, "/scenario")).trim_matches('"').to_owned(),
                    num(get(s, "/fixed_10s_transitions_mean")),
                    num(get(s, "/adaptive_transitions_mean")),
                    num(get(s, "/transitions_ratio")),
                    num(get(s, "/fixed_10s_latency_s_p95")),
                    num(get(s, "/adaptive_latency_s_p95")),
                ]
            })
            .collect();
        out.push_str(&report::table(
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

    if let Some(trials) = get(r, "/profile_trials")
        .as_array()
        .filter(|t| !t.is_empty())
    {
        out.push_str("\n== Release profile trials (x86_64 cargo-lambda zips) ==\n");
        let rows: Vec<Vec<String>> = trials
            .iter()
            .map(|t| {
                let zips = get(t, "/zip_bytes")
                    .as_object()
                    .map(|m| m.values().map(num).collect::<Vec<_>>().join("/"))
                    .unwrap_or_default();
                let inits = get(t, "/init_ms_median")
                    .as_object()
                    .map(|m| m.values().map(num).collect::<Vec<_>>().join("/"))
                    .unwrap_or_default();
                vec![
                    num(get(t, "/name")).trim_matches('"').to_owned(),
                    num(get(t, "/zip_bytes_mean")),
                    num(get(t, "/init_ms_median_mean")),
                    num(get(t, "/build_seconds")),
                    zips,
                    inits,
                ]
            })
            .collect();
        out.push_str(&report::table(
            &[
                "profile",
                "zip mean B",
                "init p50 mean ms",
                "build s",
                "zips (notify/poll/rollback/start)",
                "init p50 ms (same order)",
            ],
            &rows,
        ));
        out.push_str(&format!(
            "recommended: {}\n",
            num(get(r, "/recommended_profile_reason")).trim_matches('"')
        ));
    }

    out.push_str("\n== Targets ==\n");
    if let Some(checks) = get(r, "/targets").as_array() {
        let rows: Vec<Vec<String>> = checks
            .iter()
            .map(|c| {
                vec![
                    num(get(c, "/target")).trim_matches('"').to_owned(),
                    num(get(c, "/subject")).trim_matches('"').to_owned(),
                    num(get(c, "/value")),
                    num(get(c, "/limit")),
                    if get(c, "/met").as_bool() == Some(true) {
                        "met".into()
                    } else {
                        "MISSED".into()
                    },
                    num(get(c, "/margin")),
                ]
            })
            .collect();
        out.push_str(&report::table(
            &["target", "subject", "value", "limit", "", "margin"],
            &rows,
        ));
    }
    out
}

fn loadavg() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn machine_info(before: &[f64], after: &[f64], python: &Path) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let cmd = |program: &str, args: &[&str]| -> String {
        std::process::Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| {
                let mut s = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                if s.is_empty() {
                    s = String::from_utf8_lossy(&o.stderr).trim().to_owned();
                }
                s
            })
            .unwrap_or_default()
    };
    json!({
        "cpu": cpu,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "kernel": cmd("uname", &["-r"]),
        "rustc": cmd("rustc", &["--version"]),
        "python": cmd(&python.display().to_string(), &["--version"]),
        "loadavg_before": before,
        "loadavg_after": after,
    })
}
