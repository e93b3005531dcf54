//! rollback-deployment: redeploys the last known-good snapshot after a failure.
//! Only wiring here; the logic is `stagegate::handlers::rollback`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::GameSparksDeployments;
use stagegate::clock::SystemClock;
use stagegate::{handlers, preflight, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    preflight::check(
        "rollback-deployment",
        "redeploys the stage's last known-good snapshot",
    );
    telemetry::init();
    let clock = SystemClock::from_env()?;
    let deployments = GameSparksDeployments::from_env().await;
    let (deployments, clock) = (&deployments, &clock);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::rollback::handle(deployments, &event.payload, clock).await
    }))
    .await
}
