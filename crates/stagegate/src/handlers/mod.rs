//! The gate's functions (the four of the workflow, and the answer to an approval), generic over
//! the ports. `functions/*/src/main.rs` wires each to the
//! AWS adapters; tests drive them with `fakes`.

pub mod answer;
pub mod fleet;
pub mod notify;
pub mod poll;
pub mod recording;
pub mod rollback;
pub mod start;
mod verify_answer;

use serde_json::Value;

use crate::approval::AbortRequest;
use crate::classify::Outcome;
use crate::clock::Clock;
use crate::deployment::Deployment;
use crate::error::GateError;
use crate::fields::{self, InvalidInput};
use crate::policy::Phase;
use crate::ports::{AbortRequests, ServiceError, ServiceErrorKind, StageRef};
use crate::state::{GateState, Watch};

/// Parses the gate state a previous task returned, re-checking what reaches GameSparks: the state
/// may also come from a hand-written `cargo lambda invoke` file.
pub fn parse_state(event: &Value) -> Result<GateState, InvalidInput> {
    if !event.is_object() {
        return Err(InvalidInput::new(
            "(input)",
            "must be the gate state object returned by start-deployment",
        ));
    }
    let state: GateState = crate::input::from_value(event, "").map_err(|e| {
        // serde's flatten hides the path of the requested deployment's fields (they sit at the
        // top level); reading them on their own recovers the field name.
        if e.field == "(input)" {
            crate::input::from_value::<Watch>(event, "")
                .err()
                .unwrap_or(e)
        } else {
            e
        }
    })?;
    fields::resource_name("gameName", &state.game_name)?;
    fields::resource_name("stageName", &state.stage_name)?;
    // A deployment the gate never started (a dry run, one blocked before it could start, or an
    // unchanged "latest") has no id; it is only ever reported, never polled or rolled back.
    let never_started = state.dry_run
        || state.phase == Phase::Approval
        || matches!(
            state.deployment.outcome,
            Outcome::Blocked | Outcome::Unchanged
        );
    if !(never_started && state.deployment.deployment_id.is_empty()) {
        fields::deployment_id("deploymentId", &state.deployment.deployment_id)?;
    }
    if state.phase == Phase::Bake && (state.bake.is_none() || state.bake_window.is_none()) {
        return Err(InvalidInput::new(
            "bakeWindow",
            "bake and bakeWindow must be present when phase is BAKE",
        ));
    }
    match (state.phase, &state.rollback) {
        (Phase::Rollback, None) => Err(InvalidInput::new(
            "rollback",
            "must be present when phase is ROLLBACK",
        )),
        (Phase::Rollback, Some(r)) if r.deployment_id.is_empty() => Ok(state),
        (Phase::Rollback, Some(r)) => {
            fields::deployment_id("rollback.deploymentId", &r.deployment_id)?;
            Ok(state)
        }
        (Phase::Approval, _) if state.approval.is_none() => Err(InvalidInput::new(
            "approval",
            "must be present when phase is APPROVAL",
        )),
        (Phase::Approval | Phase::Deploy | Phase::Bake, _) => Ok(state),
    }
}

/// How far before the run's start an abort request's `at` may lie and still be this run's: the
/// parameter is named by the run (execution and start), so an older one can only be a clock
/// that runs behind on the operator's machine.
const ABORT_CLOCK_SKEW_SECONDS: i64 = 300;

/// Reads whether someone asked to abort this run (`stagegate abort` writes one parameter per
/// run: `approval::abort_parameter_name(run_id)`). The abort channel failing must not stop a gate
/// that is watching a deployment (that would leave it unwatched): the failure is kept in the
/// state, the run goes on, and its message says aborts were not seen. A request that cannot be
/// read, or that was written before the run began, is not this run's abort: it is noted the same
/// way, never acted on (an old or garbled value once aborted a later run with the same name).
///
/// Returns the read's error, if it failed: a poll about to end the run successfully (or advance
/// it) must not do so past an abort it could not see (simulator seed 61816).
pub(crate) async fn read_abort<R: AbortRequests>(
    aborts: &R,
    state: &mut GateState,
    clock: &impl Clock,
) -> Option<ServiceError> {
    match aborts.abort_request(state.run()).await {
        Ok(None) => {}
        Ok(Some(text)) => match AbortRequest::parse(&text, "abortRequest") {
            Ok(request)
                if clock.on_this_clock(request.at)
                    + time::Duration::seconds(ABORT_CLOCK_SKEW_SECONDS)
                    < state.execution_started_at =>
            {
                tracing::warn!(stage = %state.stage(), at = %crate::timefmt::rfc3339(request.at), "an abort request from before this run began; ignored");
                state.abort_unreadable = Some(format!(
                    "an abort request written at {}, before this run began, was ignored",
                    crate::timefmt::rfc3339(request.at)
                ));
            }
            Ok(request) => {
                tracing::warn!(stage = %state.stage(), by = request.by.as_deref().unwrap_or("unnamed"), reason = %request.reason, "abort requested");
                state.abort = Some(request);
            }
            Err(e) => {
                tracing::warn!(stage = %state.stage(), error = %e, "an abort request that cannot be read; not acted on");
                state.abort_unreadable = Some(format!(
                    "an abort request could not be read and was not acted on: {e}"
                ));
            }
        },
        Err(e) => {
            tracing::warn!(stage = %state.stage(), error = %e, "abort requests unreadable; the gate goes on");
            state.abort_unreadable = Some(e.to_string());
            return Some(e);
        }
    }
    None
}

/// Who aborted the run and why, once an abort request was read: for the reasons and messages.
pub(crate) fn aborted_by(state: &GateState) -> Option<String> {
    state.abort.as_ref().map(|a| {
        let by = a.by.as_deref().unwrap_or("an unnamed caller");
        format!("{by} ({})", a.reason.trim_end_matches('.'))
    })
}

/// A deployment GameSparks answered with must be of the snapshot the gate watches.
fn check_snapshot(
    operation: &str,
    stage: &StageRef,
    deployment: &Deployment,
    expected: &str,
) -> Result<(), GateError> {
    if deployment.snapshot_id.as_deref() == Some(expected) {
        return Ok(());
    }
    Err(GateError::service(
        format!("checking deployment {} on {stage}", deployment.id),
        ServiceError::new(
            ServiceErrorKind::Other,
            operation,
            format!(
                "GameSparks answered with deployment {} of snapshot {}, but the gate watches {expected}; refusing to report one as the other",
                deployment.id,
                deployment.snapshot_id.as_deref().unwrap_or("(none)"),
            ),
        ),
    ))
}

#[cfg(test)]
mod tests;
