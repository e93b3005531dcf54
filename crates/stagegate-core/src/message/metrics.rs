//! Per-run metrics: what a run cost and how it went, as numbers. notify-result prints one
//! CloudWatch embedded-metric-format (EMF) record per run (CloudWatch Logs extracts the metrics
//! from it: runs by game, stage and outcome, deployment time, how late the gate noticed the end,
//! polls, state transitions, rollbacks, cost), and the notification carries the run's state
//! transitions and estimated cost. Nothing tells a task how many states the execution has
//! entered, so the count is derived here from the gate state and the workflow's structure; a test
//! walks the committed ASL to keep the two in step.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::bake::MAX_CHECK_INTERVAL_SECONDS;
use crate::deployment::DeploymentState;
use crate::message::Message;
use crate::policy::Action;
use crate::state::{GateState, Watch};

/// Which of the workflow's two notifying states a run reaches notify-result through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Route followed `succeed` or `alert` to Notify.
    Notify,
    /// A task's Catch (or UnknownAction) sent the failing state's input, with `error` added, to
    /// NotifyError.
    NotifyError,
}

impl Ending {
    /// What notify-result received as `state` (or the event itself) tells the two apart: a Catch
    /// adds `error: {Error, Cause}`, the same test notify-result uses to read a caught error.
    pub fn of(state_value: &Value) -> Self {
        if state_value.get("error").is_some_and(Value::is_object) {
            Self::NotifyError
        } else {
            Self::Notify
        }
    }
}

/// The task whose error (after its retries) sent a run to NotifyError, with the states that were
/// entered for it after the last Route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedTask {
    /// No gate state yet: Accept, Start (no Route).
    Start,
    /// Wait, Poll.
    Poll,
    /// Rollback.
    Rollback,
    /// Advance.
    Advance,
    /// AwaitApproval. Answered may have been entered and failed too: the gate state cannot tell
    /// (the answer is only recorded when Answered succeeds), so this counts the wait alone.
    AwaitApproval,
}

impl FailedTask {
    /// States entered for it after the last Route (for `Start`: after Accept).
    fn states(self) -> u32 {
        match self {
            Self::Poll => 2,
            Self::Start | Self::Rollback | Self::Advance | Self::AwaitApproval => 1,
        }
    }
}

/// The path a run took through `infra/statemachine/deployment-gate.asl.json`, as far as the gate
/// state records it: how often each loop of the workflow ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPath {
    pub ending: Ending,
    /// Poll task runs that returned: the deployment polls of every stage, the bake checks (Poll
    /// reads the alarms in the BAKE phase) and the rollback's polls.
    pub polls: u32,
    /// Rollback task runs that returned (0 or 1), including one GameSparks refused (BLOCKED).
    pub rollbacks: u32,
    /// Advance task runs that returned: the stages of a wave started after the first.
    pub advances: u32,
    /// Approvals answered (AwaitApproval, then Answered returned), on the current stage.
    pub approvals: u32,
    /// On the NotifyError ending, the task that failed (None: the state does not say).
    pub failed: Option<FailedTask>,
    /// Whether the state recorded the whole path. It is not when a wave moved past stages (their
    /// polls, bake checks and approvals are not kept: each passed stage counts as its fewest
    /// possible polls and checks, no approval), when notify-result had no gate state, or when
    /// the failed task is a guess. Task retries are never in the state (see `state_transitions`).
    pub exact: bool,
}

