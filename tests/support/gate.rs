//! Drives the four handlers the way the state machine does (route on `action`, Retry on
//! `StageGate.Retryable`, Catch everything else into an error notification), against the
//! in-process emulator through the real SDK adapter. The Step Functions engine itself is
//! exercised by the end-to-end tests; this tier isolates the functions and the wire.

use std::time::Duration;

use aws_sdk_gamesparks::config::{Credentials, Region};
use gamesparks_local::{Config, RunningServer, Scenario, Server};
use serde_json::{json, Value};
use stagegate::aws::GameSparksDeployments;
use stagegate::clock::Clock;
use stagegate::error::{types, GateError};
use stagegate::fakes::{FakeAbortRequests, FakeAlarms, FakeNotifier};
use stagegate::handlers::{notify, poll, rollback, start};
use stagegate::notification::Notification;
use stagegate::policy::Action;
use stagegate::state::GateState;

/// As many attempts as the workflow gives each task (its Retry's MaxAttempts plus the first), read
/// from the ASL: a harness more patient than the workflow would pass runs that fail in it.
fn task_attempts() -> usize {
    let path = crate::repo_root().join("infra/statemachine/deployment-gate.asl.json");
    let asl: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("cannot read {}", path.display()));
    let attempts: std::collections::BTreeSet<u64> = ["Start", "Poll", "Rollback", "Advance"]
        .iter()
        .map(|task| {
            asl["States"][task]["Retry"][0]["MaxAttempts"]
                .as_u64()
                .unwrap_or_else(|| panic!("{task} has no Retry MaxAttempts"))
                + 1
        })
        .collect();
    assert_eq!(attempts.len(), 1, "tasks retry differently: {attempts:?}");
    attempts
        .first()
        .map_or(1, |&a| usize::try_from(a).unwrap_or(1))
}

pub struct Emulated {
    pub server: RunningServer,
    pub deployments: GameSparksDeployments,
}

/// An emulator with the demo scenario at `time_scale`, and the real adapter pointed at it.
pub async fn emulator(time_scale: f64, seed: u64) -> Emulated {
    emulator_with(Scenario::demo(), time_scale, seed).await
}

/// An emulator with `scenario`, and the real adapter pointed at it.
pub async fn emulator_with(scenario: Scenario, time_scale: f64, seed: u64) -> Emulated {
    let server = Server::start(Config {
        scenario,
        time_scale,
        seed,
        ..Config::default()
    })
    .await
    .unwrap_or_else(|e| panic!("emulator did not start: {e}"));
    let deployments = adapter_at(&server.url()).await;
    Emulated {
        server,
        deployments,
    }
}

/// The real GameSparks adapter, configured as the functions configure it, pointed at `url`.
pub async fn adapter_at(url: &str) -> GameSparksDeployments {
    let sdk = aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "test-secret",
            None,
            None,
            "tests",
        ))
        // Real backoff starts at 1 s; tests keep the SDK's retry count but not its patience.
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_initial_backoff(Duration::from_millis(5)),
        )
        // The functions' own timeouts, so hung calls play out as they would in Lambda.
        .timeout_config(stagegate::aws::timeout_config())
        .load()
        .await;
    let client = aws_sdk_gamesparks::Client::from_conf(
        aws_sdk_gamesparks::config::Builder::from(&sdk)
            .endpoint_url(url)
            .build(),
    );
    GameSparksDeployments::new(client)
}

/// The emulator's virtual clock; the execution start times given to the handlers are already on it.
struct EmulatorClock<'a>(&'a RunningServer);

impl Clock for EmulatorClock<'_> {
    fn now(&self) -> time::OffsetDateTime {
        self.0.virtual_now()
    }
}

/// One gate run, as the workflow would have executed it.
#[derive(Debug)]
pub struct GateRun {
    /// Task names in order, with retries (`Start`, `Poll`, `Rollback`, `Advance`, `Notify`).
    pub tasks: Vec<&'static str>,
    pub final_state: Option<GateState>,
    pub caught: Option<(String, String)>,
    pub output: notify::NotifyOutput,
    pub notifications: Vec<Notification>,
}

impl GateRun {
    pub fn count(&self, task: &str) -> usize {
        self.tasks.iter().filter(|t| **t == task).count()
    }

