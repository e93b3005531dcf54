//! Starting an execution and following its history to the end: each poll reads the execution's
//! status and only the history events it has not seen (`history::read_new_with`), prints them,
//! and in a terminal keeps a live line under them (`progress::live_line`); transient failures are
//! ridden out (`retry`), and it stops waiting at the run's own deadline (`deadline`). In `--output json` mode the
//! lines a person reads go to stderr and stdout gets the one `RunDocument` (`output`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use clap::Args;
use serde::Deserialize;
use stagegate::handlers::notify::NotifyOutput;

use stagegate::verdict::Verdict;

use crate::deadline::{self, Deadline};
use crate::envelope::Envelope;
use crate::exit::Exit;
use crate::history::{self, error_text};
use crate::output::{Document, Execution, Format, RunDocument};
use crate::progress::{self, Live};
use crate::retry::{self, CallError, Next, Outage};

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
    /// Stop following after this many seconds (the execution keeps running; exit 5). Default:
    /// the run's own limits, i.e. the longest its input lets it wait (approvals, deployments with
    /// their grace windows, bakes, one rollback) plus 1,800 s, from its start; 561,600 s (the
    /// workflow's limit) when its input cannot be read.
    #[arg(long)]
    timeout: Option<u64>,
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
    Ok(started.execution_arn().unwrap_or_default().to_owned())
}

/// A DescribeExecution answer.
type Described = aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;

/// A failure the history recorded (some implementations record it only there): error, cause.
type Recorded = Option<(Option<String>, Option<String>)>;

/// What following reads and how it waits: Step Functions and the clock in production (`Sfn`), a
/// scripted run in tests, so the loop's handling of failures and events is tested without AWS.
pub(crate) trait Source {
    async fn describe(&self, arn: &str) -> Result<Described, CallError>;
    /// The history events after `seen`, oldest first.
    async fn new_events(&self, arn: &str, seen: i64) -> Result<Vec<HistoryEvent>, CallError>;
    /// Time since following started, on a monotonic clock.
    fn elapsed(&self) -> Duration;
    async fn sleep(&self, wait: Duration);
    /// The random part of a retry's wait, in [0, 1]: the clock in production, fixed in tests so
    /// a test's waits and read counts are the same on every run.
    fn jitter(&self) -> f64;
}

struct Sfn<'a> {
    sfn: &'a aws_sdk_sfn::Client,
    started: Instant,
}

impl Source for Sfn<'_> {
    async fn describe(&self, arn: &str) -> Result<Described, CallError> {
        self.sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| CallError::of("DescribeExecution", &e))
    }

    async fn new_events(&self, arn: &str, seen: i64) -> Result<Vec<HistoryEvent>, CallError> {
        new_events(self.sfn, arn, seen).await
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    async fn sleep(&self, wait: Duration) {
        tokio::time::sleep(wait).await;
    }

    fn jitter(&self) -> f64 {
        retry::clock_unit()
    }
}

/// What the polls have learnt so far: the newest event seen, the live line's state, a failure
/// the history recorded.
#[derive(Default)]
struct Seen {
    newest: i64,
    first_event: Option<f64>,
    live: Live,
    failure: Recorded,
}

/// Where the lines go: in a terminal, a live line stays under the printed ones, cleared before
/// each of them and drawn again after.
pub(crate) struct Screen<W: Write> {
    tty: bool,
    live_shown: bool,
    out: W,
}

impl<W: Write> Screen<W> {
    fn clear(&mut self) {
        if self.live_shown {
            let _ = write!(self.out, "{}", progress::CLEAR);
            let _ = self.out.flush();
            self.live_shown = false;
        }
    }

    fn line(&mut self, text: &str) {
        self.clear();
        let _ = writeln!(self.out, "{text}");
    }

    fn live(&mut self, text: &str) {
        if self.tty {
            let _ = write!(self.out, "{}", progress::redraw(text));
            let _ = self.out.flush();
            self.live_shown = true;
        }
    }
}

/// How following ended.
#[derive(Debug)]
pub(crate) enum Followed {
    /// The execution ended: its last description, and a failure its history recorded.
    Ended(Box<Described>, Recorded),
    /// Following stopped (the deadline, or an outage ridden out for `retry::RIDE_OUT`); the
    /// execution goes on.
    StillRunning,
}

