//! answer-approval: answers a run's pending approval for the caller IAM verified (a Lambda
//! function URL with AuthType AWS_IAM), signing the answer so that the gate can tell it from one
//! sent by anyone else holding `states:SendTaskSuccess`.
//! Only wiring here; the logic is `stagegate::handlers::answer`.

use std::io::Read;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use stagegate::aws::{self, SsmAnswerKeys};
use stagegate::clock::SystemClock;
use stagegate::handlers::answer;
use stagegate::startup::Startup;
use stagegate::{preflight, telemetry};

mod sfn;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut startup = Startup::begin();
    preflight::check(
        "answer-approval",
        "answers a run's pending approval for the caller IAM verified, signed",
    );
    telemetry::init();
    startup.mark("preflight and logging");
    let clock = SystemClock::from_env()?;
    let config = aws::lambda_config()?;
    startup.mark("clock and SDK config");
    let waits = sfn::SfnApprovalWaits::from_config(&config);
    let keys = SsmAnswerKeys::from_config(&config);
    startup.mark("Step Functions and SSM clients");
    startup.report();
    let (waits, keys, clock) = (&waits, &keys, &clock);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let reply = answer::handle(waits, keys, random_key, &event.payload, clock).await;
        Ok::<Value, Error>(reply.into_response())
    }))
    .await
}

/// 32 bytes from the kernel's CSPRNG, for a key made on first use.
fn random_key() -> Result<[u8; 32], String> {
    let mut key = [0; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(key)
}
