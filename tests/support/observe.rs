//! What the soak and concurrency tests observe on the local stack: executions run to the end with
//! their Step Functions history, the notifications an SQS subscriber of the topic received, the
//! windows in which the SNS fault proxy failed, and the emulator's view of a stage's deployments.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::Value;
use stagegate::message::Message;
use stagegate_cli::envelope::Envelope;
use stagegate_local::proxy::ProxyMode;
use stagegate_local::{Clients, Stack};

/// Seconds since the Unix epoch, the unit every timestamp here is kept in.
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn epoch(date: Option<&DateTime>) -> Option<f64> {
    date.map(DateTime::as_secs_f64)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// One execution, run to its end (or given up on).
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub name: String,
    pub arn: String,
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`; empty when it never started.
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// States entered, in order.
    pub states: Vec<String>,
    /// Step Functions' startDate / stopDate (epoch seconds).
    pub started: Option<f64>,
    pub stopped: Option<f64>,
    /// Still running when the watch gave up (it was then stopped).
    pub overdue: bool,
    /// Failed Lambda task attempts (each one retried or caught).
    pub task_failures: usize,
    /// Of those, attempts of Notify / NotifyError (SNS failing).
    pub notify_failures: usize,
    /// A problem of the test's own client (an API call that failed).
    pub problem: Option<String>,
    /// What the workflow handed Notify (the final gate state): the run's decision even when the
    /// notification of it was lost.
    pub notify_input: Option<Value>,
}

impl Record {
    pub fn duration(&self) -> Option<f64> {
        Some(self.stopped? - self.started?)
    }

    pub fn entered(&self, state: &str) -> bool {
        self.states.iter().any(|s| s == state)
    }

    pub fn last_state(&self) -> &str {
        self.states.last().map_or("", String::as_str)
    }

    /// Ended because publishing kept failing (`NotificationLost`).
    pub fn notification_lost(&self) -> bool {
        self.status == "FAILED"
            && self.error.as_deref() == Some("StageGate.NotificationFailed")
            && self.last_state() == "NotificationLost"
    }
}

/// Starts executions of the stack's state machine and follows them.
pub struct Executor {
    sfn: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

impl Executor {
    pub async fn new(stack: &Stack) -> Self {
        Self {
            sfn: stack.clients().await.sfn,
            state_machine_arn: stack.state_machine_arn.clone(),
        }
    }

    /// Runs one execution to its end. Past `limit` it is stopped and marked overdue. Never
    /// fails: problems of the test's own calls land in `Record::problem`.
    pub async fn run(&self, name: &str, input: &Value, limit: Duration) -> Record {
        let mut record = Record {
            name: name.to_owned(),
            ..Record::default()
        };
        if let Err(e) = self.follow(&mut record, input, limit).await {
            record.problem = Some(e);
        }
        record
    }

    async fn follow(
        &self,
        record: &mut Record,
        input: &Value,
        limit: Duration,
    ) -> Result<(), String> {
        let started = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&record.name)
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| format!("StartExecution {}: {e:?}", record.name))?;
        record.arn = started.execution_arn().unwrap_or_default().to_owned();
        let deadline = Instant::now() + limit;
        let described = loop {
            let d = self
                .sfn
                .describe_execution()
                .execution_arn(&record.arn)
                .send()
                .await
                .map_err(|e| format!("DescribeExecution: {e:?}"))?;
            if d.status() != Some(&ExecutionStatus::Running) {
                break d;
            }
            if Instant::now() > deadline + Duration::from_secs(60) {
                return Err(format!(
                    "{} still RUNNING 60 s after StopExecution",
                    record.arn
                ));
            }
            if Instant::now() > deadline && !record.overdue {
                record.overdue = true;
                self.sfn
                    .stop_execution()
                    .execution_arn(&record.arn)
                    .error("Soak.Overdue")
                    .cause(format!("still running after {limit:?}"))
                    .send()
                    .await
                    .map_err(|e| format!("StopExecution: {e:?}"))?;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        record.status = described
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        record.error = described.error().map(str::to_owned);
        record.cause = described.cause().map(str::to_owned);
        record.started = epoch(described.start_date());
        record.stopped = epoch(described.stop_date());
        self.read_history(record).await
    }

    async fn read_history(&self, record: &mut Record) -> Result<(), String> {
        let mut current = String::new();
        for event in stagegate_cli::history::read(&self.sfn, &record.arn).await? {
            if let Some(entered) = event.state_entered_event_details() {
                current = entered.name().unwrap_or_default().to_owned();
                record.states.push(current.clone());
                if current == "Notify" || current == "NotifyError" {
                    record.notify_input = entered
                        .input()
                        .and_then(|text| serde_json::from_str(text).ok());
                }
            }
            match event.r#type() {
                Some(HistoryEventType::TaskFailed | HistoryEventType::LambdaFunctionFailed) => {
                    record.task_failures += 1;
                    if current == "Notify" || current == "NotifyError" {
                        record.notify_failures += 1;
                    }
                }
                Some(HistoryEventType::ExecutionFailed) => {
                    if let Some(d) = event.execution_failed_event_details() {
                        record.error = record.error.take().or(d.error().map(str::to_owned));
                        record.cause = record.cause.take().or(d.cause().map(str::to_owned));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A notification as the SQS subscriber received it.
#[derive(Debug, Clone)]
pub struct Notice {
    /// `body.gate.executionId`.
    pub execution_id: String,
    /// The `outcome` message attribute.
    pub outcome: String,
    pub subject: String,
    /// The gate's message, read as the published contract.
    pub body: Message,
    pub received: f64,
}

/// Collects what the topic's SQS subscriber receives, in the background.
pub struct Inbox {
    clients: Clients,
    queue_url: String,
    notices: Mutex<Vec<Notice>>,
    /// Messages that were not a readable notification (not an SNS envelope, or a body that is
    /// not a `Message`), each with why.
    garbage: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Inbox {
    pub async fn new(stack: &Stack) -> Arc<Self> {
        Arc::new(Self {
            clients: stack.clients().await,
            queue_url: stack.queue_url.clone(),
            notices: Mutex::new(Vec::new()),
            garbage: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        })
    }

    /// Receives continuously until `stop`.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        self.stop.store(false, Ordering::SeqCst);
        let inbox = self.clone();
        tokio::spawn(async move {
            while !inbox.stop.load(Ordering::SeqCst) {
                match inbox.receive().await {
                    Ok(0) => tokio::time::sleep(Duration::from_millis(300)).await,
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("soak: receiving notifications: {e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Receives until the queue has stayed empty for `quiet`.
    pub async fn settle(&self, quiet: Duration) -> Result<(), String> {
        let mut empty_since = Instant::now();
        while empty_since.elapsed() < quiet {
            if self.receive().await? > 0 {
                empty_since = Instant::now();
            } else {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    /// Takes everything received so far.
    pub fn take(&self) -> (Vec<Notice>, Vec<String>) {
        (
            std::mem::take(&mut *lock(&self.notices)),
            std::mem::take(&mut *lock(&self.garbage)),
        )
    }

    async fn receive(&self) -> Result<usize, String> {
        let received = self
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .send()
            .await
            .map_err(|e| format!("ReceiveMessage: {e:?}"))?;
        let messages = received.messages().unwrap_or_default();
        for m in messages {
            let text = m.body().unwrap_or_default();
            match parse_notification(text) {
                Ok(notice) => lock(&self.notices).push(notice),
                Err(why) => lock(&self.garbage).push(format!("{why}: {text}")),
            }
            if let Some(handle) = m.receipt_handle() {
                self.clients
                    .sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| format!("DeleteMessage: {e:?}"))?;
            }
        }
        Ok(messages.len())
    }
}

/// The SNS envelope SQS holds (not raw delivery), its body read as the contract: a message that
/// is not an envelope, or whose body is not a `Message`, is an error naming why.
fn parse_notification(text: &str) -> Result<Notice, String> {
    let envelope = Envelope::parse(text)?;
    let body = envelope.body()?;
    Ok(Notice {
        execution_id: body.gate.execution_id.clone(),
        outcome: envelope.attribute("outcome").unwrap_or_default().to_owned(),
        subject: envelope.subject.clone(),
        body,
        received: epoch_now(),
    })
}

/// Groups notifications by execution id.
pub fn by_execution(notices: &[Notice]) -> BTreeMap<&str, Vec<&Notice>> {
    let mut map: BTreeMap<&str, Vec<&Notice>> = BTreeMap::new();
    for n in notices {
        map.entry(n.execution_id.as_str()).or_default().push(n);
    }
    map
}

/// A window in which the SNS fault proxy failed every request.
#[derive(Debug, Clone)]
pub struct Window {
    pub long: bool,
    pub mode: ProxyMode,
    pub start: f64,
    pub end: f64,
}

impl Window {
    pub fn seconds(&self) -> f64 {
        self.end - self.start
    }
}

/// How the outage driver spaces its windows.
#[derive(Debug, Clone)]
pub struct OutagePlan {
    /// Pass-through time before each window.
    pub every: Duration,
    pub short: Duration,
    pub long: Duration,
    /// The long window takes the first window slot after two short ones once this many
    /// executions have ended.
    pub long_after: usize,
}

/// Drives the stack's SNS fault proxy: short windows (alternately closing connections and
/// answering 503) and one long 503 window, until `stop`. Always leaves it passing through.
pub struct Outages {
    windows: Mutex<Vec<Window>>,
    stop: AtomicBool,
    long_started: AtomicBool,
}

impl Outages {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            windows: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            long_started: AtomicBool::new(false),
        })
    }

    /// Waits until the long window has begun (or `max` passed, or the driver stopped), so work
    /// started afterwards meets it however fast the rest of the run went.
    pub async fn wait_for_long(&self, max: Duration) {
        let until = Instant::now() + max;
        while !self.long_started.load(Ordering::SeqCst)
            && !self.stop.load(Ordering::SeqCst)
            && Instant::now() < until
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn spawn(
        self: &Arc<Self>,
        stack: Arc<Stack>,
        plan: OutagePlan,
        finished: impl Fn() -> usize + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let outages = self.clone();
        tokio::spawn(async move {
            let Some(proxy) = stack.sns_proxy.as_ref() else {
                return;
            };
            let mut shorts = 0usize;
            let mut long_done = false;
            loop {
                if outages.pause(plan.every).await {
                    break;
                }
                // Short windows of both kinds first, so even a small run has them.
                let long = !long_done && shorts >= 2 && finished() >= plan.long_after;
                let (mode, length) = if long {
                    long_done = true;
                    (ProxyMode::Unavailable, plan.long)
                } else {
                    shorts += 1;
                    let mode = if shorts % 2 == 1 {
                        ProxyMode::Reset
                    } else {
                        ProxyMode::Unavailable
                    };
                    (mode, plan.short)
                };
                let start = epoch_now();
                proxy.set_mode(mode);
                if long {
                    outages.long_started.store(true, Ordering::SeqCst);
                }
                let stopped = outages.pause(length).await;
                proxy.set_mode(ProxyMode::PassThrough);
                lock(&outages.windows).push(Window {
                    long,
                    mode,
                    start,
                    end: epoch_now(),
                });
                if long {
                    println!(
                        "soak: the long SNS outage ({}) ended after {:.1} s",
                        mode,
                        epoch_now() - start
                    );
                }
                if stopped {
                    break;
                }
            }
            proxy.set_mode(ProxyMode::PassThrough);
        })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn windows(&self) -> Vec<Window> {
        lock(&self.windows).clone()
    }

    /// Whether an outage is in progress right now (for progress lines).
    pub fn current(&self, stack: &Stack) -> Option<ProxyMode> {
        stack
            .sns_proxy
            .as_ref()
            .map(|p| p.mode())
            .filter(|m| *m != ProxyMode::PassThrough)
    }

    /// Sleeps `length`, or less when stopped; says whether it was stopped.
    async fn pause(&self, length: Duration) -> bool {
        let until = Instant::now() + length;
        while Instant::now() < until {
            if self.stop.load(Ordering::SeqCst) {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            tokio::time::sleep(left.min(Duration::from_millis(50))).await;
        }
        self.stop.load(Ordering::SeqCst)
    }
}

/// A GameSparks client on the emulator (any credentials; it checks only that requests are
/// signed), for reading deployments the way an operator would.
pub async fn gamesparks(stack: &Stack) -> aws_sdk_gamesparks::Client {
    let sdk = aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .region(aws_sdk_gamesparks::config::Region::new(
            stagegate_local::REGION,
        ))
        .credentials_provider(aws_sdk_gamesparks::config::Credentials::new(
            stagegate_local::ACCESS_KEY_ID,
            stagegate_local::SECRET_ACCESS_KEY,
            None,
            None,
            "soak",
        ))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(10)
                .with_initial_backoff(Duration::from_millis(50)),
        )
        .load()
        .await;
    aws_sdk_gamesparks::Client::from_conf(
        aws_sdk_gamesparks::config::Builder::from(&sdk)
            .endpoint_url(format!("http://{}", stack.emulator))
            .build(),
    )
}

/// A stage deployment as `GetStageDeployment` describes it.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    pub action: String,
    pub state: String,
    /// Virtual epoch seconds.
    pub created: f64,
    pub last_updated: f64,
}

impl Deployment {
    pub fn in_progress(&self) -> bool {
        self.state == "PENDING" || self.state == "IN_PROGRESS"
    }
}

/// Deployment ids on a stage (ListStageDeployments, all pages) with their states.
pub async fn list_deployments(
    client: &aws_sdk_gamesparks::Client,
    game: &str,
    stage: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_stage_deployments()
            .game_name(game)
            .stage_name(stage)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| format!("ListStageDeployments {game}/{stage}: {e:?}"))?;
        for d in page.stage_deployments().unwrap_or_default() {
            out.push((
                d.deployment_id().unwrap_or_default().to_owned(),
                d.deployment_state()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            ));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

pub async fn get_deployment(
    client: &aws_sdk_gamesparks::Client,
    game: &str,
    stage: &str,
    id: &str,
) -> Result<Deployment, String> {
    let out = client
        .get_stage_deployment()
        .game_name(game)
        .stage_name(stage)
        .deployment_id(id)
        .send()
        .await
        .map_err(|e| format!("GetStageDeployment {game}/{stage} {id}: {e:?}"))?;
    let d = out
        .stage_deployment()
        .ok_or_else(|| format!("GetStageDeployment {id}: no StageDeployment"))?;
    Ok(Deployment {
        id: id.to_owned(),
        action: d
            .deployment_action()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        state: d
            .deployment_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        created: epoch(d.created()).unwrap_or(0.0),
        last_updated: epoch(d.last_updated()).unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is not a notification, and a notification whose body is not the contract, both end
    /// in the Inbox's garbage with why (the soak fails on garbage), never silently dropped.
    #[test]
    fn unreadable_messages_say_why() {
        let not_envelope = parse_notification("hello").unwrap_err();
        assert!(
            not_envelope.contains("not an SNS envelope"),
            "{not_envelope}"
        );
        let envelope = serde_json::json!({
            "Subject": "stagegate SUCCEEDED: soak/s0000",
            "Message": serde_json::json!({"outcome": "SUCCEEDED"}).to_string(),
        });
        let not_message = parse_notification(&envelope.to_string()).unwrap_err();
        assert!(
            not_message.contains("not a stagegate message")
                && not_message.contains("missing field"),
            "{not_message}"
        );
    }
}
