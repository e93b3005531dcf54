//! The end-to-end harness: run an execution on the local stack and collect what it did.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::{json, Value};
use stagegate_local::{Clients, Stack};

pub type CaseFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

pub struct Case {
    pub name: &'static str,
    run: fn(Arc<Ctx>) -> CaseFuture,
}

impl Case {
    pub fn new(name: &'static str, run: fn(Arc<Ctx>) -> CaseFuture) -> Self {
        Self { name, run }
    }
}

/// A notification as an SQS subscriber of the topic receives it.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    pub body: Value,
    pub attributes: BTreeMap<String, String>,
}

impl Message {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct Run {
    pub execution_arn: String,
    pub status: String,
    pub output: Value,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// States entered, in order.
    pub states: Vec<String>,
    pub messages: Vec<Message>,
}

impl Run {
    pub fn entered(&self, state: &str) -> bool {
        self.states.iter().any(|s| s == state)
    }

    pub fn count(&self, state: &str) -> usize {
        self.states.iter().filter(|s| *s == state).count()
    }

    /// Whether `expected` appears in order (not necessarily adjacent) among the states entered.
    pub fn ran(&self, expected: &[&str]) -> bool {
        let mut states = self.states.iter();
        expected.iter().all(|want| states.any(|s| s == want))
    }
}

pub struct Ctx {
    pub stack: Arc<Stack>,
    clients: Clients,
    counter: AtomicU32,
    /// Every notification body a subscriber received during the run, as delivered.
    delivered: Mutex<Vec<String>>,
}

impl Ctx {
    pub async fn new(stack: Arc<Stack>) -> Self {
        let clients = stack.clients().await;
        Self {
            stack,
            clients,
            counter: AtomicU32::new(0),
            delivered: Mutex::new(Vec::new()),
        }
    }

    /// Each case starts from the scenario as loaded, with no faults and an empty queue.
    pub fn reset(&self) -> Result<(), String> {
        self.admin("POST", "/_emulator/reset", None)?;
        self.admin("POST", "/_emulator/faults", Some(&json!({})))?;
        Ok(())
    }

    /// The emulator's admin API (`/_emulator/...`).
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        self.stack
            .admin(method, path, body)
            .map_err(|e| e.to_string())
    }

    pub async fn run_case(self: &Arc<Self>, case: &Case, timeout: Duration) -> Result<(), String> {
        self.reset()?;
        self.drain_messages().await?;
        let task = tokio::spawn((case.run)(self.clone()));
        let abort = task.abort_handle();
        let result = match tokio::time::timeout(timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) if e.is_panic() => Err(format!("panicked: {e}")),
            Ok(Err(e)) => Err(format!("task failed: {e}")),
            Err(_) => {
                abort.abort();
                Err(format!("timed out after {timeout:?}"))
            }
        };
        let dead = self.stack.dead_services();
        match (result, dead.is_empty()) {
            (Ok(()), true) => Ok(()),
            (Ok(()), false) => Err(format!("services stopped during the case: {dead:?}")),
            (Err(e), true) => Err(e),
            (Err(e), false) => Err(format!("{e} (services stopped: {dead:?})")),
        }
    }

    /// Runs an execution to the end and reads the notifications it produced.
    pub async fn execute(&self, name: &str, input: Value) -> Result<Run, String> {
        let mut run = self.execute_quiet(name, input).await?;
        run.messages = self.drain_messages().await?;
        Ok(run)
    }

    /// Runs an execution to the end; leaves the queue alone (for cases with several executions).
    pub async fn execute_quiet(&self, name: &str, input: Value) -> Result<Run, String> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let sfn = &self.clients.sfn;
        let started = sfn
            .start_execution()
            .state_machine_arn(&self.stack.state_machine_arn)
            .name(format!("{name}-{n}"))
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| format!("StartExecution: {e:?}"))?;
        let arn = started.execution_arn().unwrap_or_default().to_owned();
        let deadline = Instant::now() + Duration::from_secs(180);
        let described = loop {
            let d = sfn
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .map_err(|e| format!("DescribeExecution: {e:?}"))?;
            if d.status() != Some(&ExecutionStatus::Running) {
                break d;
            }
            if Instant::now() > deadline {
                return Err(format!("{arn} still RUNNING after 180 s"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let mut states = Vec::new();
        let mut failure = (None, None);
        let mut token = None;
        loop {
            let page = sfn
                .get_execution_history()
                .execution_arn(&arn)
                .set_next_token(token)
                .max_results(1000)
                .send()
                .await
                .map_err(|e| format!("GetExecutionHistory: {e:?}"))?;
            for event in page.events().unwrap_or_default() {
                if let Some(entered) = event.state_entered_event_details() {
                    states.push(entered.name().unwrap_or_default().to_owned());
                }
                if event.r#type() == Some(&HistoryEventType::ExecutionFailed) {
                    if let Some(d) = event.execution_failed_event_details() {
                        failure = (d.error().map(str::to_owned), d.cause().map(str::to_owned));
                    }
                }
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(Run {
            execution_arn: arn,
            status: described
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            output: described
                .output()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(Value::Null),
            error: described.error().map(str::to_owned).or(failure.0),
            cause: described.cause().map(str::to_owned).or(failure.1),
            states,
            messages: Vec::new(),
        })
    }

    /// Takes every message waiting in the subscriber queue.
    pub async fn drain_messages(&self) -> Result<Vec<Message>, String> {
        let mut out = Vec::new();
        loop {
            let received = self
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.stack.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .send()
                .await
                .map_err(|e| format!("ReceiveMessage: {e:?}"))?;
            let messages = received.messages().unwrap_or_default();
            if messages.is_empty() {
                return Ok(out);
            }
            for m in messages {
                let body = m.body().unwrap_or_default();
                self.delivered
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(body.to_owned());
                out.push(parse_envelope(body)?);
                if let Some(handle) = m.receipt_handle() {
                    self.clients
                        .sqs
                        .delete_message()
                        .queue_url(&self.stack.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .map_err(|e| format!("DeleteMessage: {e:?}"))?;
                }
            }
        }
    }

    pub fn delivered(&self) -> Vec<String> {
        self.delivered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// DEPLOY deployments the emulator saw started on `stage` ("game/stage").
    pub fn deploys(&self, stage: &str) -> Result<u64, String> {
        let counters = self.admin("GET", "/_emulator/counters", None)?;
        Ok(counters["deploymentsStarted"][stage]["DEPLOY"]
            .as_u64()
            .unwrap_or(0))
    }
}

/// An SNS notification as delivered to SQS (not raw): the JSON envelope with Subject, Message
/// and MessageAttributes.
fn parse_envelope(text: &str) -> Result<Message, String> {
    let envelope: Value =
        serde_json::from_str(text).map_err(|e| format!("SQS body is not JSON ({e}): {text}"))?;
    let body = envelope["Message"]
        .as_str()
        .and_then(|m| serde_json::from_str(m).ok())
        .ok_or_else(|| format!("the notification body is not JSON: {envelope}"))?;
    let attributes = envelope["MessageAttributes"]
        .as_object()
        .map(|attrs| {
            attrs
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v["Value"].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Message {
        subject: envelope["Subject"].as_str().unwrap_or_default().to_owned(),
        body,
        attributes,
    })
}