impl RunPath {
    /// The path of the run `state` belongs to (None: notify-result could not read a gate state).
    pub fn of(state: Option<&GateState>, ending: Ending) -> Self {
        let Some(s) = state else {
            // Start failing (invalid input, an unknown game, ...) is the way a run reaches
            // NotifyError without a gate state; UnknownAction also gets there, after more states.
            return Self {
                ending,
                polls: 0,
                rollbacks: 0,
                advances: 0,
                approvals: 0,
                failed: (ending == Ending::NotifyError).then_some(FailedTask::Start),
                exact: false,
            };
        };
        let current = s
            .deployment
            .attempt
            .saturating_add(s.bake_window.as_ref().map_or(0, |w| w.checks))
            .saturating_add(s.rollback.as_ref().map_or(0, |r| r.attempt));
        let (advances, passed) = match &s.wave {
            Some(w) => (
                u32::try_from(w.index).unwrap_or(u32::MAX),
                w.stages
                    .iter()
                    .take(w.index)
                    .filter_map(|stage| stage.passed.as_ref())
                    .map(|p| fewest_polls(p.baked_seconds))
                    .fold(0u32, u32::saturating_add),
            ),
            None => (0, 0),
        };
        // The input of a failed task is the state the Route before it followed.
        let (failed, known) = match ending {
            Ending::Notify => (None, true),
            Ending::NotifyError => match s.action {
                Action::Wait => (Some(FailedTask::Poll), true),
                Action::Rollback => (Some(FailedTask::Rollback), true),
                Action::Advance => (Some(FailedTask::Advance), true),
                Action::Approve => (Some(FailedTask::AwaitApproval), false),
                // Route sends these to Notify, whose errors end in NotificationLost.
                Action::Succeed | Action::Alert => (None, false),
            },
        };
        Self {
            ending,
            polls: current.saturating_add(passed),
            rollbacks: u32::from(s.rollback.is_some()),
            advances,
            approvals: u32::from(s.approval.as_ref().is_some_and(|a| a.answer.is_some())),
            failed,
            exact: known && advances == 0,
        }
    }

    /// The states this path enters, up to and including its end state; see `state_transitions`.
    pub fn state_transitions(&self) -> u32 {
        if self.ending == Ending::NotifyError && self.failed == Some(FailedTask::Start) {
            // Accept, Start; NotifyError, Failed.
            return 1 + FailedTask::Start.states() + 2;
        }
        // Accept, Start, Route.
        let head = 3;
        let loops = self
            .polls
            .saturating_mul(3) // Wait, Poll, Route
            .saturating_add(self.rollbacks.saturating_mul(2)) // Rollback, Route
            .saturating_add(self.advances.saturating_mul(2)) // Advance, Route
            .saturating_add(self.approvals.saturating_mul(3)); // AwaitApproval, Answered, Route
        let tail = match self.ending {
            // Notify, Finish, Succeeded or Failed.
            Ending::Notify => 3,
            // The failed task's states; NotifyError, Failed.
            Ending::NotifyError => self.failed.map_or(0, FailedTask::states) + 2,
        };
        loops.saturating_add(head + tail)
    }

    /// The Lambda invocations of this path: Start, each Poll, Rollback and Advance, both
    /// functions of an approval (notify-result asks, start-deployment reads the answer), the
    /// failed task's, and notify-result's at the end. Retried invocations are not counted.
    pub fn lambda_invocations(&self) -> u32 {
        if self.ending == Ending::NotifyError && self.failed == Some(FailedTask::Start) {
            return 2;
        }
        let tasks = self
            .polls
            .saturating_add(self.rollbacks)
            .saturating_add(self.advances)
            .saturating_add(self.approvals.saturating_mul(2));
        let failed = match self.ending {
            Ending::Notify => 0,
            Ending::NotifyError => u32::from(self.failed.is_some()),
        };
        tasks.saturating_add(failed).saturating_add(2)
    }
}

/// The fewest Poll runs a wave stage that passed can have made: one deployment poll (Start never
/// returns a success), and a bake of `baked_seconds` checked at most every
/// `MAX_CHECK_INTERVAL_SECONDS` until its end.
fn fewest_polls(baked_seconds: u64) -> u32 {
    let checks = baked_seconds.div_ceil(MAX_CHECK_INTERVAL_SECONDS);
    u32::try_from(checks).unwrap_or(u32::MAX).saturating_add(1)
}

