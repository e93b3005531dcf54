//! The routes past the deployment itself: bake windows, dry runs and promotion waves.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::{error_type, finish, notified, rolled_back, stage, EXEC, S1, S2, S4, T0};
use crate::bake::{self, ALARM, INSUFFICIENT_DATA, OK};
use crate::classify::Outcome;
use crate::clock::FixedClock;
use crate::deployment::{DeploymentState, ResultCode};
use crate::error::types;
use crate::fakes::{FakeAlarms, FakeGameSparks, START};
use crate::handlers::{poll, start};
use crate::policy::{Action, Phase};
use crate::ports::{ServiceError, ServiceErrorKind};
use crate::state::GateState;
use crate::verdict::Verdict;
use crate::wave::StageStatus;

pub(super) const ERRORS: &str = "space-raiders-prod-errors";
pub(super) const LATENCY: &str = "space-raiders-prod-latency";

pub(super) fn minutes(m: i64) -> OffsetDateTime {
    T0 + Duration::minutes(m)
}

pub(super) fn with_input(extra: Value) -> Value {
    let mut input = json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": S4});
    if let (Some(obj), Some(more)) = (input.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            obj.insert(k.clone(), v.clone());
        }
    }
    if input.get("stages").is_some() {
        input.as_object_mut().map(|o| o.remove("stageName"));
    }
    json!({"input": input, "execution": {"Id": EXEC, "StartTime": "2026-03-01T11:59:58Z"}})
}

pub(super) fn bake(seconds: u64) -> Value {
    json!({"seconds": seconds, "alarmNames": [LATENCY, ERRORS], "checkIntervalSeconds": 60})
}

pub(super) fn quiet_alarms() -> FakeAlarms {
    FakeAlarms::new().with(LATENCY, OK, T0).with(ERRORS, OK, T0)
}

pub(super) async fn start_with(
    gs: &FakeGameSparks,
    alarms: &FakeAlarms,
    event: &Value,
) -> GateState {
    match start::handle(gs, alarms, event, "r", &FixedClock(T0)).await {
        Ok(s) => s,
        Err(e) => panic!("start failed: {e}"),
    }
}

pub(super) async fn poll_at(
    gs: &FakeGameSparks,
    alarms: &FakeAlarms,
    state: &GateState,
    now: OffsetDateTime,
) -> GateState {
    let event = serde_json::to_value(state).unwrap_or_default();
    match poll::handle(
        gs,
        alarms,
        &crate::fakes::FakeAbortRequests::new(),
        &event,
        &FixedClock(now),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => panic!("poll failed: {e}"),
    }
}

async fn advanced(gs: &FakeGameSparks, alarms: &FakeAlarms, state: &GateState) -> GateState {
    gs.set_now(minutes(20));
    let event = json!({"advance": state});
    match start::handle(gs, alarms, &event, "r", &FixedClock(minutes(20))).await {
        Ok(s) => s,
        Err(e) => panic!("advance failed: {e}"),
    }
}

fn succeed(gs: &FakeGameSparks, state: &GateState) {
    complete(gs, &state.deployment.deployment_id);
}

/// GameSparks finishes a deployment (the requested one or a rollback) with SUCCESS.
pub(super) fn complete(gs: &FakeGameSparks, deployment_id: &str) {
    finish(
        gs,
        deployment_id,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "ok",
    );
}

/// Started and deployed; the poll at minute 4 opens the bake window.
pub(super) async fn baking(gs: &FakeGameSparks, alarms: &FakeAlarms, extra: Value) -> GateState {
    let s = start_with(gs, alarms, &with_input(extra)).await;
    succeed(gs, &s);
    let s = poll_at(gs, alarms, &s, minutes(4)).await;
    assert_eq!(
        (s.phase, s.action, s.wait_seconds),
        (Phase::Bake, Action::Wait, 60)
    );
    assert_eq!(s.deployment.outcome, Outcome::Succeeded);
    s
}

// ---- bake ----

