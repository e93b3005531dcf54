//! One benchmark run, start to end, in the order that keeps the figures clean: the builds (all
//! the CPU-heavy work) first, then the peer's venv, the measurements on a runtime of their own,
//! the polling simulation, and last the results document, written to `bench/results.json` and
//! printed as a table. Each step is another module's; this one only sequences them, times them
//! and knows where things go on disk.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::artifacts::{self, Build, Tools};
use crate::assemble::assemble;
use crate::error::{Context, Result};
use crate::measurements::{self, machine, polling, Counts, Dirs};
use crate::peer;
use crate::progress::say;
use crate::report;
use crate::results::Timing;
use crate::sim::CostInputs;
use crate::stats::round;

/// What the command line asks for (see `stagegate-bench --help`).
#[derive(Debug, Clone)]
pub struct Options {
    pub counts: Counts,
    /// Skip the release-profile trials.
    pub skip_profiles: bool,
    /// Where to write the results; relative paths are relative to the workspace root.
    pub out: PathBuf,
    /// Read the builds of an earlier run instead of building.
    pub no_build: bool,
    /// The workspace root (None: the one this binary was built from).
    pub workspace: Option<PathBuf>,
    /// The Python that creates the peer's venv.
    pub python: String,
    /// Simulated deployments per polling strategy.
    pub sim_deployments: usize,
}

fn workspace_root(opts: &Options) -> Result<PathBuf> {
    let root = match &opts.workspace {
        Some(p) => p.clone(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    let root = root
        .canonicalize()
        .context(format!("workspace {}", root.display()))?;
    if !root.join("Cargo.toml").is_file() || !root.join("events").is_dir() {
        crate::bail!(
            "{} does not look like the stagegate workspace (no Cargo.toml or events/); pass --workspace",
            root.display()
        );
    }
    Ok(root)
}

/// The main build and, unless `--skip-profiles`, one build per profile variant (the main build
/// is the first variant's).
fn builds(
    opts: &Options,
    tools: &Tools,
    target_dir: &Path,
    logs: &Path,
) -> Result<(Build, Vec<Build>)> {
    say(if opts.no_build {
        "reading the existing cargo-lambda build (--no-build)".to_owned()
    } else {
        "cargo lambda build --release --output-format zip (x86_64) of the functions".to_owned()
    });
    let main_build = artifacts::build(
        tools,
        artifacts::CURRENT,
        target_dir,
        &target_dir.join("lambda"),
        &logs.join("build-current.log"),
        opts.no_build,
    )?;
    let mut trial_builds: Vec<Build> = vec![];
    if !opts.skip_profiles {
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
                tools,
                *v,
                &dir,
                &dir.join("lambda"),
                &logs.join(format!("build-{}.log", v.name)),
                opts.no_build,
            )?);
        }
    }
    Ok((main_build, trial_builds))
}

/// Runs the whole benchmark.
pub fn run(opts: &Options) -> Result<()> {
    let started = Instant::now();
    if opts.counts.runs == 0 || opts.counts.warm == 0 {
        crate::bail!("--runs and --warm must be at least 1");
    }
    let ws = workspace_root(opts)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { ws.join(p) })
        .unwrap_or_else(|| ws.join("target"));
    let scratch = target_dir.join("stagegate-bench");
    let logs = scratch.join("logs");
    std::fs::create_dir_all(&logs).context(format!("creating {}", logs.display()))?;
    std::fs::create_dir_all(scratch.join("home")).context("creating the scratch home")?;
    let dirs = Dirs {
        workspace: ws.clone(),
        scratch,
        logs,
    };
    let load_before = machine::loadavg();
    if load_before.first().copied().unwrap_or(0.0) > 1.0 {
        say(format!(
            "warning: load average {load_before:?} before starting: other work on this machine will add noise"
        ));
    }

    // 1. Builds (CPU-heavy; all before any measurement).
    let tools = Tools::new(&ws)?;
    let build_started = Instant::now();
    let (main_build, trial_builds) = builds(opts, &tools, &target_dir, &dirs.logs)?;
    let build_seconds = build_started.elapsed().as_secs_f64();

    // 2. The Python peer's venv.
    let peer = peer::ensure(&ws, &opts.python, &dirs.logs.join("peer-venv.log"))?;

    // 3. Measurements, on a runtime of their own.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the Tokio runtime")?;
    let measure_started = Instant::now();
    let measured = rt.block_on(async {
        tokio::select! {
            r = measurements::measure_all(opts.counts, &dirs, &main_build, &trial_builds, &peer) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
        }
    })?;
    drop(rt);
    let measure_seconds = measure_started.elapsed().as_secs_f64();

    // 4. Polling simulation, priced with the warm figures.
    let polling = polling::simulate(
        opts.sim_deployments,
        CostInputs {
            billed_ms_per_invocation: measured.warm.direct_invocation_ms_p50().max(1.0).ceil(),
            history_read_ms: measured.warm.sdk_round_trip_ms_median(),
        },
    );

    // 5. Results.
    let bench_seconds = started.elapsed().as_secs_f64();
    let timing = Timing {
        bench_seconds: round(bench_seconds, 1),
        build_seconds: round(build_seconds, 1),
        measure_seconds: round(measure_seconds, 1),
        builds_skipped: opts.no_build,
    };
    let machine = machine::describe(&load_before, &machine::loadavg(), &peer.python);
    let results = assemble(
        opts.counts,
        &measured,
        &main_build,
        &polling,
        timing,
        machine,
    );
    let out = if opts.out.is_absolute() {
        opts.out.clone()
    } else {
        ws.join(&opts.out)
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).context(format!("creating {}", dir.display()))?;
    }
    std::fs::write(&out, results.to_json()?).context(format!("writing {}", out.display()))?;
    print!("{}", report::render(&results));
    println!(
        "\nresults: {}  (benchmark took {:.0} s: builds {:.0} s, measurements {:.0} s)",
        out.display(),
        bench_seconds,
        build_seconds,
        measure_seconds
    );
    Ok(())
}