/// The Step Functions state transitions of a run that ends through Notify (Step Functions
/// Standard bills each state entered), up to and including Notify and its end state. On the path
/// the workflow (`infra/statemachine/deployment-gate.asl.json`) takes:
///
/// ```text
/// Accept -> Start -> Route                                   3
///   per Poll run:      -> Wait -> Poll -> Route              3 x polls
///   per rollback:      -> Rollback -> Route                  2 x rollbacks
///   per wave stage:    -> Advance -> Route                   2 x advances
///   per approval:      -> AwaitApproval -> Answered -> Route 3 x approvals
/// -> Notify -> Finish -> Succeeded | Failed                  3
///
/// transitions = 6 + 3 polls + 2 rollbacks + 2 advances + 3 approvals
/// polls      = deployment.attempt + bakeWindow.checks + rollback.attempt
///              (+ for each wave stage passed: 1 + its bake seconds / 300, rounded up)
/// rollbacks  = 1 when `rollback` is set; advances = wave.index;
/// approvals  = 1 when the current stage's approval was answered
/// ```
///
/// A dry run, an UNCHANGED run and one blocked at Start take 6. The run through NotifyError (a
/// task failed after its retries) is `RunPath::of(state, Ending::NotifyError)`: the head and the
/// loops as above, then the failed task's states (Wait and Poll: 2; Rollback, Advance or
/// AwaitApproval: 1), NotifyError and Failed; 4 when Start failed (Accept, Start, NotifyError,
/// Failed).
///
/// What the state does not record is not counted, so the count is a lower bound there: task
/// retries (each retry is billed as a transition), and the polls, checks and approvals of wave
/// stages already passed (each counts as its fewest possible polls and checks; `RunPath::exact`
/// says when this happened). The Notify task runs before Finish and the end state are entered;
/// they are counted because they follow it unconditionally once notify-result returns.
pub fn state_transitions(state: &GateState) -> u32 {
    RunPath::of(Some(state), Ending::Notify).state_transitions()
}

/// The Lambda invocations of a run that ends through Notify: Start, each Poll, the Rollback, each
/// Advance, two per answered approval, and Notify (`RunPath::lambda_invocations`).
pub fn lambda_invocations(state: &GateState) -> u32 {
    RunPath::of(Some(state), Ending::Notify).lambda_invocations()
}

/// Step Functions Standard workflows: $0.025 per 1,000 state transitions (us-east-1 list price).
pub const USD_PER_STATE_TRANSITION: f64 = 0.025 / 1_000.0;
/// Lambda: $0.20 per million requests (us-east-1 list price, either architecture).
pub const USD_PER_LAMBDA_REQUEST: f64 = 0.20 / 1_000_000.0;
/// Lambda on arm64 (`Architectures: [arm64]` in `infra/template.yaml`): $0.0000133334 per
/// GB-second (us-east-1 list price, first tier; x86 is $0.0000166667).
pub const USD_PER_LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
/// `MemorySize` in `infra/template.yaml`.
pub const LAMBDA_MEMORY_MB: u32 = 128;
/// A typical billed duration of one invocation. Lambda bills per 1 ms; a warm invocation against
/// the local emulator takes about 1 ms (`bench/results.json`), against AWS the GameSparks, SNS or
/// CloudWatch round trip adds tens of ms. 100 ms rounds that up; at 128 MB it is $0.0000002 per
/// invocation, as much as the request, and a hundredth of one state transition.
pub const BILLED_MS_PER_INVOCATION: u32 = 100;

pub use crate::message::RunCost;

/// The estimated cost of `state_transitions` and `lambda_invocations`, at us-east-1 list prices
/// (`USD_PER_STATE_TRANSITION`, `USD_PER_LAMBDA_REQUEST`, `USD_PER_LAMBDA_GB_SECOND` at
/// `LAMBDA_MEMORY_MB` for `BILLED_MS_PER_INVOCATION` each). An estimate: it ignores free tiers,
/// other regions' prices, retries the state does not record, and what the run's SNS message,
/// CloudWatch reads and logs (this record included) cost.
pub fn estimate(state_transitions: u32, lambda_invocations: u32) -> RunCost {
    let invocations = f64::from(lambda_invocations);
    let gb_seconds = invocations * f64::from(BILLED_MS_PER_INVOCATION) / 1_000.0
        * f64::from(LAMBDA_MEMORY_MB)
        / 1_024.0;
    let usd = f64::from(state_transitions) * USD_PER_STATE_TRANSITION
        + invocations * USD_PER_LAMBDA_REQUEST
        + gb_seconds * USD_PER_LAMBDA_GB_SECOND;
    RunCost {
        state_transitions,
        lambda_invocations,
        estimated_usd: round_to(usd, 1e6),
    }
}