#[tokio::test]
async fn a_quiet_bake_passes_at_the_end_of_the_window() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let mut s = baking(&gs, &alarms, json!({"bake": bake(300)})).await;
    let calls_before = alarms.calls();
    let window = s.bake_window.clone().unwrap_or_else(|| panic!("no window"));
    assert_eq!(window.ends_at, minutes(9));
    for m in 5..9 {
        alarms.set(LATENCY, INSUFFICIENT_DATA, minutes(m));
        s = poll_at(&gs, &alarms, &s, minutes(m)).await;
        assert_eq!(
            (s.phase, s.action),
            (Phase::Bake, Action::Wait),
            "minute {m}"
        );
    }
    s = poll_at(&gs, &alarms, &s, minutes(9)).await;
    assert_eq!(s.action, Action::Succeed);
    assert_eq!(alarms.calls() - calls_before, 5);
    // Baking reads alarms only: GameSparks is not asked again.
    let (out, body, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(9)).await;
    assert_eq!(out.outcome, Verdict::Succeeded);
    assert!(out.succeeded);
    assert!(
        out.cause.contains("passed a 300 s bake window"),
        "{}",
        out.cause
    );
    let window = body
        .bake_window
        .as_ref()
        .unwrap_or_else(|| panic!("no bake window in {body:?}"));
    assert_eq!(window.checks, 5);
    assert!(window.passed_at.is_some());
}

#[tokio::test]
async fn an_alarm_during_the_bake_rolls_back_and_is_named() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = baking(&gs, &alarms, json!({"bake": bake(600)})).await;
    let s = poll_at(&gs, &alarms, &s, minutes(5)).await;
    assert_eq!(s.action, Action::Wait);
    alarms.set(ERRORS, ALARM, minutes(5) + Duration::seconds(30));
    let s = poll_at(&gs, &alarms, &s, minutes(6)).await;
    assert_eq!(s.action, Action::Rollback, "{}", s.reason);
    assert!(
        s.reason.contains("onBakeFailure is rollback"),
        "{}",
        s.reason
    );
    let failure = s
        .bake_window
        .as_ref()
        .and_then(|w| w.failure.clone())
        .unwrap_or_else(|| panic!("no failure"));
    assert_eq!(
        failure.alarm,
        Some(1),
        "{ERRORS}, by its place in alarmNames"
    );
    assert_eq!(failure.at, minutes(5) + Duration::seconds(30));

    let s = rolled_back(&gs, &s, minutes(6)).await;
    assert_eq!(s.phase, Phase::Rollback);
    assert!(
        s.reason.contains(&format!("alarm {ERRORS} fired")),
        "{}",
        s.reason
    );
    let rb = s.rollback.clone().unwrap_or_else(|| panic!("no rollback"));
    assert_eq!(rb.snapshot_id, S2);
    complete(&gs, &rb.deployment_id);
    let s = poll_at(&gs, &alarms, &s, minutes(8)).await;
    assert_eq!(s.action, Action::Alert);
    let (out, body, sns) =
        notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(8)).await;
    assert_eq!(out.outcome, Verdict::RolledBack);
    assert!(
        out.cause
            .contains(&format!("alarm {ERRORS} was ALARM since")),
        "{}",
        out.cause
    );
    assert!(out.cause.contains("Rolled back to"), "{}", out.cause);
    assert_eq!(
        body.bake_window
            .and_then(|w| w.failure)
            .and_then(|f| f.alarm_name)
            .as_deref(),
        Some(ERRORS)
    );
    assert_eq!(sns.published()[0].attributes["outcome"], "ROLLED_BACK");
}

#[tokio::test]
async fn bake_failure_with_alert_policy_is_bake_failed() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = baking(
        &gs,
        &alarms,
        json!({"bake": bake(600), "policy": {"onBakeFailure": "alert"}}),
    )
    .await;
    alarms.set(LATENCY, ALARM, minutes(4));
    let s = poll_at(&gs, &alarms, &s, minutes(5)).await;
    assert_eq!(s.action, Action::Alert);
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(5)).await;
    assert_eq!(out.outcome, Verdict::BakeFailed);
    assert_eq!(out.error, "StageGate.BAKE_FAILED");
    assert!(!out.succeeded);
    assert!(out.cause.contains(LATENCY), "{}", out.cause);
    assert!(out.cause.contains("Not rolled back"), "{}", out.cause);
}

