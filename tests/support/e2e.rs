//! The end-to-end harness: run an execution on the local stack and collect what it did.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::{json, Value};
use stagegate::state::GateState;
use stagegate_cli::envelope::Envelope;
use stagegate_cli::history;
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

/// A notification as an SQS subscriber of the topic receives it: the SNS envelope, its body read
/// as the published contract.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The gate's message (`stagegate::message::Message`), typed: a renamed or retyped field
    /// fails the case that received it, naming the field.
    pub body: stagegate::message::Message,
    /// Subject, attributes and the body as text.
    pub envelope: Envelope,
}

impl Notification {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.envelope.attribute(name)
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
    pub messages: Vec<Notification>,
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
    /// GameSparks as the emulator serves it, to read what a run left on a stage.
    gamesparks: aws_sdk_gamesparks::Client,
    counter: AtomicU32,
    /// Every notification body a subscriber received during the run, as delivered.
    delivered: Mutex<Vec<String>>,
    /// The emulator's scenario as the stack loaded it, kept while a case has another one loaded.
    base_scenario: Mutex<Option<Value>>,
}

impl Ctx {
    pub async fn new(stack: Arc<Stack>) -> Self {
        let clients = stack.clients().await;
        let gamesparks = aws_sdk_gamesparks::Client::new(&emulator_config(&stack).await);
        Self {
            stack,
            clients,
            gamesparks,
            counter: AtomicU32::new(0),
            delivered: Mutex::new(Vec::new()),
            base_scenario: Mutex::new(None),
        }
    }

    /// Each case starts from the scenario the stack loaded, with no faults and an empty queue.
    pub fn reset(&self) -> Result<(), String> {
        let base = self
            .base_scenario
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match base {
            // Loading a scenario also resets the emulator's stages, counters and request log.
            Some(scenario) => self.admin("POST", "/_emulator/scenario", Some(&scenario))?,
            None => self.admin("POST", "/_emulator/reset", None)?,
        };
        self.admin("POST", "/_emulator/faults", Some(&json!({})))?;
        Ok(())
    }

    /// Replaces the emulator's scenario for the rest of the case; the next `reset` restores the
    /// stack's own.
    pub fn load_scenario(&self, scenario: &Value) -> Result<(), String> {
        {
            let mut base = self.base_scenario.lock().unwrap_or_else(|p| p.into_inner());
            if base.is_none() {
                *base = Some(self.admin("GET", "/_emulator/scenario", None)?);
            }
        }
        self.admin("POST", "/_emulator/scenario", Some(scenario))
            .map(|_| ())
            .map_err(|e| format!("loading a scenario: {e}"))
    }

    /// The emulator's scenario as currently loaded (`GET /_emulator/scenario`).
    pub fn scenario(&self) -> Result<Value, String> {
        self.admin("GET", "/_emulator/scenario", None)
    }