/// The cost of the run `state` belongs to, ending as `ending` says (`Ending::of` reads it from
/// what notify-result received).
pub fn run_cost(state: Option<&GateState>, ending: Ending) -> RunCost {
    let path = RunPath::of(state, ending);
    estimate(path.state_transitions(), path.lambda_invocations())
}

/// The CloudWatch namespace of the gate's metrics.
pub const NAMESPACE: &str = "StageGate";
/// EMF: a directive's `Metrics` holds at most 100 definitions.
pub const MAX_METRICS: usize = 100;
/// EMF (and CloudWatch): at most 30 dimensions per dimension set.
pub const MAX_DIMENSIONS_PER_SET: usize = 30;
/// CloudWatch dimension values: 1 to 1,024 characters, ASCII, not only whitespace, no control
/// characters.
pub const MAX_DIMENSION_VALUE_CHARS: usize = 1_024;
/// ExecutionId and SnapshotId are plain properties, bounded only so the log line stays small.
const MAX_PROPERTY_CHARS: usize = 1_024;
const UNKNOWN: &str = "UNKNOWN";

/// Per game, stage and outcome (the runs of one stage), and per outcome across all stages.
const DIMENSION_SETS: [&[&str]; 2] = [&["GameName", "StageName", "Outcome"], &["Outcome"]];
/// `Runs` alone per game and outcome, in a directive of its own: a stack gates one game and the
/// namespace is the account's, so the failure alarm of one stack subtracts the intended refusals
/// of its own game only (`[Outcome]` would let another game's FROZEN runs hide this game's
/// failures). One metric per game and outcome, not seven.
const GAME_RUNS_DIMENSIONS: [&str; 2] = ["GameName", "Outcome"];

const COUNT: &str = "Count";
const SECONDS: &str = "Seconds";
const NO_UNIT: &str = "None";

/// One CloudWatch EMF record for the run `message` reports (notify-result prints it to stdout,
/// once per run, after publishing).
///
/// Members: `_aws` (`Timestamp` = `timestamp_ms`, one directive in `NAMESPACE` with the
/// dimension sets `[GameName, StageName, Outcome]` and `[Outcome]`, and one with `Runs` alone
/// by `[GameName, Outcome]`, `GAME_RUNS_DIMENSIONS`); the dimensions `GameName`
/// and `StageName` (the message's, "UNKNOWN" when missing) and `Outcome`; the metrics `Runs` (1),
/// `DeploymentSeconds` (GameSparks' start to end of the requested deployment, of the last stage
/// of a wave; omitted when GameSparks did not finish one), `DetectionLatencySeconds` (see
/// `detected_at`; omitted with `DeploymentSeconds`), `Polls` (`RunPath::polls`, bake checks
/// included), `StateTransitions`, `Rollbacks` (0 or 1) and `EstimatedCostUSD` (from `cost`); and
/// the properties `ExecutionId` and `SnapshotId` (not dimensions: one value per run would make a
/// metric per run). Every metric listed in the directive has its member, as EMF requires.
pub fn emf_record(
    message: &Message,
    state: Option<&GateState>,
    cost: &RunCost,
    timestamp_ms: i64,
) -> Value {
    // Polls and rollbacks are the same on either ending (a failed task recorded nothing).
    let path = RunPath::of(state, Ending::Notify);
    let deployment = state.map(|s| &s.deployment);
    let finished = deployment.and_then(|d| Some((d.started_at, finished_by_gamesparks(d)?)));
    let mut metrics: Vec<(&str, &str, Value)> = vec![("Runs", COUNT, json!(1))];
    if let Some((started, ended)) = finished {
        metrics.push(("DeploymentSeconds", SECONDS, seconds(started, ended)));
        if let Some(seen) = state.and_then(|s| detected_at(s, message)) {
            metrics.push(("DetectionLatencySeconds", SECONDS, seconds(ended, seen)));
        }
    }
    metrics.extend([
        ("Polls", COUNT, json!(path.polls)),
        ("StateTransitions", COUNT, json!(cost.state_transitions)),
        ("Rollbacks", COUNT, json!(path.rollbacks)),
        ("EstimatedCostUSD", NO_UNIT, number(cost.estimated_usd)),
    ]);
    // A value JSON cannot hold as a number (serde_json writes NaN as null) is left out with its
    // definition: EMF rejects a record whose listed metric is not a number.
    metrics.retain(|(_, _, value)| value.is_number());
    metrics.truncate(MAX_METRICS);

    let mut root = Map::new();
    root.insert(
        "GameName".into(),
        dimension_value(message.game_name.as_deref()).into(),
    );
    root.insert(
        "StageName".into(),
        dimension_value(message.stage_name.as_deref()).into(),
    );
    root.insert(
        "Outcome".into(),
        dimension_value(Some(message.outcome.as_str())).into(),
    );
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    for (name, _, value) in metrics {
        root.insert(name.into(), value);
    }
    root.insert(
        "ExecutionId".into(),
        property(&message.gate.execution_id).into(),
    );
    root.insert(
        "SnapshotId".into(),
        message
            .snapshot_id
            .as_deref()
            .map_or(Value::Null, |s| property(s).into()),
    );
    let dimensions: Vec<Vec<&str>> = DIMENSION_SETS
        .iter()
        .map(|set| set.iter().copied().take(MAX_DIMENSIONS_PER_SET).collect())
        .collect();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": definitions,
            }, {
                "Namespace": NAMESPACE,
                "Dimensions": [GAME_RUNS_DIMENSIONS],
                "Metrics": [{"Name": "Runs", "Unit": COUNT}],
            }],
        }),
    );
    Value::Object(root)
}

