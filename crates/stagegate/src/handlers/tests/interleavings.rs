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

#[tokio::test]
async fn a_retry_after_its_deployment_finished_watches_it_not_unchanged() {
    // Seed 1809: the first attempt started "latest" (S5); it completed before the retry, so the
    // retry sees S5 serving. It is this run's deployment, not "nothing new": watch it (and bake).
    let gs = stage();
    let first = start_at(&gs, &input("latest"), T0).await;
    gs.finish(
        &first.deployment.deployment_id,
        ResultCode::Success,
        T0 + Duration::seconds(20),
    );
    let retry = start_at(&gs, &input("latest"), T0 + Duration::seconds(45)).await;
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
    let gs = stage();
    let first = start_at(&gs, &input(S4), T0).await;
    gs.finish(
        &first.deployment.deployment_id,
        ResultCode::Success,
        T0 + Duration::seconds(20),
    );
    let retry = start_at(&gs, &input(S4), T0 + Duration::seconds(45)).await;
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
