//! poll-deployment: look at the watched deployment (the requested one, or the rollback), classify
//! it and decide the next step.

use serde_json::Value;
use time::OffsetDateTime;

use crate::backoff;
use crate::classify::{classify, Outcome};
use crate::error::GateError;
use crate::policy::{decide, Action};
use crate::ports::StageDeployments;
use crate::state::GateState;

use super::parse_state;

pub async fn handle<D: StageDeployments>(
    deployments: &D,
    event: &Value,
    now: OffsetDateTime,
) -> Result<GateState, GateError> {
    let mut state = parse_state(event)?;
    let stage = state.stage();
    let watched = state.watched();
    let (deployment_id, deadline) = (watched.deployment_id.clone(), watched.deadline);
    let deployment = deployments
        .get_deployment(&stage, &deployment_id)
        .await
        .map_err(|e| {
            GateError::service(format!("reading deployment {deployment_id} on {stage}"), e)
        })?;

    let classification = classify(&deployment, deadline, now);
    let seen_at = match classification.outcome {
        Outcome::TimedOut => now,
        _ => deployment.last_updated.unwrap_or(now),
    };
    state.watched_mut().record(&classification, seen_at);
    let decision = decide(
        state.phase,
        &classification,
        &state.policy,
        state.previous_snapshot_id.as_deref(),
    );
    state.wait_seconds = match decision.action {
        Action::Wait => backoff::next_wait(state.watched().attempt, &deployment_id, now, deadline),
        _ => 0,
    };
    tracing::info!(
        stage = %stage,
        deployment_id = %deployment_id,
        phase = ?state.phase,
        deployment_state = %classification.state,
        outcome = classification.outcome.as_str(),
        result_code = classification.result_code.as_deref().unwrap_or("none"),
        action = ?decision.action,
        wait_seconds = state.wait_seconds,
        "deployment polled"
    );
    state.action = decision.action;
    state.reason = decision.reason;
    Ok(state)
}
