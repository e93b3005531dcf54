//! Orders of events the simulator found wrong (issue 24), pinned as handler tests: a retried
//! start whose first attempt's deployment reached GameSparks, a run that shares its name with an
//! older one, an abort that lands between two stages.

use super::*;

/// A freeze from 90 s after T0: the first attempt starts before it, its retry comes after.
fn input_with_freeze(snapshot: &str) -> Value {
    let mut v = input(snapshot);
    v["input"]["freezeWindows"] = json!([{
        "name": "evening",
        "start": "2026-03-01T12:01:30Z",
        "end": "2026-03-01T18:00:00Z"
    }]);
    v
}

async fn start_at(gs: &FakeGameSparks, event: &Value, at: OffsetDateTime) -> GateState {
    gs.set_now(at);
    start::handle(gs, &FakeAlarms::new(), event, "req-1", &FixedClock(at))
        .await
        .unwrap_or_else(|e| panic!("start at {at} failed: {e}"))
}

#[tokio::test]
async fn a_retry_inside_a_freeze_watches_what_its_first_attempt_started() {
    // Seed 102: StartStageDeployment reached GameSparks at T0, then the task timed out; the
    // retry at T0+100 s falls inside the freeze. Reporting FROZEN ("not started") would leave the
    // deployment running with nobody watching it.
    let gs = stage();
    let first = start_at(&gs, &input_with_freeze(S4), T0).await;
    assert_eq!(first.action, Action::Wait);
    let retry = start_at(&gs, &input_with_freeze(S4), T0 + Duration::seconds(100)).await;
    assert_eq!(
        (retry.action, retry.deployment.deployment_id.as_str()),
        (Action::Wait, first.deployment.deployment_id.as_str()),
        "{}",
        retry.reason
    );
    assert!(retry.frozen.is_none());
    assert_eq!(retry.previous_snapshot_id.as_deref(), Some(S2));
    assert_eq!(gs.started_count(), 1);
}

/// The first attempt starts `snapshot`, GameSparks completes it 20 s later, and the retry comes
/// at 45 s: (first, retry).
async fn finished_then_retried(snapshot: &str) -> (FakeGameSparks, GateState, GateState) {
    let gs = stage();
    let first = start_at(&gs, &input(snapshot), T0).await;
    gs.finish(
        &first.deployment.deployment_id,
        ResultCode::Success,
        T0 + Duration::seconds(20),
    );
    let retry = start_at(&gs, &input(snapshot), T0 + Duration::seconds(45)).await;
    (gs, first, retry)
}