/// Follows the execution to its end; the exit code is its ending's class (`Exit`).
pub async fn follow(
    clients: &Clients,
    arn: &str,
    args: &FollowArgs,
    format: Format,
) -> Result<Exit, String> {
    let source = Sfn {
        sfn: &clients.sfn,
        started: Instant::now(),
    };
    let interval = Duration::from_millis(args.poll_interval_ms.max(100));
    // The lines a person reads (and the live line) go where `format` says: stderr in json mode.
    let (tty, out): (bool, Box<dyn Write>) = match format {
        Format::Text => (std::io::stdout().is_terminal(), Box::new(std::io::stdout())),
        Format::Json => (std::io::stderr().is_terminal(), Box::new(std::io::stderr())),
    };
    let mut screen = Screen {
        tty,
        live_shown: false,
        out,
    };
    match follow_with(&source, arn, args.timeout, interval, &mut screen).await? {
        Followed::Ended(described, recorded) => {
            finish(clients, arn, args, &described, recorded, format).await
        }
        Followed::StillRunning => {
            if format == Format::Json {
                let execution = Execution {
                    arn: arn.to_owned(),
                    status: "RUNNING".into(),
                    ..Execution::default()
                };
                Document::Run(RunDocument::new(execution, Exit::StillRunning)).print();
            }
            Ok(Exit::StillRunning)
        }
    }
}

/// The loop: poll, print what is new, wait; ride out transient failures; stop at the deadline.
pub(crate) async fn follow_with<S: Source, W: Write>(
    source: &S,
    arn: &str,
    timeout: Option<u64>,
    interval: Duration,
    screen: &mut Screen<W>,
) -> Result<Followed, String> {
    let mut seen = Seen::default();
    let mut outage = Outage::default();
    // An explicit --timeout counts from now; the run's own limits need its input (first poll).
    let mut deadline = timeout.map(|t| deadline::deadline(Some(t), None, None, SystemTime::now()));
    loop {
        match poll(source, arn, &mut seen, screen).await {
            Ok(described) => {
                outage.ended();
                let deadline = deadline.get_or_insert_with(|| {
                    let started_at = described
                        .start_date()
                        .and_then(|t| u64::try_from(t.as_nanos()).ok())
                        .map(|n| UNIX_EPOCH + Duration::from_nanos(n));
                    deadline::deadline(None, described.input(), started_at, SystemTime::now())
                });
                if described
                    .status()
                    .is_some_and(|s| *s != ExecutionStatus::Running)
                {
                    screen.clear();
                    return Ok(Followed::Ended(Box::new(described), seen.failure));
                }
                if SystemTime::now() >= deadline.at {
                    return Ok(give_up(screen, arn, deadline));
                }
                let now = time::OffsetDateTime::now_utc();
                let until = time::OffsetDateTime::from(deadline.at);
                screen.live(&progress::live_line(&seen.live, Some(until), now));
                source.sleep(interval).await;
            }
            Err(e) => {
                if let Some(d) = deadline.as_ref().filter(|d| SystemTime::now() >= d.at) {
                    return Ok(give_up(screen, arn, d));
                }
                screen.clear();
                match outage.failed(e.kind, source.elapsed(), source.jitter()) {
                    Next::Fail => return Err(e.text),
                    Next::GiveUp => {
                        eprintln!(
                            "stagegate: {arn} could not be read for {} s ({}); it continues \
                             without us: `stagegate follow --execution-arn {arn}` picks it up again",
                            retry::RIDE_OUT.as_secs(),
                            e.text
                        );
                        return Ok(Followed::StillRunning);
                    }
                    Next::Wait(wait) => {
                        // Not past the deadline: following ends on time even in an outage.
                        let wait = deadline
                            .as_ref()
                            .and_then(|d| d.at.duration_since(SystemTime::now()).ok())
                            .map_or(wait, |left| wait.min(left));
                        eprintln!(
                            "stagegate: {} (transient: reading again in {:.1} s)",
                            e.text,
                            wait.as_secs_f64()
                        );
                        source.sleep(wait).await;
                    }
                }
            }
        }
    }
}

fn give_up<W: Write>(screen: &mut Screen<W>, arn: &str, deadline: &Deadline) -> Followed {
    screen.clear();
    eprintln!(
        "stagegate: {arn} is still running at the deadline of following it ({}); it continues \
         without us",
        deadline.explain()
    );
    Followed::StillRunning
}

/// One poll: the status first (once it is terminal, the history read after it has every event),
/// then the events not seen yet, printed.
async fn poll<S: Source, W: Write>(
    source: &S,
    arn: &str,
    seen: &mut Seen,
    screen: &mut Screen<W>,
) -> Result<Described, CallError> {
    let described = source.describe(arn).await?;
    for event in source.new_events(arn, seen.newest).await? {
        seen.newest = seen.newest.max(event.id());
        let at = event.timestamp().map_or(0.0, |t| t.as_secs_f64());
        let elapsed = at - *seen.first_event.get_or_insert(at);
        if let Some(d) = event.execution_failed_event_details() {
            seen.failure = Some((d.error().map(str::to_owned), d.cause().map(str::to_owned)));
        }
        if let Some(entered) = event.state_entered_event_details() {
            seen.live.entered(entered.name().unwrap_or("?"));
        }
        if let Some(output) = task_output(&event) {
            seen.live.task_output(output);
        }
        if let Some(line) = describe(&event, elapsed) {
            screen.line(&line);
        }
    }
    Ok(described)
}

