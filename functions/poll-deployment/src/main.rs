//! poll-deployment: reads the watched deployment and decides the workflow's next step.
//! Only wiring here; the logic is `stagegate::handlers::poll`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::{self, CloudWatchAlarms, GameSparksDeployments, SsmAbortRequests};
use stagegate::clock::SystemClock;
use stagegate::startup::Startup;
use stagegate::{handlers, preflight, telemetry};

// One invocation at a time per process: a single-threaded runtime starts without spawning a
// worker thread per core (bench/results.json `init_breakdown`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut startup = Startup::begin();
    preflight::check(
        "poll-deployment",
        "reads the deployment (or the bake alarms) and decides the next step",
    );
    telemetry::init();
    startup.mark("preflight and logging");
    let clock = SystemClock::from_env()?;
    let config = aws::lambda_config()?;
    startup.mark("clock and SDK config");
    let deployments = GameSparksDeployments::from_config(&config);
    startup.mark("GameSparks client");
    let alarms = CloudWatchAlarms::from_config(&config);
    startup.mark("CloudWatch client");
    let aborts = SsmAbortRequests::from_config(&config);
    startup.mark("SSM client");
    startup.report();
    let (deployments, alarms, aborts, clock) = (&deployments, &alarms, &aborts, &clock);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::poll::handle(deployments, alarms, aborts, &event.payload, clock).await
    }))
    .await
}