#[tokio::test]
async fn unreadable_alarms_fail_safe_unless_ignored() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = baking(&gs, &alarms, json!({"bake": bake(300)})).await;
    alarms.fail_next(ServiceError::new(
        ServiceErrorKind::AccessDenied,
        "DescribeAlarms",
        "not authorized",
    ));
    let s = poll_at(&gs, &alarms, &s, minutes(5)).await;
    assert_eq!(s.action, Action::Rollback);
    assert!(s
        .bake_window
        .as_ref()
        .and_then(|w| w.failure.as_ref())
        .is_some_and(|f| f.reason.contains("not authorized")));

    let (gs, alarms) = (stage(), quiet_alarms());
    let mut lenient = bake(300);
    lenient["ignoreAlarmReadErrors"] = json!(true);
    let s = baking(&gs, &alarms, json!({"bake": lenient})).await;
    alarms.fail_next(ServiceError::new(
        ServiceErrorKind::Throttled,
        "DescribeAlarms",
        "slow down",
    ));
    let s = poll_at(&gs, &alarms, &s, minutes(5)).await;
    assert_eq!(s.action, Action::Wait);
    assert_eq!(
        s.bake_window.as_ref().map(|w| w.ignored_read_errors),
        Some(1)
    );
}

#[tokio::test]
async fn a_misspelt_alarm_is_refused_before_anything_is_deployed() {
    let (gs, alarms) = (stage(), FakeAlarms::new().with(LATENCY, OK, T0));
    let r = start::handle(
        &gs,
        &alarms,
        &with_input(json!({"bake": bake(300)})),
        "r",
        &FixedClock(T0),
    )
    .await;
    match r {
        Err(crate::GateError::InvalidInput(e)) => {
            assert_eq!(e.field, "input.bake.alarmNames");
            assert!(e.rule.contains(ERRORS), "{}", e.rule);
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(!gs.calls().contains(&START));
}

#[tokio::test]
async fn a_firing_alarm_blocks_the_deployment() {
    let gs = stage();
    let alarms = quiet_alarms().with(ERRORS, ALARM, T0);
    let s = start_with(&gs, &alarms, &with_input(json!({"bake": bake(300)}))).await;
    assert_eq!(
        (s.deployment.outcome, s.action),
        (Outcome::Blocked, Action::Alert)
    );
    assert!(!gs.calls().contains(&START));
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(out.outcome, Verdict::Blocked);
    assert!(out.cause.contains(ERRORS), "{}", out.cause);
    // The blocked state cannot be polled into a GetStageDeployment of an empty id.
    let event = serde_json::to_value(&s).unwrap_or_default();
    assert_eq!(
        error_type(
            poll::handle(
                &gs,
                &alarms,
                &crate::fakes::FakeAbortRequests::new(),
                &event,
                &FixedClock(T0)
            )
            .await
        ),
        types::INVALID_INPUT
    );
}

#[tokio::test]
async fn a_retried_start_is_not_blocked_by_an_alarm_that_fired_since() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let event = with_input(json!({"bake": bake(300)}));
    let first = start_with(&gs, &alarms, &event).await;
    // The first attempt's reply was lost; meanwhile an alarm fired. The retry must report the
    // deployment it started, not "nothing deployed".
    alarms.set(ERRORS, ALARM, minutes(1));
    let retried = start_with(&gs, &alarms, &event).await;
    assert_eq!(
        retried.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(retried.action, Action::Wait);
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn bake_state_without_its_window_is_rejected() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = baking(&gs, &alarms, json!({"bake": bake(300)})).await;
    let mut event = serde_json::to_value(&s).unwrap_or_default();
    event.as_object_mut().map(|o| o.remove("bakeWindow"));
    assert_eq!(
        error_type(
            poll::handle(
                &gs,
                &alarms,
                &crate::fakes::FakeAbortRequests::new(),
                &event,
                &FixedClock(minutes(5))
            )
            .await
        ),
        types::INVALID_INPUT
    );
}

// ---- dry run ----

#[tokio::test]
async fn a_dry_run_plans_without_starting() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = start_with(
        &gs,
        &alarms,
        &with_input(json!({"dryRun": true, "snapshotId": "latest", "bake": bake(300)})),
    )
    .await;
    assert!(!gs.calls().contains(&START), "{:?}", gs.calls());
    assert_eq!(s.action, Action::Succeed);
    let plan = s.plan.clone().unwrap_or_else(|| panic!("no plan"));
    assert!(plan.ready, "{:?}", plan.all_problems());
    // S5 ties S4 on Created and wins on id; the rollback target is the last good deploy.
    assert_eq!(plan.snapshot_id.as_deref(), Some(super::S5));
    assert_eq!(plan.stages[0].rollback_snapshot_id.as_deref(), Some(S2));
    assert_eq!(plan.stages[0].current_snapshot_id.as_deref(), Some(S2));
    assert_eq!(plan.stages[0].alarms.len(), 2);
    let (out, body, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(out.outcome, Verdict::DryRun);
    assert!(out.succeeded);
    assert!(out.cause.contains("Nothing was started"), "{}", out.cause);
    assert!(body.dry_run);
    assert!(body.deployment.is_none());
    assert_eq!(body.plan.as_ref().map(|p| p.ready), Some(true));
}

#[tokio::test]
async fn a_dry_run_reports_every_problem() {
    let gs = stage();
    // Something already running on the stage.
    let busy = start_with(&gs, &FakeAlarms::new(), &with_input(json!({}))).await;
    let alarms = FakeAlarms::new().with(LATENCY, ALARM, T0);
    let missing_snapshot = "Snapshot_2026-02-28T00:00:00.000Z";
    let s = start_with(
        &gs,
        &alarms,
        &with_input(json!({"dryRun": true, "snapshotId": missing_snapshot, "bake": bake(300)})),
    )
    .await;
    assert_eq!(gs.starts().len(), 1, "only the busy run started anything");
    assert_eq!(s.action, Action::Alert);
    let plan = s.plan.clone().unwrap_or_else(|| panic!("no plan"));
    let problems = plan.all_problems().join(" | ");
    assert!(problems.contains("does not exist"), "{problems}");
    assert!(
        problems.contains(&busy.deployment.deployment_id),
        "{problems}"
    );
    assert!(
        problems.contains(&format!("not found: {ERRORS}")),
        "{problems}"
    );
    assert!(
        problems.contains(&format!(
            "firing now, the run would not deploy while they are: {LATENCY} (ALARM)"
        )),
        "{problems}"
    );
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(out.outcome, Verdict::DryRunBlocked);
    assert_eq!(out.error, "StageGate.DRY_RUN_BLOCKED");
    assert!(!out.succeeded);
}

#[tokio::test]
async fn a_dry_run_retries_transient_errors_and_reports_others() {
    let gs = stage();
    gs.fail_next(
        crate::fakes::LIST_DEPLOYMENTS,
        ServiceError::new(ServiceErrorKind::Throttled, "ListStageDeployments", "slow"),
    );
    let event = with_input(json!({"dryRun": true}));
    assert_eq!(
        error_type(start::handle(&gs, &FakeAlarms::new(), &event, "r", &FixedClock(T0)).await),
        types::RETRYABLE
    );
    gs.fail_next(
        crate::fakes::LIST_DEPLOYMENTS,
        ServiceError::new(
            ServiceErrorKind::NotFound,
            "ListStageDeployments",
            "no stage",
        ),
    );
    let s = start_with(&gs, &FakeAlarms::new(), &event).await;
    assert_eq!(s.action, Action::Alert);
    assert!(s.reason.contains("no stage"), "{}", s.reason);
}

// ---- promotion waves ----

pub(super) fn wave_input(extra: Value) -> Value {
    let mut more = json!({"stages": ["dev", "staging", {"stageName": "prod", "bake": bake(120)}]});
    if let (Some(obj), Some(extra)) = (more.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    with_input(more)
}

#[tokio::test]
async fn a_wave_promotes_stage_by_stage() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let mut s = start_with(&gs, &alarms, &wave_input(json!({}))).await;
    let mut tokens = vec![];
    for (i, name) in ["dev", "staging", "prod"].iter().enumerate() {
        assert_eq!(s.stage_name, *name);
        assert_eq!(s.wave.as_ref().map(|w| w.index), Some(i));
        tokens.push(gs.starts().last().map(|c| c.client_token.clone()));
        assert_eq!(
            gs.starts()
                .last()
                .map(|c| c.stage.stage_name.clone())
                .as_deref(),
            Some(*name)
        );
        succeed(&gs, &s);
        s = poll_at(&gs, &alarms, &s, minutes(4)).await;
        if *name == "prod" {
            // Only prod bakes.
            assert_eq!(s.phase, Phase::Bake);
            s = poll_at(&gs, &alarms, &s, minutes(6)).await;
            assert_eq!(s.action, Action::Succeed, "{}", s.reason);
        } else {
            assert_eq!(s.action, Action::Advance, "{}", s.reason);
            s = advanced(&gs, &alarms, &s).await;
        }
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 3, "one ClientToken per stage");
    let (out, body, sns) =
        notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(7)).await;
    assert_eq!(out.outcome, Verdict::Succeeded);
    assert!(
        out.cause
            .contains("every stage of the wave dev > staging > prod"),
        "{}",
        out.cause
    );
    assert_eq!(
        sns.published()[0].subject,
        "stagegate SUCCEEDED: space-raiders/prod (wave 3/3)"
    );
    let stages = body.wave.map(|w| w.stages).unwrap_or_default();
    assert_eq!(stages.len(), 3);
    assert_eq!(stages[0].status, StageStatus::Passed);
    assert_eq!(
        stages[0].passed.as_ref().map(|p| p.snapshot_id.as_str()),
        Some(S4)
    );
    assert_eq!(
        stages[2].status,
        StageStatus::Passed,
        "the last stage passed too"
    );
}

#[tokio::test]
async fn a_failing_stage_stops_the_wave_and_gets_the_policy() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = start_with(&gs, &alarms, &wave_input(json!({}))).await;
    succeed(&gs, &s);
    let s = poll_at(&gs, &alarms, &s, minutes(4)).await;
    let s = advanced(&gs, &alarms, &s).await;
    assert_eq!(s.stage_name, "staging");
    finish(
        &gs,
        &s.deployment.deployment_id,
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        "boom",
    );
    let s = poll_at(&gs, &alarms, &s, minutes(21)).await;
    assert_eq!(s.action, Action::Rollback);
    let s = rolled_back(&gs, &s, minutes(21)).await;
    let rb_call = gs
        .starts()
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("no start"));
    assert_eq!(rb_call.stage.stage_name, "staging");
    // Staging's own known-good snapshot: prod serves S2, dev S3, staging S1.
    assert_eq!(rb_call.snapshot_id, S1);
    assert_eq!(s.previous_snapshot_id.as_deref(), Some(S1));
    let rb = s.rollback.clone().unwrap_or_else(|| panic!("no rollback"));
    complete(&gs, &rb.deployment_id);
    let s = poll_at(&gs, &alarms, &s, minutes(25)).await;
    let (out, body, sns) =
        notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(25)).await;
    assert_eq!(out.outcome, Verdict::RolledBack);
    assert!(
        out.cause.contains("stopped at staging (2 of 3)"),
        "{}",
        out.cause
    );
    assert!(
        out.cause.contains("passed (keeping the new snapshot): dev"),
        "{}",
        out.cause
    );
    assert!(out.cause.contains("not started: prod"), "{}", out.cause);
    assert_eq!(
        sns.published()[0].subject,
        "stagegate ROLLED_BACK: space-raiders/staging (wave 2/3)"
    );
    assert_eq!(
        body.wave
            .as_ref()
            .and_then(|w| w.stages.get(2))
            .map(|s| s.status),
        Some(StageStatus::NotStarted)
    );
    assert!(gs.starts().iter().all(|c| c.stage.stage_name != "prod"));
}