/// The history events after `seen`, oldest first: newest-first pages until one reaches `seen`
/// (the first read takes big pages: it reads the whole history once).
async fn new_events(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
    seen: i64,
) -> Result<Vec<HistoryEvent>, CallError> {
    let size = if seen == 0 {
        1000
    } else {
        history::RECENT_PAGE
    };
    let fetch = |token: Option<String>| async move {
        let page = history::newest_first(sfn, arn, size, token)
            .await
            .map_err(|e| CallError::of("GetExecutionHistory", &e))?;
        let events = page.events().unwrap_or_default().to_vec();
        Ok::<_, CallError>((events, page.next_token().map(str::to_owned)))
    };
    history::read_new_with(fetch, HistoryEvent::id, seen).await
}

async fn finish(
    clients: &Clients,
    arn: &str,
    args: &FollowArgs,
    described: &Described,
    recorded: Recorded,
    format: Format,
) -> Result<Exit, String> {
    let status = status_of(described);
    let (mut error, mut cause) = (
        described.error().map(str::to_owned),
        described.cause().map(str::to_owned),
    );
    if error.is_none() {
        // Some implementations only record the failure in the history.
        if let Some((e, c)) = recorded {
            error = e;
            cause = c;
        }
    }
    let succeeded = status == "SUCCEEDED";
    // The gate's verdict: the notification's outcome on success, the Fail state's
    // `StageGate.<VERDICT>` otherwise. A success whose output is not understood is still the
    // gate's success (only the gate's own endings reach Succeeded).
    let mut verdict = error.as_deref().and_then(Verdict::from_name);
    format.say("");
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
                format.say(&format!("result: {}: {}", status, o.notification.cause))
            }
            Some(Err(e)) => format.say(&format!("result: SUCCEEDED (output not understood: {e})")),
            None => format.say("result: SUCCEEDED"),
        }
    } else {
        format.say(&format!(
            "result: {status} {}",
            error.as_deref().unwrap_or("")
        ));
        if let Some(cause) = &cause {
            format.say(&format!("cause:  {}", progress::readable_cause(cause)));
        }
    }
    let mut received = None;
    if let Some(queue) = &args.queue_url {
        match notification(clients, queue, arn).await? {
            Some(envelope) => {
                if let Some(path) = &args.message_file {
                    std::fs::write(path, &envelope.message)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
                let text =
                    progress::notification(&envelope, args.verbose, args.message_file.as_deref());
                format.say(&format!("\n{text}"));
                received = Some(envelope.message);
            }
            None => format.say(&format!(
                "\nno notification for this execution reached {queue}"
            )),
        }
    }
    if let Some(path) = &args.result_file {
        let line = format!("{status} {}\n", error.as_deref().unwrap_or(""));
        std::fs::write(path, line).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let exit = Exit::of_execution(verdict);
    if format == Format::Json {
        let execution = Execution {
            arn: arn.to_owned(),
            status,
            verdict,
            error,
            cause,
            notification: received,
            duration_seconds: duration(described),
        };
        Document::Run(RunDocument::new(execution, exit)).print();
    }
    Ok(exit)
}

fn status_of(described: &Described) -> String {
    described
        .status()
        .map_or("UNKNOWN", |s| s.as_str())
        .to_owned()
}

/// From the start to the stop, or to now while the execution runs.
fn duration(described: &Described) -> Option<f64> {
    let start = described.start_date()?.as_secs_f64();
    let stop = described.stop_date().map_or_else(
        || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(start, |d| d.as_secs_f64())
        },
        |t| t.as_secs_f64(),
    );
    Some((stop - start).max(0.0))
}

/// A succeeded task's output (a gate state or the notify result).
fn task_output(event: &HistoryEvent) -> Option<&str> {
    match event.r#type() {
        Some(HistoryEventType::TaskSucceeded) => event
            .task_succeeded_event_details()
            .and_then(|d| d.output()),
        Some(HistoryEventType::LambdaFunctionSucceeded) => event
            .lambda_function_succeeded_event_details()
            .and_then(|d| d.output()),
        _ => None,
    }
}

fn describe(event: &HistoryEvent, elapsed: f64) -> Option<String> {
    if let Some(entered) = event.state_entered_event_details() {
        return Some(progress::state_entered(
            elapsed,
            entered.name().unwrap_or("?"),
        ));
    }
    if let Some(output) = task_output(event) {
        return progress::task_output(output);
    }
    match event.r#type() {
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

#[cfg(test)]
mod tests;
