//! notify-result: publishes the run's outcome to the SNS topic in `TOPIC_ARN`, after writing its
//! decision record to the bucket in `RECORD_BUCKET` when that is set.
//! Only wiring here; the logic is `stagegate::handlers::notify`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::{self, S3Records, SnsNotifier, SsmAbortRequests};
use stagegate::clock::{Clock, SystemClock};
use stagegate::startup::Startup;
use stagegate::telemetry::EmfStdout;
use stagegate::{handlers, preflight, telemetry};

// One invocation at a time per process: a single-threaded runtime starts without spawning a
// worker thread per core (bench/results.json `init_breakdown`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut startup = Startup::begin();
    preflight::check(
        "notify-result",
        "publishes the run's outcome to the SNS topic in TOPIC_ARN",
    );
    telemetry::init();
    startup.mark("preflight and logging");
    let clock = SystemClock::from_env()?;
    let config = aws::lambda_config()?;
    startup.mark("clock and SDK config");
    let notifier = SnsNotifier::from_config(&config)?;
    startup.mark("SNS client");
    let aborts = SsmAbortRequests::from_config(&config);
    startup.mark("SSM client");
    // Decision records (docs/audit.md): none, and no client built, unless RECORD_BUCKET is set.
    let records = S3Records::from_env(&config);
    startup.mark("S3 client");
    startup.report();
    let (notifier, aborts, clock, records) = (&notifier, &aborts, &clock, records.as_ref());
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handlers::notify::handle_recorded(
            notifier,
            &EmfStdout,
            aborts,
            records,
            &event.payload,
            clock.now(),
        )
        .await
    }))
    .await
}
