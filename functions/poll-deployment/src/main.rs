//! poll-deployment: reads the watched deployment and decides the workflow's next step.
//! Only wiring here; the logic is `stagegate::handlers::poll`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::{sdk_config, CloudWatchAlarms, GameSparksDeployments};
use stagegate::clock::SystemClock;
use stagegate::{handlers, preflight, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    preflight::check(
        "poll-deployment",
        "reads the deployment (or the bake alarms) and decides the next step",
    );
    telemetry::init();
    let clock = SystemClock::from_env()?;
    let config = sdk_config().await;
    let deployments = GameSparksDeployments::from_config(&config);
    let alarms = CloudWatchAlarms::from_config(&config);
    let (deployments, alarms, clock) = (&deployments, &alarms, &clock);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::poll::handle(deployments, alarms, &event.payload, clock).await
    }))
    .await
}
