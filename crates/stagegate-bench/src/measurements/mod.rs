//! Everything the bench measures on its Tokio runtime, one module per kind: `cold` (init, first
//! invocation and peak memory of the five functions, the Python peer and the init experiments,
//! all from the same round-robin cold starts), `parity` (the peer's answer against the Rust
//! one), `warm` (handler overhead of a warm poll-deployment), `profiles` (the release-profile
//! trials). `polling` (the simulation) and `machine` (what the figures were measured on) run off
//! the runtime. [`measure_all`] runs the runtime's share in order against one emulator (plain,
//! and behind a TLS front for the HTTPS cold starts) and one SNS stub; turning the outcome into the results document is `assemble`'s job.

pub mod cold;
pub mod machine;
pub mod parity;
pub mod polling;
pub mod profiles;
pub mod warm;

use std::path::PathBuf;

use crate::artifacts::Build;
use crate::error::{Context, Result};
use crate::fixtures::{self, Function};
use crate::measure::{self, Endpoints};
use crate::peer::Peer;
use crate::results::{Parity, Trial};
use crate::run_ca::{self, RunCa};
use crate::stubs::SnsStub;
use crate::tls_proxy::TlsProxy;

/// How many of each measurement (from the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Cold starts per target.
    pub runs: usize,
    /// Warm invocations per warm run.
    pub warm: usize,
    /// Cold starts per target in the profile trials.
    pub profile_runs: usize,
}

/// Where the measurements read and write.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// The workspace root (events/, Cargo.toml).
    pub workspace: PathBuf,
    /// The bench's scratch directory under the target dir.
    pub scratch: PathBuf,
    /// One log per process started.
    pub logs: PathBuf,
}

/// Everything measured on the runtime.
#[derive(Debug, Clone)]
pub struct Measured {
    pub cold: cold::ColdStarts,
    pub parity: Parity,
    pub warm: warm::WarmRuns,
    /// Empty with `--skip-profiles`.
    pub trials: Vec<Trial>,
    /// Messages the SNS stub received (notify-result's runs).
    pub sns_published: u64,
}

/// Starts the emulator and the SNS stub, then runs the cold starts, the parity check, the warm
/// runs and the profile trials (when `trial_builds` is not empty).
pub async fn measure_all(
    counts: Counts,
    dirs: &Dirs,
    main_build: &Build,
    trial_builds: &[Build],
    peer: &Peer,
) -> Result<Measured> {
    let emulator = gamesparks_local::Server::start(gamesparks_local::Config {
        scenario: fixtures::scenario()?,
        seed: 7,
        ..gamesparks_local::Config::default()
    })
    .await
    .context("starting the GameSparks emulator")?;
    let sns = SnsStub::start().await?;
    let ca = RunCa::new()?;
    let bundle = run_ca::write_bundle(&dirs.scratch, &ca)?;
    let front = TlsProxy::start(emulator.addr(), ca.server_config()?).await?;
    let front_url = front.url();
    let endpoints = Endpoints {
        gamesparks: emulator.url(),
        sns: sns.url(),
        scratch: dirs.scratch.join("home"),
    };
    let events = fixtures::events(&dirs.workspace, time::OffsetDateTime::now_utc())?;
    let harness = measure::Harness {
        endpoints: &endpoints,
        events: &events,
        emulator: &emulator,
        logs: &dirs.logs,
    };

    let https = cold::HttpsFront {
        url: &front_url,
        bundle: &bundle,
    };
    let cold = cold::measure(
        &harness,
        counts.runs,
        main_build,
        peer,
        &dirs.scratch,
        https,
    )
    .await?;
    // Each HTTPS cold start (two targets, warm-up round included) opens at least one TLS
    // connection; fewer handshakes mean some reached GameSparks another way.
    let wanted = 2 * (counts.runs as u64 + 1);
    if front.handshakes() < wanted {
        crate::bail!(
            "the TLS front completed {} handshakes for {wanted} HTTPS cold starts: the +https targets did not all go through it",
            front.handshakes()
        );
    }
    // fleet-step's figures are those of its ending step only if it answered with that ending.
    fixtures::check_fleet_answer(cold.response(Function::Fleet.binary())?)?;
    let parity = parity::compare(
        cold.response(Function::Poll.binary())?,
        cold.response(measure::PEER_LABEL)?,
    )?;
    let warm = warm::measure(&harness, emulator.addr(), counts.warm, main_build).await?;
    let trials =
        profiles::measure(&harness, counts.profile_runs, trial_builds, &dirs.workspace).await?;
    Ok(Measured {
        cold,
        parity,
        warm,
        trials,
        sns_published: sns.published(),
    })
}
