//! rollback-deployment: redeploy the last known-good snapshot after the requested deployment
//! failed or timed out.

use serde_json::Value;

use crate::backoff;
use crate::classify::Outcome;
use crate::clock::Clock;
use crate::deployment::DeploymentState;
use crate::error::GateError;
use crate::fields::InvalidInput;
use crate::policy::{Action, Phase};
use crate::ports::{ServiceErrorKind, StageDeployments};
use crate::state::{GateState, Watch};
use crate::token::{client_token, Purpose};

use super::parse_state;

pub async fn handle<D: StageDeployments>(
    deployments: &D,
    event: &Value,
    clock: &impl Clock,
) -> Result<GateState, GateError> {
    let mut state = parse_state(event)?;
    // Refusing anything but the core's own rollback decision keeps a routing mistake in the
    // workflow from redeploying an old snapshot over a healthy stage.
    if !matches!(state.phase, Phase::Deploy | Phase::Bake) || state.rollback.is_some() {
        return Err(InvalidInput::new("phase", "a rollback is never rolled back again").into());
    }
    if state.action != Action::Rollback {
        return Err(InvalidInput::new(
            "action",
            format!(
                "must be \"rollback\" (decided by poll-deployment), got {:?}",
                state.action
            ),
        )
        .into());
    }
    let Some(target) = state.previous_snapshot_id.clone() else {
        return Err(InvalidInput::new(
            "previousSnapshotId",
            "is null: the stage has no known-good snapshot",
        )
        .into());
    };
    let stage = state.stage();
    let failed_id = state.deployment.deployment_id.clone();
    let token = client_token(&super::start::token_key(&state), Purpose::Rollback);
    let timeout = state.policy.timeout_seconds;

    let started = deployments.start_deployment(&stage, &target, &token).await;
    // As for the deployment itself, the rollback's timeout runs from when it exists.
    let now = clock.now();
    let mut watch = Watch {
        deployment_id: String::new(),
        snapshot_id: target.clone(),
        started_at: now,
        deadline: backoff::deadline(now, timeout),
        attempt: 0,
        deployment_state: DeploymentState::NotStarted,
        outcome: Outcome::InProgress,
        result_code: None,
        message: None,
        finished_at: None,
        rollback_of: Some(failed_id.clone()),
    };
    match started {
        Ok(started) => {
            super::check_snapshot("StartStageDeployment", &stage, &started, &target)?;
            if let Some(created) = started.created.filter(|created| *created <= now) {
                watch.started_at = created;
                watch.deadline = backoff::deadline(created, timeout);
            }
            watch.deployment_state = started.state;
            watch.deployment_id = started.id;
            state.wait_seconds = backoff::next_wait(0, &watch.deployment_id, now, watch.deadline);
            state.action = Action::Wait;
            let failure = state.bake_window.as_ref().and_then(|w| w.failure.as_ref());
            let why = match (failure, &state.bake) {
                (Some(f), Some(spec)) => match f.alarm {
                    Some(alarm) => {
                        format!("alarm {} fired during its bake window", spec.name(alarm))
                    }
                    None => "its bake alarms could not be read".to_owned(),
                },
                (Some(_), None) => "its bake window failed".to_owned(),
                (None, _) => format!("ended {}", state.deployment.outcome.as_str()),
            };
            state.reason = format!("rolling back to {target} after deployment {failed_id} {why}");
        }
        // Typically the timed-out deployment still holds the stage. Nothing more the gate can do
        // but say so; the failure is reported, not retried into a loop.
        Err(e) if e.kind == ServiceErrorKind::Conflict => {
            watch.outcome = Outcome::Blocked;
            watch.message = Some(format!("GameSparks refused the rollback: {}", e.message));
            watch.finished_at = Some(now);
            state.wait_seconds = 0;
            state.action = Action::Alert;
            state.reason =
                "the rollback could not start while another deployment holds the stage".into();
        }
        Err(e) => {
            return Err(GateError::service(
                format!("rolling back {stage} to {target}"),
                e,
            ))
        }
    }
    tracing::info!(
        stage = %stage,
        rollback_of = %failed_id,
        snapshot_id = %target,
        deployment_id = %watch.deployment_id,
        outcome = watch.outcome.as_str(),
        "rollback started"
    );
    state.rollback = Some(watch);
    state.phase = Phase::Rollback;
    Ok(state)
}
