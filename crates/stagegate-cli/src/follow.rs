//! Starting an execution and following its history to the end.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use clap::Args;
use serde::Deserialize;
use stagegate::handlers::notify::NotifyOutput;

use stagegate::verdict::Verdict;

use crate::envelope::Envelope;
use crate::exit::Exit;
use crate::history::{self, error_text};
use crate::progress;

#[derive(Args, Clone)]
pub struct FollowArgs {
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,
    /// Endpoint for Step Functions and SQS, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// An SQS queue subscribed to the gate's topic: print the notification it receives.
    #[arg(long)]
    queue_url: Option<String>,
    /// How often to read the execution history.
    #[arg(long, default_value_t = 2000)]
    poll_interval_ms: u64,
    /// Stop following after this many seconds (the execution keeps running).
    #[arg(long, default_value_t = 16_500)]
    timeout: u64,
    /// Write `<status> <error>` here when the execution ends (for scripts).
    #[arg(long)]
    result_file: Option<PathBuf>,
    /// Write the notification's JSON body here (with --queue-url).
    #[arg(long)]
    message_file: Option<PathBuf>,
    /// Print the notification's whole JSON body (by default: subject, attributes and summary).
    #[arg(long, short)]
    verbose: bool,
}

pub struct Clients {
    sfn: aws_sdk_sfn::Client,
    sqs: aws_sdk_sqs::Client,
}

impl Clients {
    /// The clients for following `arn` (the state machine a run starts on, or the execution).
    pub async fn new(args: &FollowArgs, arn: &str) -> Result<Self, String> {
        let config = crate::aws::load(&args.aws, Some(arn)).await?;
        let pick = |service: &str| crate::aws::endpoint_url(args.endpoint_url.as_deref(), service);
        let mut sfn = aws_sdk_sfn::config::Builder::from(&config);
        if let Some(url) = pick("SFN") {
            sfn = sfn.endpoint_url(url);
        }
        let mut sqs = aws_sdk_sqs::config::Builder::from(&config);
        if let Some(url) = pick("SQS") {
            sqs = sqs.endpoint_url(url);
        }
        Ok(Self {
            sfn: aws_sdk_sfn::Client::from_conf(sfn.build()),
            sqs: aws_sdk_sqs::Client::from_conf(sqs.build()),
        })
    }
}

pub async fn start(
    clients: &Clients,
    state_machine: &str,
    input: &str,
    name: Option<String>,
) -> Result<String, String> {
    let name = name.unwrap_or_else(|| {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        format!("stagegate-{millis}")
    });
    let started = clients
        .sfn
        .start_execution()
        .state_machine_arn(state_machine)
        .name(&name)
        .input(input)
        .send()
        .await
        .map_err(|e| format!("StartExecution on {state_machine}: {}", error_text(&e)))?;
    let arn = started.execution_arn().unwrap_or_default().to_owned();
    println!("started {arn}");
    Ok(arn)
}

/// Follows the execution to its end; the exit code is its ending's class (`Exit`).
pub async fn follow(clients: &Clients, arn: &str, args: &FollowArgs) -> Result<Exit, String> {
    let started = Instant::now();
    let interval = Duration::from_millis(args.poll_interval_ms.max(100));
    let mut seen = 0i64;
    let mut first_event: Option<f64> = None;
    loop {
        // Read the status first: once it is terminal, one more history read has every event.
        let described = clients
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| format!("DescribeExecution: {}", error_text(&e)))?;
        let done = described
            .status()
            .is_some_and(|s| *s != ExecutionStatus::Running);
        for event in history::read(&clients.sfn, arn).await? {
            if event.id() <= seen {
                continue;
            }
            seen = event.id();
            let at = event.timestamp().map_or(0.0, |t| t.as_secs_f64());
            let elapsed = at - *first_event.get_or_insert(at);
            if let Some(line) = describe(&event, elapsed) {
                println!("{line}");
            }
        }
        if done {
            return finish(clients, arn, args, &described).await;
        }
        if started.elapsed() > Duration::from_secs(args.timeout) {
            eprintln!(
                "stagegate: {arn} is still running after {} s; it continues without us",
                args.timeout
            );
            return Ok(Exit::StillRunning);
        }
        tokio::time::sleep(interval).await;
    }
}