#[tokio::test]
async fn a_busy_later_stage_blocks_the_wave_in_the_state() {
    let (gs, alarms) = (stage(), quiet_alarms());
    // Something else is deploying on staging.
    let other = json!({"input": {"gameName": "space-raiders", "stageName": "staging", "snapshotId": S1},
                       "execution": {"Id": "other-exec"}});
    let busy = start_with(&gs, &alarms, &other).await;
    assert_eq!(
        (
            busy.stage_name.as_str(),
            busy.action,
            busy.deployment.outcome
        ),
        ("staging", Action::Wait, Outcome::InProgress),
        "the other run must be deploying on staging for the wave to find it busy"
    );
    let s = start_with(&gs, &alarms, &wave_input(json!({}))).await;
    succeed(&gs, &s);
    let s = poll_at(&gs, &alarms, &s, minutes(4)).await;
    let s = advanced(&gs, &alarms, &s).await;
    assert_eq!(
        (s.stage_name.as_str(), s.deployment.outcome, s.action),
        ("staging", Outcome::Blocked, Action::Alert)
    );
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(20)).await;
    assert_eq!(out.outcome, Verdict::Blocked);
    assert!(out.cause.contains("stopped at staging"), "{}", out.cause);
}

#[tokio::test]
async fn advance_refuses_what_the_core_did_not_decide() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = start_with(&gs, &alarms, &wave_input(json!({}))).await;
    // Still deploying: advancing now would promote an unproven snapshot.
    let refused = |state: GateState| {
        let (gs, alarms) = (&gs, &alarms);
        async move {
            let event = json!({"advance": state});
            error_type(start::handle(gs, alarms, &event, "r", &FixedClock(T0)).await)
        }
    };
    let mut forced = s.clone();
    forced.action = Action::Advance;
    assert_eq!(refused(forced).await, types::INVALID_INPUT);
    assert_eq!(refused(s).await, types::INVALID_INPUT);
    // A single-stage run has nowhere to advance to.
    let mut single = start_with(&stage(), &alarms, &with_input(json!({}))).await;
    single.action = Action::Advance;
    single.deployment.outcome = Outcome::Succeeded;
    assert_eq!(refused(single).await, types::INVALID_INPUT);
}

