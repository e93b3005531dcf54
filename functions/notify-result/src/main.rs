//! notify-result: publishes the run's outcome to the SNS topic in `TOPIC_ARN`.
//! Only wiring here; the logic is `stagegate::handlers::notify`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::SnsNotifier;
use stagegate::clock::{Clock, SystemClock};
use stagegate::{handlers, preflight, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    preflight::check(
        "notify-result",
        "publishes the run's outcome to the SNS topic in TOPIC_ARN",
    );
    telemetry::init();
    let clock = SystemClock::from_env()?;
    let notifier = SnsNotifier::from_env().await?;
    let (notifier, clock) = (&notifier, &clock);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::notify::handle(notifier, &event.payload, clock.now()).await
    }))
    .await
}
