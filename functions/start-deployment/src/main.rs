//! start-deployment: validates the execution input and starts the GameSparks stage deployment.
//! Only wiring here; the logic is `stagegate::handlers::start`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::GameSparksDeployments;
use stagegate::clock::SystemClock;
use stagegate::{handlers, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let clock = SystemClock::from_env()?;
    let deployments = GameSparksDeployments::from_env().await;
    let (deployments, clock) = (&deployments, &clock);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::start::handle(
            deployments,
            &event.payload,
            &event.context.request_id,
            clock,
        )
        .await
    }))
    .await
}