#[tokio::test]
async fn a_retried_advance_reattaches_to_the_same_deployment() {
    let (gs, alarms) = (stage(), quiet_alarms());
    let s = start_with(&gs, &alarms, &wave_input(json!({}))).await;
    succeed(&gs, &s);
    let s = poll_at(&gs, &alarms, &s, minutes(4)).await;
    let a = advanced(&gs, &alarms, &s).await;
    let b = advanced(&gs, &alarms, &s).await;
    assert_eq!(a.deployment.deployment_id, b.deployment.deployment_id);
    assert_eq!(gs.started_count(), 2);
}

// ---- size limits ----

/// Step Functions' state payload and an SNS message are both capped at 256 KiB.
const PAYLOAD_LIMIT: usize = 256 * 1024;

/// A dry run of the widest wave: five stages with the longest names, `names` (100 alarms, all
/// OK) shared out between their bakes.
async fn largest_dry_run(names: &[String]) -> (FakeAlarms, GateState) {
    let alarms = FakeAlarms::new();
    for n in names {
        alarms.set(n, OK, T0);
    }
    let stages: Vec<Value> = (0..5)
        .map(|i| {
            json!({"stageName": format!("{i}{}", "s".repeat(35)),
                   "bake": {"seconds": 600, "alarmNames": &names[i * 20..(i + 1) * 20]}})
        })
        .collect();
    let dry = with_input(json!({"stages": stages, "dryRun": true}));
    let s = start_with(&stage(), &alarms, &dry).await;
    (alarms, s)
}

