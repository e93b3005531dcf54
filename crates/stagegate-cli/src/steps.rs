//! What an execution's history says, reduced to what the operator commands and `stagegate
//! status` ask of it: the approval a run waits for, how a given wait ended, the newest gate state
//! (is the run rolling back, what did "latest" resolve to), how the execution failed.
//!
//! A history may hold 25,000 events and the answers are all near its end, so it is read newest
//! first and only as far as a question needs (`history::recent_steps` with one of the `enough`
//! predicates here). Everything else is a pure function of the steps read, in chronological
//! order, tested with fixtures of the real event shapes without the SDK's I/O.

use aws_sdk_sfn::types::{HistoryEvent, HistoryEventType};
use serde_json::Value;

/// The state that waits for the answer, and a history event reduced: the core's, shared with
/// the answer function, which finds the pending wait the same way.
pub use stagegate::approval::wait::{Step, AWAIT_APPROVAL};
/// The state that redeploys the last known-good snapshot.
pub const ROLLBACK: &str = "Rollback";
/// The states a run is in once its outcome is decided: nothing it reads changes it any more.
pub const ENDING: [&str; 6] = [
    "Notify",
    "NotifyError",
    "Finish",
    "Succeeded",
    "Failed",
    "NotificationLost",
];

/// An approval the run waits for: its task token, the stage it is about, and when it times out
/// (`approval.expiresAt` of the request, RFC 3339, as the gate wrote it; `stagegate status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub token: String,
    pub stage_name: String,
    pub snapshot_id: String,
    pub expires_at: Option<String>,
}

pub fn step(event: &HistoryEvent) -> Step {
    if let Some(d) = event.state_entered_event_details() {
        return Step::Entered {
            name: d.name().unwrap_or_default().to_owned(),
            input: d.input().unwrap_or_default().to_owned(),
        };
    }
    if let Some(d) = event.state_exited_event_details() {
        return Step::Exited {
            name: d.name().unwrap_or_default().to_owned(),
            output: d.output().unwrap_or_default().to_owned(),
        };
    }
    if event.task_timed_out_event_details().is_some() {
        return Step::TaskTimedOut;
    }
    if let Some(d) = event.task_failed_event_details() {
        return Step::TaskFailed(d.error().unwrap_or_default().to_owned());
    }
    if let Some(d) = event.execution_failed_event_details() {
        return Step::ExecutionFailed(d.error().unwrap_or_default().to_owned());
    }
    match (event.r#type(), event.task_scheduled_event_details()) {
        (Some(HistoryEventType::TaskScheduled), Some(d)) => {
            Step::Scheduled(d.parameters().unwrap_or_default().to_owned())
        }
        _ => Step::Other,
    }
}

use stagegate::approval::wait::gate_state;

/// The task token of a scheduled `AwaitApproval` task's parameters.
fn token_of(parameters: &str) -> Option<String> {
    let p: Value = serde_json::from_str(parameters).ok()?;
    p["Payload"]["taskToken"].as_str().map(str::to_owned)
}

/// Enough read for the newest gate state, the pending approval and whether the run rolls back:
/// a state entered with a gate state as its input. While a run waits for approval that is
/// `AwaitApproval` itself, so the wait's scheduled task (newer) has been read too.
pub fn has_gate_state(steps: &[Step]) -> bool {
    stagegate::approval::wait::has_gate_state(steps)
}

/// Enough read to say how the wait of `token` ended: its scheduled task (all after it is newer).
pub fn has_wait_of(token: &str) -> impl Fn(&[Step]) -> bool + '_ {
    move |steps| {
        steps
            .iter()
            .any(|s| matches!(s, Step::Scheduled(p) if token_of(p).as_deref() == Some(token)))
    }
}

/// The approval still waiting for an answer: the last `AwaitApproval` task scheduled and not
/// exited since. `steps` in chronological order.
pub fn pending_approval(steps: &[Step]) -> Option<Pending> {
    stagegate::approval::wait::pending_wait(steps).map(|wait| {
        let request = &wait.request;
        Pending {
            stage_name: request["stageName"].as_str().unwrap_or("?").to_owned(),
            snapshot_id: request["snapshotId"].as_str().unwrap_or("?").to_owned(),
            expires_at: request["approval"]["expiresAt"].as_str().map(str::to_owned),
            token: wait.token,
        }
    })
}

/// The newest state entered, and the newest gate state (the input of the newest state entered
/// with one). `steps` in chronological order.
pub fn newest(steps: &[Step]) -> (Option<&str>, Option<Value>) {
    let mut entered = steps.iter().rev().filter_map(|s| match s {
        Step::Entered { name, input } => Some((name.as_str(), input.as_str())),
        _ => None,
    });
    let name = entered.clone().next().map(|(name, _)| name);
    let state = entered.find_map(|(_, input)| gate_state(input));
    (name, state)
}

/// What "latest" resolved to, once the run had a gate state: its `snapshotId`.
pub fn resolved_snapshot(steps: &[Step]) -> Option<String> {
    let (_, state) = newest(steps);
    state?["snapshotId"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The error the execution failed with, if the history says.
pub fn execution_error(steps: &[Step]) -> Option<String> {
    steps.iter().rev().find_map(|s| match s {
        Step::ExecutionFailed(error) if !error.is_empty() => Some(error.clone()),
        _ => None,
    })
}

/// How one approval wait ended, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitFate {
    /// Someone answered (`approvalAnswer` as the wait put it into the state).
    Answered {
        decision: String,
        by: Option<String>,
        reason: Option<String>,
    },
    /// The wait's own timeout ended it: the run ends APPROVAL_TIMED_OUT.
    TimedOut,
    /// The wait's task failed (e.g. the request could not be published): the run ends ERROR.
    Failed(String),
    /// Scheduled, and not over as far as the history shows.
    Waiting,
    /// The steps read do not show a wait with that token.
    Unknown,
}

/// How the `AwaitApproval` wait whose task token is `token` ended. `steps` chronological.
pub fn wait_fate(steps: &[Step], token: &str) -> WaitFate {
    let Some(start) = steps
        .iter()
        .position(|s| matches!(s, Step::Scheduled(p) if token_of(p).as_deref() == Some(token)))
    else {
        return WaitFate::Unknown;
    };
    for s in &steps[start + 1..] {
        match s {
            Step::TaskTimedOut => return WaitFate::TimedOut,
            Step::TaskFailed(error) => return WaitFate::Failed(error.clone()),
            Step::Exited { name, output } if name == AWAIT_APPROVAL => {
                let state: Value = serde_json::from_str(output).unwrap_or_default();
                let answer = &state["approvalAnswer"];
                let text = |key: &str| answer[key].as_str().map(str::to_owned);
                return match (text("decision"), text("Error")) {
                    (Some(decision), _) => WaitFate::Answered {
                        decision,
                        by: text("by"),
                        reason: text("reason"),
                    },
                    (None, Some(e)) if e == "States.Timeout" => WaitFate::TimedOut,
                    (None, Some(e)) => WaitFate::Failed(e),
                    (None, None) => WaitFate::Failed("an answer nobody can read".into()),
                };
            }
            _ => {}
        }
    }
    WaitFate::Waiting
}

#[cfg(test)]
pub(crate) mod tests;
