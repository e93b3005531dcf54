//! start-deployment: validates the execution input and starts the GameSparks stage deployment
//! (or plans a dry run, or starts the next stage of a promotion wave).
//! Only wiring here; the logic is `stagegate::handlers::start`.

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
    preflight::check("start-deployment", "validates the execution input and starts the GameSparks stage deployment (or a dry run, or the next stage of a wave)");
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
    let settings = handlers::start::Settings::from_env()?;
    startup.mark("settings (freeze windows)");
    startup.report();
    let (deployments, alarms, aborts, clock, settings) =
        (&deployments, &alarms, &aborts, &clock, &settings);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::start::handle_with(
            deployments,
            alarms,
            aborts,
            &event.payload,
            &event.context.request_id,
            clock,
            settings,
        )
        .await
    }))
    .await
}