#[tokio::test]
async fn the_largest_inputs_stay_below_the_payload_limits() {
    // Five stages with the longest names, 100 alarms in all with the longest names, every alarm
    // reporting CloudWatch's longest reason.
    let names: Vec<String> = (0..100)
        .map(|i| format!("{i:03}{}", "x".repeat(252)))
        .collect();
    let (_, s) = largest_dry_run(&names).await;
    let state = serde_json::to_string(&s).unwrap_or_default();
    assert!(
        state.len() < PAYLOAD_LIMIT / 2,
        "dry-run state {} bytes",
        state.len()
    );
    let (_, _, sns) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    let message = sns.published()[0].message.len();
    assert!(
        message < PAYLOAD_LIMIT / 2,
        "dry-run message {message} bytes"
    );

    // One stage baking on all 100 alarms, every one of them failing; the bound holds even for
    // reasons at CloudWatch's full 1,023 characters (the gate keeps 256).
    let gs = stage();
    let long_reason = "r".repeat(1023);
    let (baking_alarms, s) = baking_on_all(&gs, &names).await;
    for n in &names {
        baking_alarms.set(n, ALARM, minutes(5));
    }
    let mut s = poll_at(&gs, &baking_alarms, &s, minutes(5)).await;
    if let Some(w) = s.bake_window.as_mut() {
        for a in &mut w.readings {
            assert!(a.reason.as_ref().is_some_and(|r| r.len() <= 256));
            a.reason = Some(long_reason.clone());
        }
    }
    let s = rolled_back(&gs, &s, minutes(5)).await;
    let state = serde_json::to_string(&s).unwrap_or_default();
    assert!(
        state.len() < PAYLOAD_LIMIT,
        "baking state {} bytes",
        state.len()
    );
    let (_, _, sns) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    let message = sns.published()[0].message.len();
    assert!(
        message < PAYLOAD_LIMIT,
        "bake-failure message {message} bytes"
    );
}