#[tokio::test]
async fn a_retry_after_its_deployment_finished_watches_it_not_unchanged() {
    // Seed 1809: the first attempt started "latest" (S5); it completed before the retry, so the
    // retry sees S5 serving. It is this run's deployment, not "nothing new": watch it (and bake).
    let (gs, first, retry) = finished_then_retried("latest").await;
    assert_eq!(
        (retry.action, retry.deployment.outcome),
        (Action::Wait, Outcome::InProgress),
        "{}",
        retry.reason
    );
    assert_eq!(
        retry.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(retry.previous_snapshot_id.as_deref(), Some(S2));
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn a_retry_after_its_deployment_finished_keeps_the_rollback_target() {
    // Seed 5315: by id, the retry re-attached through the ClientToken but read the history after
    // its own deployment had gone live: no known-good snapshot, so a failed bake only alerted.
    let (gs, first, retry) = finished_then_retried(S4).await;
    assert_eq!(
        retry.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(retry.previous_snapshot_id.as_deref(), Some(S2));
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn a_freeze_beginning_within_a_start_attempt_refuses_the_start() {
    // Seed 86: checked at 12:00:00.9, not frozen; the deployment was created at 12:00:01.2,
    // inside a freeze from 12:00:01. A window that begins within the time one attempt may take
    // (the task's timeout) refuses the start, so no start lands inside it.
    let gs = stage();
    let mut event = input(S4);
    event["input"]["freezeWindows"] = json!([{
        "name": "evening",
        "start": "2026-03-01T12:00:30Z",
        "end": "2026-03-01T18:00:00Z"
    }]);
    let s = start_at(&gs, &event, T0).await;
    assert_eq!(s.action, Action::Alert, "{}", s.reason);
    assert!(s.frozen.is_some());
    assert_eq!(gs.started_count(), 0);
}

#[tokio::test]
async fn a_later_run_with_the_same_name_never_replays_an_earlier_runs_token() {
    // Simulator seed 50: `release-50` ran 100 days earlier and deployed S3 with its token; the
    // new `release-50` asked for S4 with the same token, GameSparks refused the reuse, and the
    // run ended BLOCKED though nothing held the stage. Tokens are per run (execution and start).
    let gs = stage();
    let earlier = format!("{EXEC}@{}", (T0 - Duration::days(100)).unix_timestamp());
    let stage_ref = crate::ports::StageRef {
        game_name: "space-raiders".into(),
        stage_name: "prod".into(),
    };
    for key in [EXEC.to_owned(), earlier] {
        let old = crate::ports::StageDeployments::start_deployment(
            &gs,
            &stage_ref,
            S3,
            &client_token(&key, Purpose::Deploy),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        gs.finish(&old.id, ResultCode::Success, T0 - Duration::days(100));
    }
    let s = start_at(&gs, &input(S4), T0).await;
    assert_eq!(
        (s.action, s.deployment.snapshot_id.as_str()),
        (Action::Wait, S4)
    );
    assert_eq!(
        gs.starts().last().map(|c| c.client_token.clone()),
        Some(client_token(RUN, Purpose::Deploy))
    );
}

#[tokio::test]
async fn an_abort_between_two_stages_deploys_nothing_more() {
    // Simulator seed 1245 (and an abort while Advance runs): start-deployment never read aborts,
    // so the next stage was deployed, watched to its end, then rolled back. It reads them before
    // every stage it starts; stages that passed keep the new snapshot, as when a later stage fails.
    let gs = stage();
    let alarms = super::safety::quiet_alarms();
    let s = super::safety::start_with(&gs, &alarms, &super::safety::wave_input(json!({}))).await;
    super::safety::complete(&gs, &s.deployment.deployment_id);
    let s = super::safety::poll_at(&gs, &alarms, &s, super::safety::minutes(4)).await;
    assert_eq!(s.action, Action::Advance, "{}", s.reason);
    let aborts = FakeAbortRequests::new();
    aborts.request(
        RUN,
        r#"{"by": "arn:aws:iam::1:user/ana", "reason": "bad build", "at": "2026-03-01T12:05:00Z"}"#,
    );
    let event = json!({"advance": s});
    let next = start::handle_with(
        &gs,
        &alarms,
        &aborts,
        &event,
        "r",
        &FixedClock(super::safety::minutes(5)),
        &start::Settings::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("advance failed: {e}"));
    assert_eq!(gs.started_count(), 1, "staging was not deployed");
    assert_eq!(
        (next.stage_name.as_str(), next.action),
        ("staging", Action::Alert)
    );
    let (out, body, _) = notified(
        &serde_json::to_value(&next).unwrap_or_default(),
        super::safety::minutes(5),
    )
    .await;
    assert_eq!(out.outcome, Verdict::Aborted, "{}", body.summary);
    assert!(body.summary.contains("bad build"), "{}", body.summary);
}

#[tokio::test]
async fn a_run_does_not_end_past_an_abort_it_could_not_read() {
    // Simulator seed 61816: the poll that read an abort was stopped; its retry found the abort
    // channel throttled and the deployment completed, and ended SUCCEEDED past the abort. With
    // the deployment over, waiting costs nothing: the poll is retried instead.
    let gs = stage();
    let s = started(&gs, S4).await;
    let (aborts, event, at) = poll_ended_with_aborts_down(
        &gs,
        &s,
        DeploymentState::Completed,
        ResultCode::Success,
        ServiceErrorKind::Throttled,
    )
    .await;
    aborts.request(
        RUN,
        r#"{"by": "arn:aws:iam::1:user/ana", "reason": "bad build", "at": "2026-03-01T12:00:30Z"}"#,
    );
    let retry = poll::handle(&gs, &FakeAlarms::new(), &aborts, &event, &at)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(retry.action, Action::Rollback, "{}", retry.reason);
}

#[tokio::test]
async fn an_abort_written_while_the_approval_wait_timed_out_ends_the_run_aborted() {
    // Simulator seed 13310: `stagegate abort` found no wait to answer (between two attempts of
    // it) and wrote the run's request; the wait then timed out. The run ends ABORTED, as the
    // operator was told, not APPROVAL_TIMED_OUT.
    let gs = stage();
    let waiting = super::operator_control::awaiting(&gs).await;
    let aborts = FakeAbortRequests::new();
    aborts.request(
        RUN,
        r#"{"by": "arn:aws:iam::1:user/ana", "reason": "wrong build", "at": "2026-03-01T12:01:00Z"}"#,
    );
    let mut event = serde_json::to_value(&waiting).unwrap_or_default();
    event["approvalAnswer"] = json!({"Error": "States.Timeout", "Cause": "timed out"});
    let s = start::handle_with(
        &gs,
        &FakeAlarms::new(),
        &aborts,
        &json!({ "approved": event }),
        "r",
        &FixedClock(T0 + Duration::minutes(11)),
        &start::Settings::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (out, body, _) = notified(
        &serde_json::to_value(&s).unwrap_or_default(),
        T0 + Duration::minutes(11),
    )
    .await;
    assert_eq!(out.outcome, Verdict::Aborted, "{}", body.summary);
    assert_eq!(gs.started_count(), 0);
}

#[tokio::test]
async fn no_ending_is_decided_past_an_abort_the_poll_could_not_read() {
    // Simulator seeds 185554 and 511069 (a million-run campaign): the deployment failed, the
    // policy said alert, and the poll that read the abort channel got a 5xx: the run ended FAILED
    // past an abort that would have rolled it back. Any ending waits for a readable channel.
    let gs = stage();
    let mut event = input(S4);
    event["input"]["policy"] = json!({"onUnspecifiedFailure": "alert"});
    let s = start_at(&gs, &event, T0).await;
    poll_ended_with_aborts_down(
        &gs,
        &s,
        DeploymentState::Failed,
        ResultCode::UnspecifiedFailure,
        ServiceErrorKind::Internal,
    )
    .await;
}

/// GameSparks ends dep-1 as given, and the poll two minutes in finds the abort channel failing
/// with `kind`: it must be retried, not end the run. Returns the channel, the poll's event and
/// its clock, for a retry.
async fn poll_ended_with_aborts_down(
    gs: &FakeGameSparks,
    s: &GateState,
    state: DeploymentState,
    code: ResultCode,
    kind: ServiceErrorKind,
) -> (FakeAbortRequests, Value, FixedClock) {
    finish(gs, "dep-1", state, Some(code), "ended");
    let aborts = FakeAbortRequests::new();
    aborts.fail_next(svc(kind, "GetParameter"));
    let event = serde_json::to_value(s).unwrap_or_default();
    let at = FixedClock(T0 + Duration::minutes(2));
    let first = poll::handle(gs, &FakeAlarms::new(), &aborts, &event, &at).await;
    assert_eq!(first.err().map(|e| e.error_type()), Some(types::RETRYABLE));
    (aborts, event, at)
}
