//! start-deployment: validate the input, resolve the snapshot and the rollback target, start the
//! deployment idempotently.

use serde_json::Value;

use crate::backoff;
use crate::classify::Outcome;
use crate::clock::Clock;
use crate::error::GateError;
use crate::history::{last_known_good, latest_snapshot};
use crate::input::{parse_start_event, SnapshotChoice, StartEvent};
use crate::paging::collect_all;
use crate::policy::{Action, Phase};
use crate::ports::{ServiceError, ServiceErrorKind, StageDeployments};
use crate::state::{GateState, Watch};
use crate::token::{client_token, Purpose};

/// `request_id` names the run when there is no Step Functions context (a direct invoke), so the
/// ClientToken is still stable across Lambda's own retries of that invocation.
pub async fn handle<D: StageDeployments>(
    deployments: &D,
    event: &Value,
    request_id: &str,
    clock: &impl Clock,
) -> Result<GateState, GateError> {
    let now = clock.now();
    let StartEvent { request, execution } = parse_start_event(event)?;
    let stage = request.stage;
    let execution_id = execution
        .as_ref()
        .map_or_else(|| format!("lambda:{request_id}"), |e| e.id.clone());
    let execution_started_at = execution
        .and_then(|e| e.start_time)
        .map_or(now, |t| clock.on_this_clock(t));

    let snapshot_id = match &request.snapshot {
        SnapshotChoice::Id(id) => id.clone(),
        SnapshotChoice::Latest => {
            let game = stage.game_name.as_str();
            let snapshots = collect_all(|token| deployments.list_snapshots(game, token))
                .await
                .map_err(|e| {
                    GateError::service(format!("resolving \"latest\" for game {game}"), e)
                })?;
            match latest_snapshot(&snapshots) {
                Some(snapshot) => snapshot.id.clone(),
                None => {
                    return Err(GateError::service(
                        format!("resolving \"latest\" for game {game}"),
                        ServiceError::new(
                            ServiceErrorKind::NotFound,
                            "ListSnapshots",
                            "the game has no snapshots",
                        ),
                    ))
                }
            }
        }
    };

    let history = collect_all(|token| deployments.list_deployments(&stage, token))
        .await
        .map_err(|e| GateError::service(format!("reading the deployment history of {stage}"), e))?;
    let previous_snapshot_id =
        last_known_good(&history, &snapshot_id).and_then(|d| d.snapshot_id.clone());

    let token = client_token(&execution_id, Purpose::Deploy);
    let started = deployments
        .start_deployment(&stage, &snapshot_id, &token)
        .await
        .map_err(|e| GateError::service(format!("starting {snapshot_id} on {stage}"), e))?;

    // The timeout runs from when the deployment exists, not from when this task began: listing
    // the history under throttling can take a while, and must not eat the deployment's budget.
    // A retried start gets GameSparks' original creation time back, so its deadline stays put.
    let after = clock.now();
    let started_at = started
        .created
        .filter(|created| *created <= after)
        .unwrap_or(after);
    let deadline = backoff::deadline(started_at, request.policy.timeout_seconds);
    let wait_seconds = backoff::next_wait(0, &started.id, after, deadline);
    tracing::info!(
        stage = %stage,
        snapshot_id = %snapshot_id,
        deployment_id = %started.id,
        previous_snapshot_id = previous_snapshot_id.as_deref().unwrap_or("none"),
        wait_seconds,
        "deployment started"
    );
    Ok(GateState {
        game_name: stage.game_name,
        stage_name: stage.stage_name,
        execution_id,
        execution_started_at,
        requested_snapshot_id: request.snapshot.as_str().to_owned(),
        previous_snapshot_id,
        policy: request.policy,
        deployment: Watch {
            deployment_id: started.id,
            snapshot_id,
            started_at,
            deadline,
            attempt: 0,
            deployment_state: started.state.as_str().to_owned(),
            outcome: Outcome::InProgress,
            result_code: None,
            message: None,
            finished_at: None,
            rollback_of: None,
        },
        rollback: None,
        phase: Phase::Deploy,
        action: Action::Wait,
        reason: "deployment started".into(),
        wait_seconds,
    })
}