/// A 4-byte UTF-8 character: the worst case for a limit counted in characters.
const WIDE: &str = "\u{1F600}";

#[tokio::test]
async fn alarm_names_are_limited_in_bytes() {
    // 100 names of 255 four-byte characters are each within CloudWatch's 255 characters, but
    // together 102 KB per copy: a run's names are limited in UTF-8 bytes, naming the field.
    let names: Vec<String> = (0..100)
        .map(|i| format!("{i:03}{}", WIDE.repeat(252)))
        .collect();
    let event = with_input(json!({"bake": {"seconds": 600, "alarmNames": names}}));
    let err = start::handle(&stage(), &quiet_alarms(), &event, "r", &FixedClock(T0))
        .await
        .err()
        .unwrap_or_else(|| panic!("accepted 102 KB of alarm names"));
    assert_eq!(err.error_type(), types::INVALID_INPUT);
    let text = err.to_string();
    assert!(text.contains("input.bake.alarmNames"), "{text}");
    assert!(text.contains("bytes"), "{text}");
}

#[tokio::test]
async fn the_largest_multibyte_inputs_stay_below_the_payload_limits_with_margin() {
    // The largest names the byte budget allows, written in 4-byte characters; CloudWatch reasons
    // of 1,023 four-byte characters.
    let per_name = bake::MAX_ALARM_NAME_BYTES_PER_RUN / 100;
    let names: Vec<String> = (0..100)
        .map(|i| format!("{i:03}{}", WIDE.repeat((per_name - 3) / 4)))
        .collect();
    let margin = PAYLOAD_LIMIT * 3 / 4;
    let reason = WIDE.repeat(1023);
    let (alarms, s) = largest_dry_run(&names).await;
    let state = serde_json::to_string(&s).unwrap_or_default().len();
    assert!(state < margin, "dry-run state {state} bytes");
    let (_, _, sns) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    let message = sns.published()[0].message.len();
    assert!(message < margin, "dry-run message {message} bytes");
    eprintln!("largest multibyte dry run: state {state} B, message {message} B");

    let gs = stage();
    let s = baking(
        &gs,
        &alarms,
        json!({"bake": {"seconds": 600, "alarmNames": names, "checkIntervalSeconds": 60}}),
    )
    .await;
    for n in &names {
        alarms.set_with_reason(n, ALARM, minutes(5), &reason);
    }
    let s = poll_at(&gs, &alarms, &s, minutes(5)).await;
    let s = rolled_back(&gs, &s, minutes(5)).await;
    let state = serde_json::to_string(&s).unwrap_or_default().len();
    assert!(state < margin, "baking state {state} bytes");
    let (_, _, sns) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    let message = sns.published()[0].message.len();
    assert!(message < margin, "bake-failure message {message} bytes");
    eprintln!("largest multibyte bake failure: state {state} B, message {message} B (limit {PAYLOAD_LIMIT})");
}

/// The names of `names` the serialized state does not hold exactly `expected` times: a name the
/// state repeats (in the window's readings, the failure, the plan, a wave stage and the current
/// stage) multiplies the byte budget by its copies.
fn copies_in(state: &GateState, names: &[String], expected: usize) -> Vec<(String, usize)> {
    let text = serde_json::to_string(state).unwrap_or_default();
    names
        .iter()
        .map(|n| (n.clone(), text.matches(&format!("\"{n}\"")).count()))
        .filter(|(_, count)| *count != expected)
        .collect()
}

