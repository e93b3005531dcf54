//! `stagegate-bench`: cold start, peak memory, warm handler cost, polling efficiency and zip
//! size of the stagegate functions (fleet-step too), against a Python peer of poll-deployment.
//! Prints a table and writes `bench/results.json`. See bench/README.md for the method.
//!
//! This file is the command line only: it parses the flags and hands them to
//! `stagegate_bench::pipeline`, which runs the benchmark.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use stagegate_bench::measurements::Counts;
use stagegate_bench::pipeline::{self, Options};

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

impl Cli {
    fn options(self) -> Options {
        Options {
            counts: Counts {
                runs: self.runs,
                warm: self.warm,
                profile_runs: self.profile_runs,
            },
            skip_profiles: self.skip_profiles,
            out: self.out,
            no_build: self.no_build,
            workspace: self.workspace,
            python: self.python,
            sim_deployments: self.sim_deployments,
        }
    }
}

fn main() -> ExitCode {
    match pipeline::run(&Cli::parse().options()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stagegate-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
