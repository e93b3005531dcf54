//! fleet-step: the fleet workflow's plan, ending, tally and summary steps, over GameSparks' game
//! list, the fleet bucket in `FLEET_BUCKET` and the SNS topic in `TOPIC_ARN`.
//! Only wiring here; the logic is `stagegate::handlers::fleet`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::{self, endpoint, GameSparksDeployments, S3Records, SnsNotifier};
use stagegate::handlers::fleet::{self, FleetConfig};
use stagegate::startup::Startup;
use stagegate::{preflight, telemetry};

// One invocation at a time per process: a single-threaded runtime starts without spawning a
// worker thread per core (bench/results.json `init_breakdown`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut startup = Startup::begin();
    preflight::check(
        "fleet-step",
        "plans a fleet of gates, reads each game's ending, tallies batches against the budget and publishes the fleet summary",
    );
    telemetry::init();
    startup.mark("preflight and logging");
    let config = FleetConfig::from_lookup(|k| std::env::var(k).ok())?;
    let sdk = aws::lambda_config()?;
    startup.mark("configuration and SDK config");
    let games = GameSparksDeployments::from_config(&sdk);
    let bucket = S3Records::for_bucket(&sdk, config.bucket.clone(), endpoint::from_env("S3"));
    let notifier = SnsNotifier::from_config(&sdk)?;
    // No comma in a phase name: the bench reads the phases back as comma-separated pairs.
    startup.mark("GameSparks + S3 + SNS clients");
    startup.report();
    let (games, bucket, notifier, config) = (&games, &bucket, &notifier, &config);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        fleet::handle(games, bucket, notifier, config, &event.payload).await
    }))
    .await
}