    /// The first notification's body, read as the published contract (or why it cannot be).
    pub fn body(&self) -> Result<stagegate::message::Message, String> {
        let n = self.notifications.first().ok_or("nothing was published")?;
        serde_json::from_str(&n.message)
            .map_err(|e| format!("not a stagegate message ({e}): {}", n.message))
    }
}

pub async fn run_gate(env: &Emulated, execution_id: &str, input: Value) -> GateRun {
    let d = &env.deployments;
    let sns = FakeNotifier::default();
    let scale = env.server.time_scale();
    let mut tasks = Vec::new();
    let event = json!({
        "input": input,
        "execution": {"Id": execution_id, "StartTime": gamesparks_local::format_timestamp(env.server.virtual_now())}
    });

    let clock = EmulatorClock(&env.server);
    // No bake alarms exist here: bake windows are exercised by the core's tests and end to end.
    let alarms = FakeAlarms::new();
    // Nobody asks to abort: aborting is exercised by the handlers' tests and the CLI's.
    let aborts = FakeAbortRequests::default();
    let mut state = match retrying(&mut tasks, "Start", || {
        start::handle(d, &alarms, &event, "req", &clock)
    })
    .await
    {
        Ok(s) => s,
        Err(e) => return notify_caught(&sns, tasks, input, e, execution_id, env).await,
    };
    // The state machine's history limit would stop a runaway loop; so does this bound.
    for _ in 0..10_000 {
        let value = serde_json::to_value(&state).unwrap_or_default();
        let next = match state.action {
            Action::Wait => {
                tokio::time::sleep(Duration::from_secs_f64(state.wait_seconds as f64 / scale))
                    .await;
                retrying(&mut tasks, "Poll", || {
                    poll::handle(d, &alarms, &aborts, &value, &clock)
                })
                .await
            }
            Action::Advance => {
                let event = json!({ "advance": value });
                retrying(&mut tasks, "Advance", || {
                    start::handle(d, &alarms, &event, "req", &clock)
                })
                .await
            }
            Action::Rollback => {
                retrying(&mut tasks, "Rollback", || {
                    rollback::handle(d, &value, &clock)
                })
                .await
            }
            Action::Succeed | Action::Alert => break,
            // The workflow would wait for a person's answer; no input here asks for approval.
            Action::Approve => panic!(
                "{execution_id}: the gate asked for approval, which this driver does not answer"
            ),
        };
        state = match next {
            Ok(s) => s,
            Err(e) => return notify_caught(&sns, tasks, value, e, execution_id, env).await,
        };
    }
    tasks.push("Notify");
    let event = json!({"state": state, "execution": {"Id": execution_id}});
    let output = notify::handle(&sns, &event, env.server.virtual_now())
        .await
        .unwrap_or_else(|e| panic!("notify failed: {e}"));
    GateRun {
        tasks,
        final_state: Some(state),
        caught: None,
        output,
        notifications: sns.published(),
    }
}

async fn retrying<F, Fut>(
    tasks: &mut Vec<&'static str>,
    name: &'static str,
    mut task: F,
) -> Result<GateState, GateError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<GateState, GateError>>,
{
    let attempts = task_attempts();
    let mut attempt = 0;
    loop {
        tasks.push(name);
        attempt += 1;
        match task().await {
            Err(e) if e.error_type() == types::RETRYABLE && attempt < attempts => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}

async fn notify_caught(
    sns: &FakeNotifier,
    mut tasks: Vec<&'static str>,
    mut state: Value,
    error: GateError,
    execution_id: &str,
    env: &Emulated,
) -> GateRun {
    let caught = (error.error_type().to_owned(), error.to_string());
    if let Some(object) = state.as_object_mut() {
        object.insert(
            "error".into(),
            json!({"Error": caught.0, "Cause": caught.1}),
        );
    }
    tasks.push("NotifyError");
    let event = json!({"state": state, "execution": {"Id": execution_id}});
    let output = notify::handle(sns, &event, env.server.virtual_now())
        .await
        .unwrap_or_else(|e| panic!("notify failed: {e}"));
    GateRun {
        tasks,
        final_state: None,
        caught: Some(caught),
        output,
        notifications: sns.published(),
    }
}
