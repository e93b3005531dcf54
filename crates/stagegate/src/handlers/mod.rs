//! The four gate functions, generic over the ports. `functions/*/src/main.rs` wires each to the
//! AWS adapters; tests drive them with `fakes`.

pub mod notify;
pub mod poll;
pub mod rollback;
pub mod start;

use serde_json::Value;

use crate::classify::Outcome;
use crate::deployment::Deployment;
use crate::error::GateError;
use crate::fields::{self, InvalidInput};
use crate::policy::Phase;
use crate::ports::{ServiceError, ServiceErrorKind, StageRef};
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
