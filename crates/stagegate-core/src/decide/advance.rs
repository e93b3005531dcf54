//! What follows a stage's deployment: its bake window, then the next stage of a promotion wave
//! or the end of the run. Apart from `wave`, which holds the wave's types, because these steps
//! change the gate state and the state holds a wave.

use time::OffsetDateTime;

use crate::bake;
use crate::policy::{Action, Decision, Phase};
use crate::state::GateState;
use crate::wave::PassedStage;

/// The record of the current stage passing its gate at `now`.
pub fn passed_stage(state: &GateState, now: OffsetDateTime) -> PassedStage {
    PassedStage {
        deployment_id: state.deployment.deployment_id.clone(),
        snapshot_id: state.deployment.snapshot_id.clone(),
        previous_snapshot_id: state.previous_snapshot_id.clone(),
        passed_at: state
            .bake_window
            .as_ref()
            .and_then(|w| w.passed_at)
            .or(state.deployment.finished_at)
            .unwrap_or(now),
        baked_seconds: state
            .bake_window
            .as_ref()
            .and(state.bake.as_ref())
            .map_or(0, |b| b.seconds),
    }
}

/// What follows a deployment seen to succeed at `now`: its bake window, when the stage has one
/// (the state moves to phase BAKE; the wait is until the first check), else what follows a passed
/// stage.
pub fn after_deployment_succeeded(state: &mut GateState, now: OffsetDateTime) -> (Decision, u64) {
    let Some(spec) = &state.bake else {
        return (after_stage_passed(state, now), 0);
    };
    let (window, wait) = bake::open(spec, now);
    let decision = Decision {
        action: Action::Wait,
        reason: format!(
            "deployed; baking for {} s watching {} alarm(s)",
            spec.seconds,
            spec.alarm_names.len()
        ),
    };
    state.bake_window = Some(window);
    state.phase = Phase::Bake;
    (decision, wait)
}

/// What follows once the current stage is deployed and (if asked) baked: the next stage of the
/// wave, or the end of the run. A wave records the stage as passed.
pub fn after_stage_passed(state: &mut GateState, now: OffsetDateTime) -> Decision {
    let passed = passed_stage(state, now);
    if let Some(w) = state.wave.as_mut() {
        if let Some(current) = w.stages.get_mut(w.index) {
            current.passed = Some(passed);
        }
    }
    match state.next_stage() {
        Some(next) => Decision {
            action: Action::Advance,
            reason: format!(
                "{} passed its gate; promoting to {} next",
                state.stage_name, next.stage_name
            ),
        },
        None if state.wave.is_some() => Decision {
            action: Action::Succeed,
            reason: "every stage of the wave passed its gate".into(),
        },
        None if state.bake_window.is_some() => Decision {
            action: Action::Succeed,
            reason: "the requested snapshot is deployed and passed its bake window".into(),
        },
        None => Decision {
            action: Action::Succeed,
            reason: "the requested snapshot is deployed".into(),
        },
    }
}
