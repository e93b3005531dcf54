//! Warm handler cost: poll-deployment kept warm and invoked one event at a time, first through
//! the timing proxy (per-invocation handler overhead: invocation time minus the emulator's own
//! window), then straight to the emulator (the invocation time Lambda would bill), and the SDK
//! round trip from the harness (the cruder subtraction, and the cost of reading history in the
//! polling simulation).

use std::net::SocketAddr;

use crate::artifacts::Build;
use crate::error::Result;
use crate::fixtures::Function;
use crate::measure::{self, Endpoints, Harness, Target, WarmSamples};
use crate::progress::say;
use crate::stats;
use crate::stubs::TimingProxy;

/// Unrecorded invocations before each warm run.
const WARMUP: usize = 50;

/// The raw samples of the warm runs.
#[derive(Debug, Clone)]
pub struct WarmRuns {
    /// Through the timing proxy.
    pub proxied: WarmSamples,
    /// Straight to the emulator.
    pub direct: WarmSamples,
    /// GetStageDeployment calls from the harness, ms.
    pub sdk_ms: Vec<f64>,
}

impl WarmRuns {
    /// Median invocation time without the proxy (NaN without samples).
    pub fn direct_invocation_ms_p50(&self) -> f64 {
        stats::median(&self.direct.invocation_ms).unwrap_or(f64::NAN)
    }

    /// Median SDK round trip from the harness (NaN without samples).
    pub fn sdk_round_trip_ms_median(&self) -> f64 {
        stats::median(&self.sdk_ms).unwrap_or(f64::NAN)
    }

    /// Peak RSS of the two warm processes, MiB.
    pub fn rss_mb(&self) -> f64 {
        self.direct.rss_kib.max(self.proxied.rss_kib) as f64 / 1024.0
    }
}

/// `n` recorded invocations of each kind. `emulator` is the emulator's address, the proxy's
/// upstream.
pub async fn measure(
    h: &Harness<'_>,
    emulator: SocketAddr,
    n: usize,
    build: &Build,
) -> Result<WarmRuns> {
    let poll_bin = build.binary(Function::Poll)?;
    let target = Target::rust(Function::Poll.binary(), Function::Poll, poll_bin);
    let event = h.events.bytes(Function::Poll)?;
    let proxy = TimingProxy::start(emulator).await?;
    say(format!(
        "warm: {n} poll-deployment invocations through the timing proxy"
    ));
    let proxied_endpoints = Endpoints {
        gamesparks: proxy.url(),
        ..h.endpoints.clone()
    };
    let proxied = measure::warm(
        &target,
        &proxied_endpoints,
        &event,
        WARMUP,
        n,
        Some(&proxy),
        &h.logs.join("warm-proxied.log"),
    )
    .await?;
    say(format!(
        "warm: {n} poll-deployment invocations straight to the emulator"
    ));
    let direct = measure::warm(
        &target,
        h.endpoints,
        &event,
        WARMUP,
        n,
        None,
        &h.logs.join("warm-direct.log"),
    )
    .await?;
    say(format!(
        "warm: {n} GetStageDeployment calls from the harness (SDK round trip)"
    ));
    let sdk_ms = measure::sdk_round_trips(&h.endpoints.gamesparks, n).await?;
    Ok(WarmRuns {
        proxied,
        direct,
        sdk_ms,
    })
}
