//! Every route of the four handlers, driven through the in-memory ports.

use serde_json::{json, Value};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{notify, poll, rollback, start};
use crate::classify::Outcome;
use crate::clock::FixedClock;
use crate::deployment::{DeploymentAction, DeploymentState, ResultCode};
use crate::error::{types, GateError};
use crate::fakes::{
    FakeAlarms, FakeGameSparks, FakeNotifier, GET, LIST_DEPLOYMENTS, LIST_SNAPSHOTS, START,
};
use crate::policy::{Action, Phase};
use crate::ports::{ServiceError, ServiceErrorKind};
use crate::state::GateState;
use crate::token::{client_token, Purpose};
use crate::verdict::Verdict;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);
const EXEC: &str = "arn:aws:states:us-east-1:123456789012:execution:stagegate:run-1";
const S1: &str = "Snapshot_2026-01-01T00:00:00.000Z";
const S2: &str = "Snapshot_2026-02-01T00:00:00.000Z";
const S3: &str = "Snapshot_2026-02-20T00:00:00.000Z";
const S4: &str = "Snapshot_2026-02-25T10:00:00.000Z";
const S5: &str = "Snapshot_2026-02-25T10:00:00.500Z";

/// A game with five snapshots and a prod stage where S1 then S2 were deployed successfully, then
/// S3 failed: prod serves S2. Every stage has its own history, so a rollback target taken from
/// the wrong stage shows: dev serves S3 and staging serves S1. Page size 2, so every listing takes
/// several pages.
fn stage() -> FakeGameSparks {
    let day = |d: i64| T0 - Duration::days(30 - d);
    FakeGameSparks::new()
        .with_snapshot(S1, day(0))
        .with_snapshot(S2, day(1))
        .with_snapshot(S5, day(3)) // ties with S4 on Created: the greater id wins
        .with_snapshot(S3, day(2))
        .with_snapshot(S4, day(3))
        .with_history(
            "prod",
            "old-1",
            S1,
            DeploymentAction::Deploy,
            ResultCode::Success,
            day(5),
        )
        .with_history(
            "prod",
            "old-2",
            S2,
            DeploymentAction::Deploy,
            ResultCode::Success,
            day(6),
        )
        .with_history(
            "prod",
            "old-u",
            S1,
            DeploymentAction::Undeploy,
            ResultCode::Success,
            day(6),
        )
        .with_history(
            "prod",
            "old-3",
            S3,
            DeploymentAction::Deploy,
            ResultCode::UnspecifiedFailure,
            day(7),
        )
        .with_history(
            "dev",
            "dev-1",
            S3,
            DeploymentAction::Deploy,
            ResultCode::Success,
            day(8),
        )
        .with_history(
            "staging",
            "staging-1",
            S1,
            DeploymentAction::Deploy,
            ResultCode::Success,
            day(4),
        )
        .with_page_size(2)
}

fn input(snapshot: &str) -> Value {
    json!({
        "input": {"gameName": "space-raiders", "stageName": "prod", "snapshotId": snapshot},
        "execution": {"Id": EXEC, "StartTime": "2026-03-01T11:59:58Z", "Name": "run-1"}
    })
}

fn svc(kind: ServiceErrorKind, op: &str) -> ServiceError {
    ServiceError::new(kind, op, "injected")
}

async fn started(gs: &FakeGameSparks, snapshot: &str) -> GateState {
    match start::handle(
        gs,
        &FakeAlarms::new(),
        &input(snapshot),
        "req-1",
        &FixedClock(T0),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => panic!("start failed: {e}"),
    }
}

/// Started (as deployment dep-1), then GameSparks finished it as given.
async fn started_then_finished(
    gs: &FakeGameSparks,
    snapshot: &str,
    state: DeploymentState,
    code: Option<ResultCode>,
    message: &str,
) -> GateState {
    let s = started(gs, snapshot).await;
    finish(gs, "dep-1", state, code, message);
    s
}

async fn polled(gs: &FakeGameSparks, state: &GateState, now: OffsetDateTime) -> GateState {
    let event = serde_json::to_value(state).unwrap_or_default();
    match poll::handle(gs, &FakeAlarms::new(), &event, &FixedClock(now)).await {
        Ok(s) => s,
        Err(e) => panic!("poll failed: {e}"),
    }
}

async fn rolled_back(gs: &FakeGameSparks, state: &GateState, now: OffsetDateTime) -> GateState {
    // GameSparks creates the rollback deployment when it accepts it.
    gs.set_now(now);
    let event = serde_json::to_value(state).unwrap_or_default();
    match rollback::handle(gs, &event, &FixedClock(now)).await {
        Ok(s) => s,
        Err(e) => panic!("rollback failed: {e}"),
    }
}

async fn notified(
    state: &Value,
    now: OffsetDateTime,
) -> (notify::NotifyOutput, Value, FakeNotifier) {
    let sns = FakeNotifier::default();
    let event = json!({"state": state, "execution": {"Id": EXEC}});
    let out = match notify::handle(&sns, &event, now).await {
        Ok(o) => o,
        Err(e) => panic!("notify failed: {e}"),
    };
    let published = sns.published();
    assert_eq!(published.len(), 1, "exactly one message per outcome");
    let body: Value = serde_json::from_str(&published[0].message).unwrap_or_default();
    (out, body, sns)
}

fn error_type<T>(r: Result<T, GateError>) -> &'static str {
    match r {
        Ok(_) => "no error",
        Err(e) => e.error_type(),
    }
}

fn finish(
    gs: &FakeGameSparks,
    id: &str,
    state: DeploymentState,
    code: Option<ResultCode>,
    msg: &str,
) {
    gs.set_state(id, state, code, Some(msg), T0 + Duration::minutes(3));
}

// ---- start-deployment ----