#[tokio::test]
async fn each_alarm_name_is_stored_once_in_the_state() {
    let names: Vec<String> = (0..100).map(|i| format!("alarm-{i:03}")).collect();

    // A dry run of five baking stages with every fifth alarm firing.
    let (alarms, _) = largest_dry_run(&names).await;
    for n in names.iter().step_by(5) {
        alarms.set(n, ALARM, T0);
    }
    let stages: Vec<Value> = (0..5)
        .map(|i| json!({"stageName": format!("s{i}"), "bake": {"seconds": 600, "alarmNames": &names[i * 20..(i + 1) * 20]}}))
        .collect();
    let s = start_with(
        &stage(),
        &alarms,
        &with_input(json!({"stages": stages, "dryRun": true})),
    )
    .await;
    assert!(!s.plan.as_ref().is_some_and(|p| p.ready));
    assert_eq!(copies_in(&s, &names, 1), vec![], "dry run");

    // One stage whose bake fails on every alarm, then rolls back.
    let gs = stage();
    let (baking_alarms, s) = baking_on_all(&gs, &names).await;
    assert_eq!(copies_in(&s, &names, 1), vec![], "bake open");
    for n in &names {
        baking_alarms.set(n, ALARM, minutes(5));
    }
    let s = poll_at(&gs, &baking_alarms, &s, minutes(5)).await;
    assert_eq!(s.action, Action::Rollback);
    assert_eq!(copies_in(&s, &names, 1), vec![], "bake failed");
    let s = rolled_back(&gs, &s, minutes(5)).await;
    assert_eq!(copies_in(&s, &names, 1), vec![], "rolled back");

    // A wave whose second stage bakes: its names were both in the wave and the current stage.
    let gs = stage();
    let wave = with_input(json!({"stages": [
        {"stageName": "dev", "bake": {"seconds": 60, "alarmNames": &names[..50], "checkIntervalSeconds": 60}},
        {"stageName": "prod", "bake": {"seconds": 60, "alarmNames": &names[50..], "checkIntervalSeconds": 60}},
    ]}));
    let s = start_with(&gs, &baking_alarms_ok(&names), &wave).await;
    assert_eq!(copies_in(&s, &names, 1), vec![], "wave started");
    let quiet = baking_alarms_ok(&names);
    succeed(&gs, &s);
    let s = poll_at(&gs, &quiet, &s, minutes(4)).await;
    let s = poll_at(&gs, &quiet, &s, minutes(5)).await;
    assert_eq!(s.action, Action::Advance, "{}", s.reason);
    let s = advanced(&gs, &quiet, &s).await;
    assert_eq!(copies_in(&s, &names[50..], 1), vec![], "wave advanced");
    // The passed stage keeps its record (`passed.bakedSeconds`), not its alarm names.
    assert_eq!(copies_in(&s, &names[..50], 0), vec![], "wave advanced");
    let (_, body, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(
        body.bake.as_ref().and_then(|b| b.alarm_names.first()),
        Some(&names[50]),
        "the message still names them"
    );
    let bake_seconds: Vec<Option<u64>> = body
        .wave
        .map(|w| w.stages.iter().map(|s| s.bake_seconds).collect())
        .unwrap_or_default();
    assert_eq!(bake_seconds.first(), Some(&Some(60)));
    assert_eq!(bake_seconds.get(1), Some(&Some(60)));
}

/// One stage deployed and baking on `names`, all quiet so far.
async fn baking_on_all(gs: &FakeGameSparks, names: &[String]) -> (FakeAlarms, GateState) {
    let alarms = baking_alarms_ok(names);
    let s = baking(
        gs,
        &alarms,
        json!({"bake": {"seconds": 600, "alarmNames": names, "checkIntervalSeconds": 60}}),
    )
    .await;
    (alarms, s)
}

fn baking_alarms_ok(names: &[String]) -> FakeAlarms {
    let alarms = FakeAlarms::new();
    for n in names {
        alarms.set(n, OK, T0);
    }
    alarms
}
