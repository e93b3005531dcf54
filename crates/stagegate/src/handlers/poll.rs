//! poll-deployment: look at the watched deployment (the requested one, or the rollback), classify
//! it and decide the next step; during a bake window, look at the alarms instead.

use serde_json::Value;

use crate::advance::{after_deployment_succeeded, after_stage_passed};
use crate::backoff;
use crate::bake::{self, BakeStep};
use crate::classify::{classify, Classification, Outcome};
use crate::clock::Clock;
use crate::deployment::ResultCode;
use crate::error::GateError;
use crate::evidence::{self, BakeEvidence, Entry, Evidence, Seen};
use crate::fields::InvalidInput;
use crate::policy::{decide, decide_aborted, decide_bake_failure, Action, Decision, Phase};
use crate::ports::{AbortRequests, Alarms, ServiceError, ServiceErrorKind, StageDeployments};
use crate::state::GateState;

/// How long after a deployment's creation a NotFound for it counts as the service's
/// read-after-write lag.
const READ_AFTER_WRITE_SECONDS: i64 = 60;

use super::parse_state;

pub async fn handle<D: StageDeployments, A: Alarms, R: AbortRequests>(
    deployments: &D,
    alarms: &A,
    aborts: &R,
    event: &Value,
    clock: &impl Clock,
) -> Result<GateState, GateError> {
    let now = clock.now();
    let mut state = parse_state(event)?;
    let mut unread = None;
    if matches!(state.phase, Phase::Deploy | Phase::Bake) && state.abort.is_none() {
        unread = super::read_abort(aborts, &mut state, clock)
            .await
            .filter(|e| e.kind.is_retryable());
    }
    if state.phase == Phase::Bake {
        if let Some(by) = super::aborted_by(&state) {
            // The stage serves the new snapshot and bakes: nothing holds it, undo it now.
            let decision = decide_aborted(
                Phase::Bake,
                &recorded(&state),
                &state.policy,
                state.previous_snapshot_id.as_deref(),
                &by,
            );
            tracing::warn!(stage = %state.stage(), %by, action = ?decision.action, "bake aborted");
            // This poll is one of the bake's looks, though it read the abort instead of the
            // alarms: the run's state transitions are counted from the looks recorded.
            if let Some(window) = state.bake_window.as_mut() {
                window.checks = window.checks.saturating_add(1);
            }
            let entry = Entry {
                at: now,
                stage_name: state.stage_name.clone(),
                evidence: Evidence::Bake {
                    checks: state.bake_window.as_ref().map_or(0, |w| w.checks),
                    failure: None,
                    aborted_by: Some(by),
                    known_good: state.previous_snapshot_id.clone(),
                },
                decided: decision.action,
                reason: decision.reason.clone(),
            };
            state.decisions.push(entry);
            state.action = decision.action;
            state.reason = decision.reason;
            state.wait_seconds = 0;
            return Ok(state);
        }
        let state = check_bake(alarms, state, clock).await?;
        return settled(state, unread);
    }
    let stage = state.stage();
    let watched = state.watched();
    let (deployment_id, snapshot_id) = (watched.deployment_id.clone(), watched.snapshot_id.clone());
    let (deadline, started_at) = (watched.deadline, watched.started_at);
    if deployment_id.is_empty() {
        return Err(InvalidInput::new(
            "deploymentId",
            "is empty: this deployment never started, there is nothing to poll",
        )
        .into());
    }
    let deployment = deployments
        .get_deployment(&stage, &deployment_id)
        .await
        .map_err(|mut e| {
            // Just after StartStageDeployment, GameSparks may not return the deployment yet:
            // read-after-write lag, not a deployment that vanished. Retried, not ERROR.
            if e.kind == ServiceErrorKind::NotFound
                && now - started_at < time::Duration::seconds(READ_AFTER_WRITE_SECONDS)
            {
                e.kind = ServiceErrorKind::Transport;
                e.message = format!(
                    "{} (the deployment was created {} s ago; retried as read-after-write lag)",
                    e.message,
                    (now - started_at).whole_seconds()
                );
            }
            GateError::service(format!("reading deployment {deployment_id} on {stage}"), e)
        })?;
    // The outcome reported is this deployment's, of this snapshot, or nothing.
    if deployment.id != deployment_id {
        return Err(GateError::service(
            format!("reading deployment {deployment_id} on {stage}"),
            ServiceError::new(
                ServiceErrorKind::Other,
                "GetStageDeployment",
                format!("GameSparks answered with deployment {}", deployment.id),
            ),
        ));
    }
    super::check_snapshot("GetStageDeployment", &stage, &deployment, &snapshot_id)?;

    let grace_end = backoff::deadline(deadline, state.policy.timeout_grace_seconds);
    let classification = classify(&deployment, deadline, grace_end, now);
    let seen_at = match classification.outcome {
        Outcome::TimedOut => now,
        _ => deployment.last_updated.unwrap_or(now),
    };
    state.watched_mut().record(&classification, seen_at);
    // A deployment that ended after its deadline did not make it in time, whatever its result:
    // the run reports it as TIMED_OUT (or ROLLED_BACK). A late rollback is still a rollback.
    if classification.late && state.phase == Phase::Deploy {
        state.deployment.outcome = Outcome::TimedOut;
    }
    let mut decision = match super::aborted_by(&state) {
        Some(by) => decide_aborted(
            state.phase,
            &classification,
            &state.policy,
            state.previous_snapshot_id.as_deref(),
            &by,
        ),
        None => decide(
            state.phase,
            &classification,
            &state.policy,
            state.previous_snapshot_id.as_deref(),
        ),
    };
    // The decision's evidence: a deployment still running is only counted (its looks change
    // nothing); one that ended, or that ends the watch, is kept with what was read.
    let seen = Seen::of(&deployment);
    if classification.outcome == Outcome::InProgress && decision.action == Action::Wait {
        state.decisions.quiet_poll(&seen, now);
    } else {
        let outcome = match state.phase {
            Phase::Deploy => state.deployment.outcome,
            _ => classification.outcome,
        };
        let entry = Entry {
            at: now,
            stage_name: state.stage_name.clone(),
            evidence: Evidence::Poll {
                phase: state.phase,
                seen,
                deadline,
                grace_end,
                aborted_by: super::aborted_by(&state),
                known_good: state.previous_snapshot_id.clone(),
                outcome,
            },
            decided: decision.action,
            reason: decision.reason.clone(),
        };
        state.decisions.push(entry);
    }
    if decision.action == Action::Succeed && state.phase == Phase::Deploy {
        let (next, wait) = after_deployment_succeeded(&mut state, now);
        if state.phase == Phase::Bake {
            tracing::info!(stage = %stage, deployment_id = %deployment_id, wait_seconds = wait, "bake window opened");
            state.action = next.action;
            state.reason = next.reason;
            state.wait_seconds = wait;
            return Ok(state);
        }
        decision = next;
    }
    state.wait_seconds = match decision.action {
        // Past the deadline the waits run up to the grace end instead.
        Action::Wait => {
            let horizon = if now < deadline { deadline } else { grace_end };
            backoff::next_wait(state.watched().attempt, &deployment_id, now, horizon)
        }
        _ => 0,
    };
    tracing::info!(
        stage = %stage,
        deployment_id = %deployment_id,
        phase = ?state.phase,
        deployment_state = %classification.state,
        outcome = classification.outcome.as_str(),
        result_code = classification
            .result_code
            .as_ref()
            .map_or("none", ResultCode::as_str),
        action = ?decision.action,
        wait_seconds = state.wait_seconds,
        "deployment polled"
    );
    state.action = decision.action;
    state.reason = decision.reason;
    settled(state, unread)
}