#[tokio::test]
async fn start_returns_the_gate_state() {
    let gs = stage();
    let s = started(&gs, S4).await;
    assert_eq!(s.deployment.snapshot_id, S4);
    assert_eq!(s.requested_snapshot_id, S4);
    assert_eq!(s.previous_snapshot_id.as_deref(), Some(S2));
    assert_eq!(s.deployment.deployment_id, "dep-1");
    assert_eq!(s.deployment.started_at, T0);
    assert_eq!(s.deployment.deadline, T0 + Duration::seconds(1800));
    assert_eq!(s.execution_started_at, datetime!(2026-03-01 11:59:58 UTC));
    assert_eq!(s.execution_id, EXEC);
    assert_eq!(
        (s.phase, s.action, s.deployment.outcome),
        (Phase::Deploy, Action::Wait, Outcome::InProgress)
    );
    assert!(
        (8..=12).contains(&s.wait_seconds),
        "first wait {}",
        s.wait_seconds
    );
    let starts = gs.starts();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].client_token, client_token(EXEC, Purpose::Deploy));
    // Four history entries, two a page.
    assert_eq!(
        gs.calls()
            .iter()
            .filter(|c| **c == LIST_DEPLOYMENTS)
            .count(),
        2
    );
    let out = serde_json::to_value(&s).unwrap_or_default();
    for key in [
        "deploymentId",
        "snapshotId",
        "previousSnapshotId",
        "startedAt",
        "deadline",
        "waitSeconds",
        "action",
    ] {
        assert!(out.get(key).is_some(), "missing {key} in {out}");
    }
}

#[tokio::test]
async fn start_resolves_latest_over_pages_with_ties() {
    let gs = stage();
    let s = started(&gs, "latest").await;
    assert_eq!(s.deployment.snapshot_id, S5);
    assert_eq!(s.requested_snapshot_id, "latest");
    assert_eq!(
        gs.calls().iter().filter(|c| **c == LIST_SNAPSHOTS).count(),
        3
    );
}

#[tokio::test]
async fn start_without_known_good_has_null_previous() {
    let gs = FakeGameSparks::new().with_snapshot(S1, T0);
    let s = started(&gs, S1).await;
    assert_eq!(s.previous_snapshot_id, None);
    let out = serde_json::to_value(&s).unwrap_or_default();
    assert_eq!(out["previousSnapshotId"], Value::Null);
}

#[tokio::test]
async fn start_redeploying_the_serving_snapshot_alerts_instead_of_downgrading() {
    // S2 serves the stage; redeploying it and failing must not roll back to the older S1.
    let gs = stage();
    let s = started(&gs, S2).await;
    assert_eq!(s.previous_snapshot_id, None);
    finish(
        &gs,
        &s.deployment.deployment_id,
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        "crashed",
    );
    let s = polled(&gs, &s, T0 + Duration::minutes(4)).await;
    assert_eq!(s.action, Action::Alert, "{}", s.reason);
    let (out, _, _) = notified(
        &serde_json::to_value(&s).unwrap_or_default(),
        T0 + Duration::minutes(5),
    )
    .await;
    assert_eq!(out.outcome, Verdict::Failed);
    assert_eq!(gs.started_count(), 1, "no rollback deployment");
}

#[tokio::test]
async fn start_rolls_back_to_what_serves_not_to_an_undeployed_snapshot() {
    // S2 went live and was later undeployed; S1 was undeployed before. Nothing serves the stage:
    // a failure of S4 has no known-good snapshot to go back to.
    let gs = stage().with_history(
        "prod",
        "old-u2",
        S2,
        DeploymentAction::Undeploy,
        ResultCode::Success,
        T0 - Duration::days(20),
    );
    assert_eq!(started(&gs, S4).await.previous_snapshot_id, None);
}

/// The stage already serves the newest snapshot (S5): a scheduled "latest" finds nothing new.
fn serving_latest() -> FakeGameSparks {
    stage()
        .with_history(
            "prod",
            "old-5",
            S5,
            DeploymentAction::Deploy,
            ResultCode::Success,
            T0 - Duration::days(20),
        )
        .with_history(
            "prod",
            "old-u2",
            S2,
            DeploymentAction::Undeploy,
            ResultCode::Success,
            T0 - Duration::days(20),
        )
}

