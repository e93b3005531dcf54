//! rollback-deployment: redeploys the last known-good snapshot after a failure.
//! Only wiring here; the logic is `stagegate::handlers::rollback`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::{self, GameSparksDeployments};
use stagegate::clock::SystemClock;
use stagegate::startup::Startup;
use stagegate::{handlers, preflight, telemetry};

// One invocation at a time per process: a single-threaded runtime starts without spawning a
// worker thread per core (bench/results.json `init_breakdown`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut startup = Startup::begin();
    preflight::check(
        "rollback-deployment",
        "redeploys the stage's last known-good snapshot",
    );
    telemetry::init();
    startup.mark("preflight and logging");
    let clock = SystemClock::from_env()?;
    let config = aws::lambda_config()?;
    startup.mark("clock and SDK config");
    let deployments = GameSparksDeployments::from_config(&config);
    startup.mark("GameSparks client");
    startup.report();
    let (deployments, clock) = (&deployments, &clock);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::rollback::handle(deployments, &event.payload, clock).await
    }))
    .await
}