async fn finish(
    clients: &Clients,
    arn: &str,
    args: &FollowArgs,
    described: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput,
) -> Result<Exit, String> {
    let status = described
        .status()
        .map_or("UNKNOWN", |s| s.as_str())
        .to_owned();
    let (mut error, mut cause) = (
        described.error().map(str::to_owned),
        described.cause().map(str::to_owned),
    );
    if error.is_none() {
        // Some implementations only record the failure in the history.
        for event in history::read(&clients.sfn, arn).await? {
            if let Some(d) = event.execution_failed_event_details() {
                error = d.error().map(str::to_owned);
                cause = d.cause().map(str::to_owned);
            }
        }
    }
    let succeeded = status == "SUCCEEDED";
    // The gate's verdict: the notification's outcome on success, the Fail state's
    // `StageGate.<VERDICT>` otherwise. A success whose output is not understood is still the
    // gate's success (only the gate's own endings reach Succeeded).
    let mut verdict = error.as_deref().and_then(Verdict::from_name);
    println!();
    if succeeded {
        /// The workflow keeps notify-result's output under `$.notification`.
        #[derive(Deserialize)]
        struct Output {
            notification: NotifyOutput,
        }
        let output = described.output().map(serde_json::from_str::<Output>);
        verdict = Some(Verdict::Succeeded);
        match output {
            Some(Ok(o)) => {
                verdict = Some(o.notification.outcome);
                println!("result: {}: {}", status, o.notification.cause)
            }
            Some(Err(e)) => println!("result: SUCCEEDED (output not understood: {e})"),
            None => println!("result: SUCCEEDED"),
        }
    } else {
        println!("result: {status} {}", error.as_deref().unwrap_or(""));
        if let Some(cause) = &cause {
            println!("cause:  {}", progress::readable_cause(cause));
        }
    }
    if let Some(queue) = &args.queue_url {
        match notification(clients, queue, arn).await? {
            Some(envelope) => {
                if let Some(path) = &args.message_file {
                    std::fs::write(path, &envelope.message)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
                let text =
                    progress::notification(&envelope, args.verbose, args.message_file.as_deref());
                println!("\n{text}");
            }
            None => println!("\nno notification for this execution reached {queue}"),
        }
    }
    if let Some(path) = &args.result_file {
        let line = format!("{status} {}\n", error.as_deref().unwrap_or(""));
        std::fs::write(path, line).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Exit::of_execution(verdict))
}

fn describe(event: &HistoryEvent, elapsed: f64) -> Option<String> {
    if let Some(entered) = event.state_entered_event_details() {
        return Some(progress::state_entered(
            elapsed,
            entered.name().unwrap_or("?"),
        ));
    }
    match event.r#type() {
        Some(HistoryEventType::TaskSucceeded) => event
            .task_succeeded_event_details()
            .and_then(|d| d.output())
            .and_then(progress::task_output),
        Some(HistoryEventType::LambdaFunctionSucceeded) => event
            .lambda_function_succeeded_event_details()
            .and_then(|d| d.output())
            .and_then(progress::task_output),
        Some(HistoryEventType::TaskFailed) => event
            .task_failed_event_details()
            .map(|d| progress::task_failed(d.error().unwrap_or("?"), d.cause().unwrap_or(""))),
        _ => None,
    }
}

/// Waits briefly for this execution's notification on the queue (others are left there).
async fn notification(
    clients: &Clients,
    queue: &str,
    arn: &str,
) -> Result<Option<Envelope>, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|e| format!("ReceiveMessage: {}", error_text(&e)))?;
        for message in received.messages().unwrap_or_default() {
            // Another run's notification, or something that is not one: leave it for others.
            let Ok(envelope) = Envelope::parse(message.body().unwrap_or_default()) else {
                continue;
            };
            let ours = match envelope.body() {
                Ok(body) => body.gate.execution_id == arn,
                // Not the contract, but about this run: shown, with what is wrong with it.
                Err(_) => envelope.message.contains(arn),
            };
            if !ours {
                continue;
            }
            if let Some(handle) = message.receipt_handle() {
                let _ = clients
                    .sqs
                    .delete_message()
                    .queue_url(queue)
                    .receipt_handle(handle)
                    .send()
                    .await;
            }
            return Ok(Some(envelope));
        }
    }
    Ok(None)
}