/// A poll that would end the run, or advance it, while a transient failure hid the run's abort
/// requests is retried instead: what it watched has ended, so waiting costs nothing, and an abort
/// written before it must not be passed over (simulator seeds 61816, 185554: it ended SUCCEEDED,
/// or FAILED under an alert policy, past an abort that would have rolled the stage back). Waiting
/// and rolling back go on: a running deployment stays watched, a rollback undoes anyway.
fn settled(state: GateState, unread: Option<ServiceError>) -> Result<GateState, GateError> {
    match unread {
        Some(e) if !matches!(state.action, Action::Wait | Action::Rollback) => {
            let next = match state.action {
                Action::Advance => "starting the next stage",
                _ => "ending the run",
            };
            Err(GateError::service(
                format!(
                    "reading the abort requests of {} before {next}",
                    state.stage()
                ),
                e,
            ))
        }
        _ => Ok(state),
    }
}

/// The deployment as the last poll classified it (a bake only runs after it succeeded).
fn recorded(state: &GateState) -> Classification {
    let d = &state.deployment;
    Classification {
        outcome: d.outcome,
        state: d.deployment_state.clone(),
        result_code: d.result_code.clone(),
        message: d.message.clone(),
        late: false,
    }
}

/// One look at the bake alarms.
async fn check_bake<A: Alarms>(
    alarms: &A,
    mut state: GateState,
    clock: &impl Clock,
) -> Result<GateState, GateError> {
    let now = clock.now();
    let stage = state.stage();
    let (Some(spec), Some(mut window)) = (state.bake.clone(), state.bake_window.take()) else {
        return Err(InvalidInput::new("bakeWindow", "must be present when phase is BAKE").into());
    };
    // CloudWatch's timestamps are wall-clock times; put them on the gate's timeline (they differ
    // only on the local stack's accelerated clock).
    let reading = alarms
        .describe_alarms(&spec.alarm_names)
        .await
        .map(|found| {
            found
                .into_iter()
                .map(|mut a| {
                    a.updated_at = a.updated_at.map(|t| clock.on_this_clock(t));
                    a
                })
                .collect()
        })
        .map_err(|e| e.to_string());
    let step = bake::check(&spec, &mut window, reading, now);
    let checks = window.checks;
    let quiet: Vec<String> = window.readings.iter().map(|r| r.state.clone()).collect();
    state.bake_window = Some(window);
    let (decision, wait) = match &step {
        BakeStep::Continue(wait) => (
            Decision {
                action: Action::Wait,
                reason: "baking: the alarms are quiet so far".into(),
            },
            *wait,
        ),
        BakeStep::Passed => (after_stage_passed(&mut state, now), 0),
        BakeStep::Failed(_) => (
            decide_bake_failure(&state.policy, state.previous_snapshot_id.as_deref()),
            0,
        ),
    };
    if let BakeStep::Failed(f) = &step {
        tracing::warn!(
            stage = %stage,
            alarm = f.alarm.map_or("none", |i| spec.name(i)),
            alarm_state = f.alarm_state.as_deref().unwrap_or("unreadable"),
            reason = %f.reason,
            action = ?decision.action,
            "bake failed"
        );
    } else {
        tracing::info!(stage = %stage, action = ?decision.action, wait_seconds = wait, "bake alarms checked");
    }
    match &step {
        BakeStep::Continue(_) => {
            let states: Vec<&str> = quiet.iter().map(String::as_str).collect();
            state.decisions.quiet_bake_check(&states, now);
        }
        BakeStep::Passed | BakeStep::Failed(_) => {
            let failure = match &step {
                BakeStep::Failed(f) => Some(BakeEvidence {
                    alarm: f.alarm,
                    alarm_state: f.alarm_state.clone(),
                    reason: evidence::cut(&f.reason),
                    failing: u32::try_from(f.failing.len()).unwrap_or(u32::MAX),
                }),
                _ => None,
            };
            let entry = Entry {
                at: now,
                stage_name: stage.stage_name.clone(),
                evidence: Evidence::Bake {
                    checks,
                    failure,
                    aborted_by: None,
                    known_good: state.previous_snapshot_id.clone(),
                },
                decided: decision.action,
                reason: decision.reason.clone(),
            };
            state.decisions.push(entry);
        }
    }
    state.action = decision.action;
    state.reason = decision.reason;
    state.wait_seconds = wait;
    Ok(state)
}
