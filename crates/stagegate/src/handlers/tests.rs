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
    FakeAbortRequests, FakeAlarms, FakeGameSparks, FakeNotifier, GET, LIST_DEPLOYMENTS,
    LIST_SNAPSHOTS, START,
};
use crate::message::Message;
use crate::notification::Notification;
use crate::policy::{Action, Phase};
use crate::ports::{ServiceError, ServiceErrorKind};
use crate::state::GateState;
use crate::token::{client_token, Purpose};
use crate::verdict::Verdict;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);
const EXEC: &str = "arn:aws:states:us-east-1:123456789012:execution:stagegate:run-1";
/// The run `input` starts: `EXEC` and its start time (`token::run_id`), which names its tokens
/// and its abort request.
const RUN: &str = "arn:aws:states:us-east-1:123456789012:execution:stagegate:run-1@1772366398";
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

/// S4 deployed on `gs`, and polled four minutes in: the state of a plain success, not yet
/// notified.
async fn deployed_and_polled(gs: &FakeGameSparks) -> GateState {
    let s = started_then_finished(
        gs,
        S4,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "Deployed",
    )
    .await;
    polled(gs, &s, T0 + Duration::minutes(4)).await
}

/// S4 failed on `gs` with UNSPECIFIED_FAILURE, and polled four minutes in: a run the default
/// policy rolls back, before the rollback starts.
async fn failed_and_polled(gs: &FakeGameSparks, message: &str) -> GateState {
    let s = started_then_finished(
        gs,
        S4,
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        message,
    )
    .await;
    polled(gs, &s, T0 + Duration::minutes(4)).await
}

async fn polled(gs: &FakeGameSparks, state: &GateState, now: OffsetDateTime) -> GateState {
    let event = serde_json::to_value(state).unwrap_or_default();
    match poll::handle(
        gs,
        &FakeAlarms::new(),
        &FakeAbortRequests::new(),
        &event,
        &FixedClock(now),
    )
    .await
    {
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

/// Runs notify-result on `state` (in the workflow's envelope, execution Id only) and returns its
/// output, the one published body as subscribers read it (the typed contract), and the notifier.
async fn notified(
    state: &Value,
    now: OffsetDateTime,
) -> (notify::NotifyOutput, Message, FakeNotifier) {
    let sns = FakeNotifier::default();
    let event = json!({"state": state, "execution": {"Id": EXEC}});
    let out = match notify::handle(&sns, &event, now).await {
        Ok(o) => o,
        Err(e) => panic!("notify failed: {e}"),
    };
    let published = sns.published();
    assert_eq!(published.len(), 1, "exactly one message per outcome");
    let body = message_of(&published[0]);
    (out, body, sns)
}

/// A published body read as the `Message` contract; a body that does not deserialize fails the
/// test, showing it.
fn message_of(n: &Notification) -> Message {
    serde_json::from_str(&n.message).unwrap_or_else(|e| {
        panic!(
            "the published body is not a stagegate Message: {e}\n{}",
            n.message
        )
    })
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

// One file per function; shared fixtures above. New handler tests go in the file of the function
// they drive; cross-cutting routes (bake, dry run, waves, limits) in `safety`.
mod answer_approval;
mod decision_log;
mod notify_result;
mod operator_control;
mod poll_deployment;
mod rollback_deployment;
mod start_deployment;
mod verified_answers;

mod decision_records;
mod golden_messages;
mod interleavings;
mod permissions;
mod safety;
// Behaviour `cargo xtask mutants` found unpinned (docs/testing.md).
mod mutants;