    /// Every EMF record the functions printed so far (notify-result's, one per published ending),
    /// read from `cargo lambda watch`'s log as CloudWatch Logs would find them: whole lines that
    /// are JSON objects with an `_aws` member.
    pub fn emf_records(&self) -> Result<Vec<Value>, String> {
        let log = self.stack.log_dir.join("cargo-lambda-watch.log");
        let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        Ok(text
            .lines()
            .filter(|l| l.starts_with('{') && l.contains("\"_aws\""))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("_aws").is_some())
            .collect())
    }

    /// The emulator's admin API (`/_emulator/...`).
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        self.stack
            .admin(method, path, body)
            .map_err(|e| e.to_string())
    }

    pub async fn run_case(self: &Arc<Self>, case: &Case, timeout: Duration) -> Result<(), String> {
        self.reset()?;
        // Every case reads its own messages; one still queued now arrived after its case had
        // read them: a late duplicate or a notification from a run that should have ended. Not
        // thrown away: it fails this case, naming where it came from.
        let leftover = self.drain_messages().await?;
        if !leftover.is_empty() {
            let seen: Vec<String> = leftover
                .iter()
                .map(|m| format!("{} ({})", m.body.gate.execution_id, m.envelope.subject))
                .collect();
            return Err(format!(
                "{} message(s) arrived after their case had read its messages (late or duplicate notifications): {}",
                leftover.len(),
                seen.join(", ")
            ));
        }
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
        let arn = self.start(name, input).await?;
        self.finish(&arn).await
    }

    /// Starts an execution and returns its ARN without waiting for it.
    pub async fn start(&self, name: &str, input: Value) -> Result<String, String> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let started = self
            .clients
            .sfn
            .start_execution()
            .state_machine_arn(&self.stack.state_machine_arn)
            .name(format!("{name}-{n}"))
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| format!("StartExecution: {e:?}"))?;
        Ok(started.execution_arn().unwrap_or_default().to_owned())
    }

    /// Waits until a state of the running execution has exited with a gate state (the
    /// `stagegate::state::GateState` a task returned, carried on by the states after it) that
    /// `matches`, and returns it.
    pub async fn wait_for_state(
        &self,
        arn: &str,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&GateState) -> bool,
    ) -> Result<GateState, String> {
        let deadline = Instant::now() + timeout;
        loop {
            for state in self.gate_states(arn).await? {
                if matches(&state) {
                    return Ok(state);
                }
            }
            let d = self
                .clients
                .sfn
                .describe_execution()
                .execution_arn(arn)
                .send()
                .await
                .map_err(|e| format!("DescribeExecution: {e:?}"))?;
            if d.status() != Some(&ExecutionStatus::Running) {
                return Err(format!(
                    "{arn} ended ({:?}: {:?} {:?}) before {what}",
                    d.status(),
                    d.error(),
                    d.cause()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("{what}: not seen within {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The gate states the execution's states have exited with so far, in order. An output with
    /// a `phase` is a gate state: one that does not deserialize is an error naming the field; the
    /// rest (the accepted input before Start) are not gate states and are passed over.
    async fn gate_states(&self, arn: &str) -> Result<Vec<GateState>, String> {
        let mut states = Vec::new();
        for event in history::read(&self.clients.sfn, arn).await? {
            let Some(output) = event.state_exited_event_details().and_then(|d| d.output()) else {
                continue;
            };
            let Ok(value) = serde_json::from_str::<Value>(output) else {
                continue;
            };
            if value.get("phase").is_none() {
                continue;
            }
            let state = serde_json::from_value(value).map_err(|e| {
                format!("a state's output is not a stagegate GateState ({e}): {output}")
            })?;
            states.push(state);
        }
        Ok(states)
    }

    /// Waits for a started execution to end, then reads what it did and its notifications.
    pub async fn finish_and_read(&self, arn: &str) -> Result<Run, String> {
        let mut run = self.finish(arn).await?;
        run.messages = self.drain_messages().await?;
        Ok(run)
    }

    /// Waits for a started execution to end and reads what it did (not its notifications).
    pub async fn finish(&self, arn: &str) -> Result<Run, String> {
        let arn = arn.to_owned();
        let sfn = &self.clients.sfn;
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
        let events = history::read(sfn, &arn).await?;
        record_history(&arn, &events)?;
        for event in &events {
            if let Some(entered) = event.state_entered_event_details() {
                states.push(entered.name().unwrap_or_default().to_owned());
            }
            if event.r#type() == Some(&HistoryEventType::ExecutionFailed) {
                if let Some(d) = event.execution_failed_event_details() {
                    failure = (d.error().map(str::to_owned), d.cause().map(str::to_owned));
                }
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
    pub async fn drain_messages(&self) -> Result<Vec<Notification>, String> {
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
                out.push(parse_notification(body)?);
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

    /// Requests the emulator answered for `operation` (e.g. `StartStageDeployment`), whatever
    /// their status, since the case's reset.
    pub fn requests(&self, operation: &str) -> Result<u64, String> {
        let counters = self.admin("GET", "/_emulator/counters", None)?;
        Ok(counters["requestsByOperation"][operation]
            .as_u64()
            .unwrap_or(0))
    }

    /// The stages ("game/stage") that StartStageDeployment succeeded on, in the order the
    /// emulator answered.
    pub fn started_on(&self) -> Result<Vec<String>, String> {
        let log = self.admin("GET", "/_emulator/requests", None)?;
        Ok(log["requests"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|r| {
                r["operation"] == "StartStageDeployment"
                    && r["status"].as_u64().is_some_and(|s| s < 300)
            })
            .filter_map(|r| {
                let path = r["path"].as_str()?;
                match path.trim_matches('/').split('/').collect::<Vec<_>>()[..] {
                    ["game", game, "stage", stage, "deployment"] => Some(format!("{game}/{stage}")),
                    _ => None,
                }
            })
            .collect())
    }

    /// A stage's deployment history (newest first), read through the GameSparks API.
    pub async fn history(&self, game: &str, stage: &str) -> Result<Vec<StageDeployment>, String> {
        let out = self
            .gamesparks
            .list_stage_deployments()
            .game_name(game)
            .stage_name(stage)
            .max_results(100)
            .send()
            .await
            .map_err(|e| format!("ListStageDeployments {game}/{stage}: {e:?}"))?;
        Ok(out
            .stage_deployments()
            .unwrap_or_default()
            .iter()
            .map(|d| StageDeployment {
                deployment_id: d.deployment_id().unwrap_or_default().to_owned(),
                snapshot_id: d.snapshot_id().unwrap_or_default().to_owned(),
                action: d
                    .deployment_action()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                state: d
                    .deployment_state()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                result_code: d
                    .deployment_result()
                    .and_then(|r| r.result_code())
                    .map(|c| c.as_str().to_owned()),
            })
            .collect())
    }

    /// Starts a deployment directly through the GameSparks API (not through the gate).
    pub async fn start_deployment(
        &self,
        game: &str,
        stage: &str,
        snapshot_id: &str,
    ) -> Result<String, String> {
        let out = self
            .gamesparks
            .start_stage_deployment()
            .game_name(game)
            .stage_name(stage)
            .snapshot_id(snapshot_id)
            .send()
            .await
            .map_err(|e| format!("StartStageDeployment {game}/{stage}: {e:?}"))?;
        out.stage_deployment()
            .and_then(|d| d.deployment_id())
            .map(str::to_owned)
            .ok_or_else(|| format!("StartStageDeployment {game}/{stage}: no deployment id"))
    }

    /// Creates (or replaces) a metric alarm on the local AWS; moto creates it in state OK. Alarms
    /// are not reset between cases: each case uses its own alarm names.
    pub async fn put_alarm(&self, name: &str) -> Result<(), String> {
        self.clients
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .alarm_description("stagegate e2e bake alarm")
            .namespace("StageGate/E2E")
            .metric_name("Errors")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("PutMetricAlarm {name}: {e:?}"))
    }

    /// Creates a composite alarm over `rule` (e.g. `ALARM("name")`); moto creates it in state OK.
    pub async fn put_composite_alarm(&self, name: &str, rule: &str) -> Result<(), String> {
        self.clients
            .cloudwatch
            .put_composite_alarm()
            .alarm_name(name)
            .alarm_rule(rule)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("PutCompositeAlarm {name}: {e:?}"))
    }

    pub async fn set_alarm(&self, name: &str, state: &str, reason: &str) -> Result<(), String> {
        self.clients
            .cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(aws_sdk_cloudwatch::types::StateValue::from(state))
            .state_reason(reason)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("SetAlarmState {name} {state}: {e:?}"))
    }
}

/// SDK configuration for the emulator (it checks that requests are signed, not the key).
async fn emulator_config(stack: &Stack) -> aws_config::SdkConfig {
    aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .region(aws_sdk_gamesparks::config::Region::new(
            stagegate_local::REGION,
        ))
        .credentials_provider(aws_sdk_gamesparks::config::Credentials::new(
            stagegate_local::ACCESS_KEY_ID,
            stagegate_local::SECRET_ACCESS_KEY,
            None,
            None,
            "stagegate-e2e",
        ))
        .endpoint_url(format!("http://{}", stack.emulator))
        .load()
        .await
}

/// One entry of a stage's deployment history as GameSparks lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageDeployment {
    pub deployment_id: String,
    pub snapshot_id: String,
    /// DEPLOY or UNDEPLOY.
    pub action: String,
    pub state: String,
    pub result_code: Option<String>,
}

/// An SNS notification as delivered to SQS (not raw): the envelope with Subject, Message and
/// MessageAttributes, the Message read as the contract. One that is not fails the case that
/// drained it, with serde's reason and the text.
fn parse_notification(text: &str) -> Result<Notification, String> {
    let envelope = Envelope::parse(text).map_err(|e| format!("{e}: {text}"))?;
    let body = envelope
        .body()
        .map_err(|e| format!("{e}: {}", envelope.message))?;
    Ok(Notification { body, envelope })
}

/// Where `STAGEGATE_RECORD_HISTORIES` asks finished executions' histories to be saved: the
/// golden histories (tests/golden/histories) that `stagegate replay` and `explain` are tested on
/// are recorded from the e2e cases this way, so they are what the real ASL and functions wrote.
pub const RECORD_HISTORIES: &str = "STAGEGATE_RECORD_HISTORIES";

/// Saves a finished execution's history, trimmed to what explain and replay read, as
/// `<dir>/<execution name>.json`, when recording is asked for. A history with no gate state (an
/// input refused before the start) has nothing to replay and is not saved.
fn record_history(arn: &str, events: &[aws_sdk_sfn::types::HistoryEvent]) -> Result<(), String> {
    let Some(dir) = std::env::var_os(RECORD_HISTORIES).filter(|d| !d.is_empty()) else {
        return Ok(());
    };
    let saved = stagegate_cli::saved::SavedHistory::of(arn, events).trimmed();
    if !matches!(saved.said(), Ok(said) if said.state.is_some()) {
        return Ok(());
    }
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = arn.rsplit(':').next().unwrap_or("execution");
    saved.write(&dir.join(format!("{name}.json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification whose body is not the contract fails the case that drained it, with
    /// serde's reason (which field) and the body.
    #[test]
    fn a_body_that_is_not_a_message_is_an_error_naming_the_field() {
        let envelope = json!({
            "Subject": "stagegate SUCCEEDED: space-raiders/prod",
            "Message": json!({"outcome": "SUCCEEDED", "summary": 7}).to_string(),
        });
        let err = parse_notification(&envelope.to_string()).unwrap_err();
        assert!(
            err.contains("not a stagegate message") && err.contains("\"summary\":7"),
            "{err}"
        );
        assert!(parse_notification("not json").is_err());
    }
}