#[tokio::test]
async fn start_latest_already_serving_ends_unchanged_without_deploying() {
    let gs = serving_latest();
    let s = started(&gs, "latest").await;
    assert_eq!(s.deployment.snapshot_id, S5);
    assert_eq!(
        (s.deployment.outcome, s.action),
        (Outcome::Unchanged, Action::Succeed)
    );
    assert_eq!(gs.started_count(), 0, "nothing is deployed");
    let (out, body, _) = notified(
        &serde_json::to_value(&s).unwrap_or_default(),
        T0 + Duration::minutes(1),
    )
    .await;
    assert_eq!(out.outcome, Verdict::Unchanged);
    assert!(out.succeeded, "an unchanged stage is a successful run");
    assert_eq!(body["outcome"], "UNCHANGED");
    // Asked for by id, the same snapshot is redeployed: someone chose to.
    let gs = serving_latest();
    let s = started(&gs, S5).await;
    assert_eq!(s.action, Action::Wait);
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn start_retried_gets_the_same_deployment() {
    let gs = stage();
    let first = started(&gs, S4).await;
    let second = started(&gs, S4).await;
    assert_eq!(
        first.deployment.deployment_id,
        second.deployment.deployment_id
    );
    assert_eq!(first.previous_snapshot_id, second.previous_snapshot_id);
    assert_eq!(gs.started_count(), 1);
}

const S6: &str = "Snapshot_2026-03-01T12:00:30.000Z";

#[tokio::test]
async fn start_retried_after_a_new_snapshot_keeps_the_first_resolution() {
    // The first attempt resolves "latest" to S5 and starts it, but its reply is lost; S6 is
    // created before Step Functions retries. The retry must re-attach to the S5 deployment, not
    // send the same ClientToken with S6 and report its own deployment as someone else's.
    let gs = stage();
    let first = started(&gs, "latest").await;
    assert_eq!(first.deployment.snapshot_id, S5);
    gs.add_snapshot(S6, T0 + Duration::seconds(30));
    let retry = start::handle(
        &gs,
        &FakeAlarms::new(),
        &input("latest"),
        "req-1",
        &FixedClock(T0 + Duration::minutes(1)),
    )
    .await
    .unwrap_or_else(|e| panic!("retry failed: {e}"));
    assert_eq!(retry.deployment.snapshot_id, S5);
    assert_eq!(
        retry.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn start_adopts_its_own_deployment_after_a_conflict() {
    // An earlier attempt of this execution started S4 with the execution's token (created after
    // the execution began); this attempt asks for S5 and gets ConflictException. The token proves
    // the running deployment is the execution's own: it is watched, not reported as BLOCKED.
    let gs = stage();
    let token = client_token(EXEC, Purpose::Deploy);
    let stage_ref = crate::ports::StageRef {
        game_name: "space-raiders".into(),
        stage_name: "prod".into(),
    };
    let own = crate::ports::StageDeployments::start_deployment(&gs, &stage_ref, S4, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    gs.set_created(&own.id, T0);
    let s = started(&gs, "latest").await;
    assert_eq!(s.deployment.deployment_id, own.id);
    assert_eq!(s.deployment.snapshot_id, S4);
    assert_eq!(s.action, Action::Wait);
    assert_eq!(s.previous_snapshot_id.as_deref(), Some(S2));
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn poll_refuses_a_deployment_of_another_snapshot() {
    // GameSparks answers with a deployment of another snapshot than the one the state watches:
    // reporting it as the requested snapshot's outcome would be a lie, so the poll fails loudly.
    let gs = stage();
    let mut s = started(&gs, S4).await;
    finish(
        &gs,
        &s.deployment.deployment_id,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "",
    );
    s.deployment.snapshot_id = S1.into();
    let event = serde_json::to_value(&s).unwrap_or_default();
    let err = poll::handle(
        &gs,
        &FakeAlarms::new(),
        &event,
        &FixedClock(T0 + Duration::minutes(4)),
    )
    .await
    .err()
    .unwrap_or_else(|| panic!("accepted a deployment of another snapshot"));
    assert_eq!(err.error_type(), types::SERVICE_ERROR);
    assert!(err.to_string().contains(S4), "{err}");
}

#[tokio::test]
async fn poll_retries_a_not_found_just_after_the_start() {
    // GameSparks may not list a deployment in the first seconds after creating it: a NotFound
    // then is read-after-write lag, retried; minutes later it is a real NotFound.
    let gs = stage();
    let s = started(&gs, S4).await;
    let event = serde_json::to_value(&s).unwrap_or_default();
    for (after, want) in [
        (Duration::seconds(5), types::RETRYABLE),
        (Duration::minutes(5), types::NOT_FOUND),
    ] {
        gs.fail_next(GET, svc(ServiceErrorKind::NotFound, GET));
        let got = poll::handle(
            &gs,
            &FakeAlarms::new(),
            &event,
            &FixedClock(s.deployment.started_at + after),
        )
        .await;
        assert_eq!(error_type(got), want, "{after}");
    }
}

#[tokio::test]
async fn every_message_carries_a_stable_dedup_id() {
    // Notifications are at least once: a Notify retried after a publish that did succeed sends
    // it again. Subscribers drop repeats by the dedupId attribute (execution + outcome).
    let gs = stage();
    let s = started_then_finished(
        &gs,
        S4,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "",
    )
    .await;
    let s =
        serde_json::to_value(polled(&gs, &s, T0 + Duration::minutes(4)).await).unwrap_or_default();
    let (_, _, first) = notified(&s, T0 + Duration::minutes(5)).await;
    let (_, _, again) = notified(&s, T0 + Duration::minutes(6)).await;
    let id = |sns: &FakeNotifier| sns.published()[0].attributes.get("dedupId").cloned();
    assert!(
        id(&first).is_some_and(|d| d.len() == 64),
        "{:?}",
        id(&first)
    );
    assert_eq!(id(&first), id(&again));
}

#[tokio::test]
async fn start_rejects_invalid_input_before_any_call() {
    let gs = stage();
    let bad = json!({"input": {"gameName": "space raiders", "stageName": "prod", "snapshotId": S1},
                     "execution": {"Id": EXEC}});
    let err = start::handle(&gs, &FakeAlarms::new(), &bad, "r", &FixedClock(T0))
        .await
        .err();
    let err = err.unwrap_or_else(|| panic!("accepted"));
    assert_eq!(err.error_type(), types::INVALID_INPUT);
    assert!(err.to_string().contains("input.gameName"), "{err}");
    assert!(gs.calls().is_empty());
}

#[tokio::test]
async fn start_error_types() {
    use ServiceErrorKind::*;
    let cases = [
        (START, Conflict, types::DEPLOYMENT_IN_PROGRESS),
        (START, NotFound, types::NOT_FOUND),
        (START, AccessDenied, types::ACCESS_DENIED),
        (START, Throttled, types::RETRYABLE),
        (START, Internal, types::RETRYABLE),
        (START, Transport, types::RETRYABLE),
        (START, Validation, types::SERVICE_ERROR),
        (LIST_DEPLOYMENTS, AccessDenied, types::ACCESS_DENIED),
        (LIST_DEPLOYMENTS, Throttled, types::RETRYABLE),
        (LIST_SNAPSHOTS, NotFound, types::NOT_FOUND),
    ];
    for (op, kind, want) in cases {
        let gs = stage();
        gs.fail_next(op, svc(kind, op));
        let got = error_type(
            start::handle(
                &gs,
                &FakeAlarms::new(),
                &input("latest"),
                "r",
                &FixedClock(T0),
            )
            .await,
        );
        assert_eq!(got, want, "{op} {kind:?}");
        assert_eq!(gs.started_count(), 0);
    }
}

#[tokio::test]
async fn start_conflicts_with_a_running_deployment() {
    let gs = stage();
    let _ = started(&gs, S4).await;
    let other = json!({"input": {"gameName": "space-raiders", "stageName": "prod", "snapshotId": S5},
                       "execution": {"Id": "another-execution"}});
    let err = start::handle(&gs, &FakeAlarms::new(), &other, "r", &FixedClock(T0))
        .await
        .err();
    assert_eq!(
        err.map(|e| e.error_type()),
        Some(types::DEPLOYMENT_IN_PROGRESS)
    );
}

#[tokio::test]
async fn start_latest_on_a_game_without_snapshots_is_not_found() {
    let gs = FakeGameSparks::new();
    let err = start::handle(
        &gs,
        &FakeAlarms::new(),
        &input("latest"),
        "r",
        &FixedClock(T0),
    )
    .await
    .err();
    let err = err.unwrap_or_else(|| panic!("accepted"));
    assert_eq!(err.error_type(), types::NOT_FOUND);
    assert!(err.to_string().contains("no snapshots"), "{err}");
}

#[tokio::test]
async fn start_invoked_directly_uses_the_request_id() {
    let gs = stage();
    let bare = json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": S4});
    let s = start::handle(&gs, &FakeAlarms::new(), &bare, "req-42", &FixedClock(T0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.execution_id, "lambda:req-42");
    assert_eq!(s.execution_started_at, T0);
    assert_eq!(
        gs.starts()[0].client_token,
        client_token("lambda:req-42", Purpose::Deploy)
    );
}

/// Reads `first` once, then `later`: time passing while the handler calls GameSparks.
struct SlowCalls {
    first: OffsetDateTime,
    later: OffsetDateTime,
    calls: std::sync::atomic::AtomicU32,
}

impl crate::clock::Clock for SlowCalls {
    fn now(&self) -> OffsetDateTime {
        match self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        {
            0 => self.first,
            _ => self.later,
        }
    }
}

#[tokio::test]
async fn the_timeout_runs_from_when_the_deployment_exists() {
    // The soak found it: a start task slowed by throttling must not spend the deployment's budget.
    let gs = stage();
    let late = T0 + Duration::minutes(20);
    let clock = SlowCalls {
        first: T0,
        later: late,
        calls: 0.into(),
    };
    // GameSparks accepted (and created) the deployment only after the throttled calls.
    gs.set_now(late);
    let s = start::handle(&gs, &FakeAlarms::new(), &input(S4), "r", &clock)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.deployment.started_at, late);
    assert_eq!(s.deployment.deadline, late + Duration::seconds(1800));

    let failed = {
        finish(
            &gs,
            "dep-1",
            DeploymentState::Failed,
            Some(ResultCode::UnspecifiedFailure),
            "x",
        );
        polled(&gs, &s, late + Duration::minutes(3)).await
    };
    // The rollback reads the clock once, after GameSparks accepted it.
    let accepted = late + Duration::minutes(25);
    gs.set_now(accepted);
    let event = serde_json::to_value(&failed).unwrap_or_default();
    let r = rollback::handle(&gs, &event, &FixedClock(accepted))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let watch = r.rollback.unwrap_or_else(|| panic!("no rollback"));
    assert_eq!(watch.started_at, accepted);
    assert_eq!(watch.deadline, accepted + Duration::seconds(1800));
}

#[tokio::test]
async fn a_retried_start_keeps_the_original_deadline() {
    let gs = stage();
    let first = started(&gs, S4).await;
    gs.set_created("dep-1", T0);
    let clock = FixedClock(T0 + Duration::minutes(2));
    let again = start::handle(&gs, &FakeAlarms::new(), &input(S4), "r", &clock)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        again.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(again.deployment.deadline, first.deployment.deadline);
}

// ---- poll-deployment ----

#[tokio::test]
async fn poll_in_progress_waits_with_backoff() {
    let gs = stage();
    let mut s = started(&gs, S4).await;
    let mut now = T0;
    for attempt in 1..=8 {
        now += Duration::seconds(s.wait_seconds as i64);
        s = polled(&gs, &s, now).await;
        assert_eq!(s.action, Action::Wait);
        assert_eq!(s.deployment.attempt, attempt);
        assert_eq!(s.deployment.outcome, Outcome::InProgress);
        assert!((1..=60).contains(&s.wait_seconds));
    }
    assert!(
        s.wait_seconds >= 48,
        "backoff reached the cap: {}",
        s.wait_seconds
    );
}

#[tokio::test]
async fn poll_success_succeeds() {
    let gs = stage();
    let s = started(&gs, S4).await;
    finish(
        &gs,
        &s.deployment.deployment_id,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "ok",
    );
    let s = polled(&gs, &s, T0 + Duration::minutes(4)).await;
    assert_eq!(
        (s.deployment.outcome, s.action, s.wait_seconds),
        (Outcome::Succeeded, Action::Succeed, 0)
    );
    assert_eq!(s.deployment.result_code.as_deref(), Some("SUCCESS"));
    assert_eq!(s.deployment.finished_at, Some(T0 + Duration::minutes(3)));
}

#[tokio::test]
async fn poll_failure_routes_by_policy() {
    let cases = [
        (
            DeploymentState::Failed,
            Some(ResultCode::InvalidRoleFailure),
            Action::Alert,
        ),
        (
            DeploymentState::Failed,
            Some(ResultCode::UnspecifiedFailure),
            Action::Rollback,
        ),
        (
            DeploymentState::Completed,
            Some(ResultCode::UnspecifiedFailure),
            Action::Rollback,
        ),
        (
            DeploymentState::Completed,
            Some(ResultCode::InvalidRoleFailure),
            Action::Alert,
        ),
        (DeploymentState::Failed, None, Action::Rollback),
        (DeploymentState::Completed, None, Action::Rollback),
    ];
    for (state, code, want) in cases {
        let gs = stage();
        let s = started(&gs, S4).await;
        finish(
            &gs,
            &s.deployment.deployment_id,
            state.clone(),
            code.clone(),
            "boom",
        );
        let s = polled(&gs, &s, T0 + Duration::minutes(4)).await;
        assert_eq!(s.deployment.outcome, Outcome::Failed, "{state:?} {code:?}");
        assert_eq!(s.action, want, "{state:?} {code:?}");
        assert!(s
            .deployment
            .message
            .as_deref()
            .unwrap_or("")
            .contains("boom"));
    }
}

#[tokio::test]
async fn poll_failed_without_result_says_so() {
    let gs = stage();
    let s = started(&gs, S4).await;
    gs.set_state(
        &s.deployment.deployment_id,
        DeploymentState::Failed,
        None,
        None,
        T0,
    );
    let s = polled(&gs, &s, T0 + Duration::minutes(1)).await;
    assert_eq!(s.deployment.result_code, None);
    assert!(s
        .deployment
        .message
        .as_deref()
        .unwrap_or("")
        .contains("missing"));
}

#[tokio::test]
async fn poll_past_the_deadline_keeps_watching_within_the_grace_window() {
    // At the deadline GameSparks still runs the deployment: rolling back now would only be
    // refused (ConflictException) while the late deployment may still go live unwatched.
    let gs = stage();
    let s = started(&gs, S4).await;
    let deadline = s.deployment.deadline;
    let before = polled(&gs, &s, deadline - Duration::seconds(3)).await;
    assert_eq!(before.action, Action::Wait);
    assert_eq!(
        before.wait_seconds, 3,
        "the last wait lands on the deadline"
    );
    let at = polled(&gs, &before, deadline).await;
    assert_eq!(
        (at.deployment.outcome, at.action),
        (Outcome::InProgress, Action::Wait),
        "{}",
        at.reason
    );
    assert!((1..=60).contains(&at.wait_seconds), "{}", at.wait_seconds);
    assert_eq!(gs.started_count(), 1);

    // It succeeds late: the default onTimeout (rollback) undoes the unverified snapshot.
    let late = deadline + Duration::minutes(10);
    gs.set_state(
        "dep-1",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        None,
        late,
    );
    let s = polled(&gs, &at, late + Duration::seconds(30)).await;
    assert_eq!(
        (s.deployment.outcome, s.action),
        (Outcome::TimedOut, Action::Rollback),
        "{}",
        s.reason
    );
    assert!(
        s.deployment
            .message
            .as_deref()
            .is_some_and(|m| m.contains("after the deadline")),
        "{:?}",
        s.deployment.message
    );
    assert_eq!(s.deployment.finished_at, Some(late));
    let s = rolled_back(&gs, &s, late + Duration::minutes(1)).await;
    assert_eq!(
        s.action,
        Action::Wait,
        "the stage is free: the rollback starts"
    );
    finish(
        &gs,
        "dep-2",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "",
    );
    let s = polled(&gs, &s, late + Duration::minutes(5)).await;
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), late).await;
    assert_eq!(out.outcome, Verdict::RolledBack);
}

#[tokio::test]
async fn a_late_failure_follows_on_timeout() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let deadline = s.deployment.deadline;
    let at = polled(&gs, &s, deadline).await;
    gs.set_state(
        "dep-1",
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        Some("crashed"),
        deadline + Duration::minutes(2),
    );
    let s = polled(&gs, &at, deadline + Duration::minutes(3)).await;
    assert_eq!(
        (s.deployment.outcome, s.action),
        (Outcome::TimedOut, Action::Rollback)
    );
    assert_eq!(
        s.deployment.result_code.as_deref(),
        Some("UNSPECIFIED_FAILURE")
    );
}

#[tokio::test]
async fn poll_timeout_with_alert_policy_reports_a_late_success_and_keeps_it() {
    let gs = stage();
    let event = json!({
        "input": {"gameName": "space-raiders", "stageName": "prod", "snapshotId": S4,
                  "policy": {"onTimeout": "alert", "timeoutSeconds": 60}},
        "execution": {"Id": EXEC}
    });
    let s = start::handle(&gs, &FakeAlarms::new(), &event, "r", &FixedClock(T0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let s = polled(&gs, &s, T0 + Duration::seconds(61)).await;
    assert_eq!(
        (s.deployment.outcome, s.action),
        (Outcome::InProgress, Action::Wait)
    );
    gs.set_state(
        "dep-1",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        None,
        T0 + Duration::seconds(90),
    );
    let s = polled(&gs, &s, T0 + Duration::seconds(100)).await;
    assert_eq!(
        (s.deployment.outcome, s.action),
        (Outcome::TimedOut, Action::Alert)
    );
    assert_eq!(s.reason, "policy onTimeout is alert");
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(out.outcome, Verdict::TimedOut);
    assert!(out.cause.contains("SUCCESS"), "{}", out.cause);
    assert_eq!(gs.started_count(), 1, "what is live is kept");
}

#[tokio::test]
async fn a_deployment_stuck_past_the_grace_window_alerts_naming_it() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let grace_end = s.deployment.deadline + Duration::seconds(1800);
    let at = polled(&gs, &s, s.deployment.deadline).await;
    let near = polled(&gs, &at, grace_end - Duration::seconds(2)).await;
    assert_eq!(near.action, Action::Wait);
    assert_eq!(near.wait_seconds, 2, "the last wait lands on the grace end");
    let s = polled(&gs, &near, grace_end).await;
    assert_eq!(
        (s.deployment.outcome, s.action),
        (Outcome::TimedOut, Action::Alert),
        "{}",
        s.reason
    );
    assert!(s.reason.contains("grace window"), "{}", s.reason);
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), grace_end).await;
    assert_eq!(out.outcome, Verdict::TimedOut);
    assert!(
        out.cause
            .contains("deployment dep-1 still PENDING at the end of its grace window"),
        "{}",
        out.cause
    );
    assert_eq!(
        gs.started_count(),
        1,
        "no rollback into a running deployment"
    );
}

#[tokio::test]
async fn poll_error_types() {
    use ServiceErrorKind::*;
    for (kind, want) in [
        (NotFound, types::NOT_FOUND),
        (AccessDenied, types::ACCESS_DENIED),
        (Throttled, types::RETRYABLE),
        (Transport, types::RETRYABLE),
        (Other, types::SERVICE_ERROR),
    ] {
        let gs = stage();
        let s = started(&gs, S4).await;
        gs.fail_next(GET, svc(kind, GET));
        let event = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(
            // Minutes after the start: a NotFound is no read-after-write lag then.
            error_type(
                poll::handle(
                    &gs,
                    &FakeAlarms::new(),
                    &event,
                    &FixedClock(T0 + Duration::minutes(5))
                )
                .await
            ),
            want,
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn poll_rejects_a_broken_state_naming_the_field() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let mut event = serde_json::to_value(&s).unwrap_or_default();
    event["deadline"] = json!("soon");
    let err = poll::handle(&gs, &FakeAlarms::new(), &event, &FixedClock(T0))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`deadline`"), "{err}");
    let mut event = serde_json::to_value(&s).unwrap_or_default();
    event["phase"] = json!("ROLLBACK");
    let err = poll::handle(&gs, &FakeAlarms::new(), &event, &FixedClock(T0))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`rollback`"), "{err}");
    let err = poll::handle(&gs, &FakeAlarms::new(), &json!("x"), &FixedClock(T0))
        .await
        .err();
    assert_eq!(err.map(|e| e.error_type()), Some(types::INVALID_INPUT));
    assert!(!gs.calls().contains(&GET));
}

// ---- rollback-deployment, and polling the rollback ----

async fn failed_and_rolling_back(gs: &FakeGameSparks) -> GateState {
    let s = started(gs, S4).await;
    finish(
        gs,
        &s.deployment.deployment_id,
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        "crashed",
    );
    let s = polled(gs, &s, T0 + Duration::minutes(4)).await;
    assert_eq!(s.action, Action::Rollback);
    rolled_back(gs, &s, T0 + Duration::minutes(5)).await
}

#[tokio::test]
async fn rollback_redeploys_the_known_good_snapshot() {
    let gs = stage();
    let s = failed_and_rolling_back(&gs).await;
    let r = s.rollback.clone().unwrap_or_else(|| panic!("no rollback"));
    assert_eq!(s.phase, Phase::Rollback);
    assert_eq!(s.action, Action::Wait);
    assert_eq!(r.snapshot_id, S2);
    assert_eq!(r.rollback_of.as_deref(), Some("dep-1"));
    assert_eq!(r.deployment_id, "dep-2");
    assert_eq!(
        r.deadline,
        T0 + Duration::minutes(5) + Duration::seconds(1800)
    );
    let starts = gs.starts();
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[1].snapshot_id, S2);
    assert_eq!(
        starts[1].client_token,
        client_token(EXEC, Purpose::Rollback)
    );
    // Retried: same rollback deployment, no new one.
    let mut retry = serde_json::to_value(&s).unwrap_or_default();
    retry["phase"] = json!("DEPLOY");
    retry["action"] = json!("rollback");
    retry["rollback"] = Value::Null;
    let again = rollback::handle(&gs, &retry, &FixedClock(T0 + Duration::minutes(6)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        again.rollback.map(|r| r.deployment_id),
        Some("dep-2".into())
    );
    assert_eq!(gs.started_count(), 2);
}

#[tokio::test]
async fn rollback_then_poll_success_alerts_as_rolled_back() {
    let gs = stage();
    let s = failed_and_rolling_back(&gs).await;
    finish(
        &gs,
        "dep-2",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "",
    );
    let s = polled(&gs, &s, T0 + Duration::minutes(8)).await;
    let r = s.rollback.clone().unwrap_or_else(|| panic!("no rollback"));
    assert_eq!((r.outcome, s.action), (Outcome::Succeeded, Action::Alert));
    assert_eq!(
        s.deployment.outcome,
        Outcome::Failed,
        "the original failure is kept"
    );
    let (out, body, _) = notified(
        &serde_json::to_value(&s).unwrap_or_default(),
        T0 + Duration::minutes(9),
    )
    .await;
    assert_eq!(out.outcome, Verdict::RolledBack);
    assert!(!out.succeeded);
    assert_eq!(out.error, "StageGate.ROLLED_BACK");
    assert!(
        out.cause.contains(&format!("Rolled back to {S2}")),
        "{}",
        out.cause
    );
    assert!(out.cause.contains("crashed"), "{}", out.cause);
    assert_eq!(body["rollback"]["deploymentId"], "dep-2");
    assert_eq!(body["rollback"]["rollbackOf"], "dep-1");
    assert_eq!(body["deployment"]["resultCode"], "UNSPECIFIED_FAILURE");
}

#[tokio::test]
async fn failed_rollback_is_never_rolled_back_again() {
    for (state, code, now) in [
        (
            DeploymentState::Failed,
            Some(ResultCode::UnspecifiedFailure),
            T0 + Duration::minutes(8),
        ),
        (DeploymentState::InProgress, None, T0 + Duration::hours(2)),
    ] {
        let gs = stage();
        let s = failed_and_rolling_back(&gs).await;
        finish(&gs, "dep-2", state, code, "rollback broke");
        let s = polled(&gs, &s, now).await;
        assert_eq!(s.action, Action::Alert);
        let event = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(
            error_type(rollback::handle(&gs, &event, &FixedClock(now)).await),
            types::INVALID_INPUT
        );
        let (out, body, _) = notified(&event, now).await;
        assert_eq!(out.outcome, Verdict::RollbackFailed);
        assert!(out.cause.contains("also failed"), "{}", out.cause);
        assert_eq!(body["outcome"], "ROLLBACK_FAILED");
        assert_eq!(gs.started_count(), 2);
    }
}

#[tokio::test]
async fn rollback_blocked_by_a_running_deployment_alerts() {
    // The deployment fails; before the rollback starts, someone else's deployment takes the stage.
    let gs = stage();
    let s = started_then_finished(
        &gs,
        S4,
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        "crashed",
    )
    .await;
    let failed = polled(&gs, &s, T0 + Duration::minutes(4)).await;
    assert_eq!(failed.action, Action::Rollback);
    let other = json!({"input": {"gameName": "space-raiders", "stageName": "prod", "snapshotId": S5},
                       "execution": {"Id": "another-execution"}});
    start::handle(&gs, &FakeAlarms::new(), &other, "r", &FixedClock(T0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let s = rolled_back(&gs, &failed, T0 + Duration::minutes(5)).await;
    let r = s.rollback.clone().unwrap_or_else(|| panic!("no rollback"));
    assert_eq!((r.outcome, s.action), (Outcome::Blocked, Action::Alert));
    let (out, _, _) = notified(
        &serde_json::to_value(&s).unwrap_or_default(),
        T0 + Duration::hours(1),
    )
    .await;
    assert_eq!(out.outcome, Verdict::RollbackFailed);
    assert!(out.cause.contains("crashed"), "{}", out.cause);
    assert!(out.cause.contains("could not start"), "{}", out.cause);
}

#[tokio::test]
async fn rollback_refuses_what_the_core_did_not_decide() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let waiting = serde_json::to_value(&s).unwrap_or_default();
    assert_eq!(
        error_type(rollback::handle(&gs, &waiting, &FixedClock(T0)).await),
        types::INVALID_INPUT
    );
    let mut no_target = waiting.clone();
    no_target["action"] = json!("rollback");
    no_target["previousSnapshotId"] = Value::Null;
    let err = rollback::handle(&gs, &no_target, &FixedClock(T0))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("previousSnapshotId"), "{err}");
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn rollback_error_types() {
    use ServiceErrorKind::*;
    for (kind, want) in [
        (AccessDenied, types::ACCESS_DENIED),
        (Throttled, types::RETRYABLE),
        (NotFound, types::NOT_FOUND),
    ] {
        let gs = stage();
        let s = started_then_finished(
            &gs,
            S4,
            DeploymentState::Failed,
            Some(ResultCode::UnspecifiedFailure),
            "x",
        )
        .await;
        let s = polled(&gs, &s, T0 + Duration::minutes(1)).await;
        gs.fail_next(START, svc(kind, START));
        let event = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(
            error_type(rollback::handle(&gs, &event, &FixedClock(T0)).await),
            want,
            "{kind:?}"
        );
    }
}

// ---- notify-result ----

#[tokio::test]
async fn notify_success_message() {
    let gs = stage();
    let s = started_then_finished(
        &gs,
        S4,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "Deployed",
    )
    .await;
    let s = polled(&gs, &s, T0 + Duration::minutes(4)).await;
    let (out, body, sns) = notified(
        &serde_json::to_value(&s).unwrap_or_default(),
        T0 + Duration::minutes(4),
    )
    .await;
    assert_eq!((out.outcome, out.succeeded), (Verdict::Succeeded, true));
    assert_eq!(out.message_id, "msg-1");
    let n = &sns.published()[0];
    assert_eq!(n.subject, "stagegate SUCCEEDED: space-raiders/prod");
    let attrs: Vec<(&str, &str)> = n
        .attributes
        .iter()
        .filter(|(k, _)| *k != "dedupId")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert!(n.attributes.contains_key("dedupId"));
    assert_eq!(
        attrs,
        vec![
            ("gameName", "space-raiders"),
            ("outcome", "SUCCEEDED"),
            ("resultCode", "SUCCESS"),
            ("stageName", "prod")
        ]
    );
    assert_eq!(body["gameName"], "space-raiders");
    assert_eq!(body["stageName"], "prod");
    assert_eq!(body["snapshotId"], S4);
    assert_eq!(body["previousSnapshotId"], S2);
    assert_eq!(body["deployment"]["deploymentId"], "dep-1");
    assert_eq!(body["deployment"]["resultCode"], "SUCCESS");
    assert_eq!(body["deployment"]["message"], "Deployed");
    assert_eq!(body["gate"]["executionId"], EXEC);
    assert_eq!(body["gate"]["startedAt"], "2026-03-01T11:59:58Z");
    assert_eq!(body["gate"]["finishedAt"], "2026-03-01T12:04:00Z");
    assert_eq!(body["gate"]["durationSeconds"], 242);
    assert_eq!(body["rollback"], Value::Null);
    assert_eq!(body["error"], Value::Null);
}

#[tokio::test]
async fn notify_failed_and_timed_out() {
    let gs = stage();
    let s = started_then_finished(
        &gs,
        S4,
        DeploymentState::Failed,
        Some(ResultCode::InvalidRoleFailure),
        "role cannot be assumed",
    )
    .await;
    let failed = polled(&gs, &s, T0 + Duration::minutes(4)).await;
    let (out, body, sns) = notified(
        &serde_json::to_value(&failed).unwrap_or_default(),
        T0 + Duration::minutes(4),
    )
    .await;
    assert_eq!(out.outcome, Verdict::Failed);
    assert_eq!(out.error, "StageGate.FAILED");
    assert!(
        out.cause
            .contains("INVALID_ROLE_FAILURE: role cannot be assumed"),
        "{}",
        out.cause
    );
    assert!(
        out.cause.contains("policy onInvalidRole is alert"),
        "{}",
        out.cause
    );
    assert_eq!(body["gate"]["reason"], "policy onInvalidRole is alert");
    assert_eq!(
        sns.published()[0]
            .attributes
            .get("resultCode")
            .map(String::as_str),
        Some("INVALID_ROLE_FAILURE")
    );

    let gs = FakeGameSparks::new().with_snapshot(S4, T0);
    let s = started(&gs, S4).await;
    let overdue = polled(&gs, &s, s.deployment.deadline).await;
    let late = s.deployment.deadline + Duration::minutes(1);
    gs.set_state(
        "dep-1",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        None,
        late,
    );
    let timed_out = polled(&gs, &overdue, late).await;
    assert_eq!(
        timed_out.action,
        Action::Alert,
        "no known-good snapshot: alert"
    );
    let (out, _, sns) = notified(
        &serde_json::to_value(&timed_out).unwrap_or_default(),
        T0 + Duration::hours(1),
    )
    .await;
    assert_eq!(out.outcome, Verdict::TimedOut);
    assert!(
        out.cause.contains("no known-good snapshot"),
        "{}",
        out.cause
    );
    assert_eq!(
        sns.published()[0]
            .attributes
            .get("resultCode")
            .map(String::as_str),
        Some("SUCCESS"),
        "a late success keeps its result code"
    );
}

#[tokio::test]
async fn notify_caught_invalid_input_is_an_error_notification() {
    let raw = json!({
        "gameName": "bad game\n\"}", "stageName": "prod", "snapshotId": "nope",
        "error": {"Error": "StageGate.InvalidInput",
                  "Cause": "{\"errorType\":\"StageGate.InvalidInput\",\"errorMessage\":\"invalid input: field `input.gameName`: must match\"}"}
    });
    let (out, body, sns) = notified(&raw, T0).await;
    assert_eq!(out.outcome, Verdict::Error);
    assert_eq!(out.error, "StageGate.ERROR");
    assert!(
        out.cause.contains("field `input.gameName`"),
        "{}",
        out.cause
    );
    let n = &sns.published()[0];
    assert!(
        n.subject.chars().all(|c| (' '..='~').contains(&c)),
        "{}",
        n.subject
    );
    assert_eq!(
        body["gameName"], "bad game\"}",
        "control characters dropped, JSON intact"
    );
    assert_eq!(body["error"]["error"], "StageGate.InvalidInput");
    assert_eq!(body["gate"]["executionId"], EXEC);
    assert_eq!(
        n.attributes.get("outcome").map(String::as_str),
        Some("ERROR")
    );
}

#[tokio::test]
async fn notify_caught_conflict_is_blocked() {
    let raw = json!({
        "gameName": "space-raiders", "stageName": "prod", "snapshotId": S4,
        "error": {"Error": "StageGate.DeploymentInProgress", "Cause": "A deployment is already in progress"}
    });
    let (out, body, _) = notified(&raw, T0).await;
    assert_eq!(out.outcome, Verdict::Blocked);
    assert_eq!(out.error, "StageGate.BLOCKED");
    assert!(
        out.cause.contains("another deployment holds the stage"),
        "{}",
        out.cause
    );
    assert_eq!(body["stageName"], "prod");
}

#[tokio::test]
async fn notify_caught_error_mid_run_keeps_the_deployment_details() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let mut state = serde_json::to_value(&s).unwrap_or_default();
    state["error"] = json!({"Error": "StageGate.AccessDenied", "Cause": "GetStageDeployment failed with AccessDeniedException"});
    let (out, body, _) = notified(&state, T0 + Duration::minutes(1)).await;
    assert_eq!(out.outcome, Verdict::Error);
    assert!(out.cause.contains("dep-1"), "{}", out.cause);
    assert!(out.cause.contains("AccessDeniedException"), "{}", out.cause);
    assert_eq!(body["deployment"]["deploymentId"], "dep-1");
}

#[tokio::test]
async fn notify_unreadable_state_still_publishes() {
    let (out, body, _) = notified(&json!({"gameName": "g", "what": 1}), T0).await;
    assert_eq!(out.outcome, Verdict::Error);
    assert!(
        out.cause.contains("could not read the gate state"),
        "{}",
        out.cause
    );
    assert_eq!(body["gameName"], "g");
    let (out, _, _) = notified(&json!(42), T0).await;
    assert_eq!(out.outcome, Verdict::Error);
}

#[tokio::test]
async fn notify_publish_failure_is_typed() {
    let sns = FakeNotifier::default();
    sns.fail_next(svc(ServiceErrorKind::Throttled, "Publish"));
    let event = json!({"gameName": "g", "error": {"Error": "X", "Cause": "y"}});
    let err = notify::handle(&sns, &event, T0).await.err();
    assert_eq!(
        err.map(|e| e.error_type()),
        Some(types::NOTIFICATION_FAILED)
    );
    assert!(sns.published().is_empty());
}

#[tokio::test]
async fn notify_bare_state_without_envelope() {
    let sns = FakeNotifier::default();
    let gs = stage();
    let s = started_then_finished(
        &gs,
        S4,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "",
    )
    .await;
    let s = polled(&gs, &s, T0 + Duration::minutes(4)).await;
    let out = notify::handle(&sns, &serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(out.map(|o| o.outcome).ok(), Some(Verdict::Succeeded));
    let body: Value = serde_json::from_str(&sns.published()[0].message).unwrap_or_default();
    assert_eq!(
        body["gate"]["executionId"], EXEC,
        "falls back to the state's execution id"
    );
}

#[tokio::test]
async fn notify_refuses_to_call_an_unfinished_run_a_success() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let (out, _, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(out.outcome, Verdict::Error);
}

mod permissions;
mod safety;