/// When GameSparks finished the deployment `w` (its last update), if it did: COMPLETED or FAILED.
/// A deployment still running when the gate gave up (TIMED_OUT) has `finishedAt` set to the
/// gate's time instead, and none that was never started has an end.
fn finished_by_gamesparks(w: &Watch) -> Option<OffsetDateTime> {
    match w.deployment_state {
        DeploymentState::Completed | DeploymentState::Failed => w.finished_at,
        _ => None,
    }
}

/// When the gate noticed that the requested deployment (of the current stage) had ended. The
/// state does not record the time of the poll that saw it, so this takes the closest time it
/// does record:
///
/// - the bake window's `startedAt`: that poll opened it (exact);
/// - else the rollback's `startedAt` (GameSparks' creation time of the rollback, which the
///   Rollback task started right after that poll): later by Route and the Rollback task;
/// - else the message's `gate.finishedAt` (notify-result's time, which Route sent straight
///   from that poll): later by Route and Notify's start.
///
/// Exact everywhere with a `Watch::detectedAt` (`Option<OffsetDateTime>`, rfc3339, serde
/// default) that poll-deployment sets to its `now` the first time a poll classifies the watched
/// deployment as terminal; this function would then read it first.
fn detected_at(state: &GateState, message: &Message) -> Option<OffsetDateTime> {
    if let Some(window) = &state.bake_window {
        return Some(window.started_at);
    }
    if let Some(rollback) = &state.rollback {
        return Some(rollback.started_at);
    }
    Some(message.gate.finished_at)
}

/// Seconds from `from` to `to`, to the millisecond; never negative (GameSparks' clock and
/// Lambda's may differ by a little).
fn seconds(from: OffsetDateTime, to: OffsetDateTime) -> Value {
    number(round_to((to - from).as_seconds_f64().max(0.0), 1e3))
}

fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn round_to(value: f64, scale: f64) -> f64 {
    (value * scale).round() / scale
}

/// A dimension value CloudWatch accepts: ASCII without control characters (anything else becomes
/// `?`, as in the SNS subject), at most `MAX_DIMENSION_VALUE_CHARS`, and "UNKNOWN" when nothing
/// but whitespace is left. Names usually pass unchanged (GameSparks allows `[a-zA-Z0-9_-]`); a
/// run whose input was rejected may carry anything.
fn dimension_value(value: Option<&str>) -> String {
    let cleaned: String = value
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c.is_ascii() { c } else { '?' })
        .take(MAX_DIMENSION_VALUE_CHARS)
        .collect();
    if cleaned.trim().is_empty() {
        UNKNOWN.to_owned()
    } else {
        cleaned
    }
}

fn property(value: &str) -> String {
    value.chars().take(MAX_PROPERTY_CHARS).collect()
}

#[cfg(test)]
mod tests;
