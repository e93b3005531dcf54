//! start-deployment: input, "latest", the ClientToken, conflicts, deadlines, its error types.

use super::*;

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
    assert_eq!(starts[0].client_token, client_token(RUN, Purpose::Deploy));
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
pub(super) fn serving_latest() -> FakeGameSparks {
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
    assert_eq!(body.outcome, Verdict::Unchanged);
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
async fn start_never_replays_its_token_with_another_snapshot() {
    // The stage runs S4 under this execution's token; this attempt asks for S5 ("latest") and
    // gets ConflictException. Replaying the token with S4 could start S4 anew the moment the
    // running deployment ends (simulator seed 96393 started another run's snapshot that way), so
    // the run ends BLOCKED, loudly, and nothing new is started.
    let gs = stage();
    let token = client_token(RUN, Purpose::Deploy);
    let stage_ref = crate::ports::StageRef {
        game_name: "space-raiders".into(),
        stage_name: "prod".into(),
    };
    let own = crate::ports::StageDeployments::start_deployment(&gs, &stage_ref, S4, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    gs.set_created(&own.id, T0);
    let err = start::handle(
        &gs,
        &FakeAlarms::new(),
        &input("latest"),
        "req-1",
        &FixedClock(T0),
    )
    .await
    .err();
    assert_eq!(
        err.map(|e| e.error_type()),
        Some(types::DEPLOYMENT_IN_PROGRESS)
    );
    assert_eq!(gs.started_count(), 1);
}

#[tokio::test]
async fn start_retried_while_its_deployment_runs_replays_it() {
    // The first attempt's deployment of S5 ("latest") runs; the retry finds it (created after the
    // run began) and re-attaches through the token, reading its creation time once more.
    let gs = stage();
    let first = started(&gs, "latest").await;
    let retry = started(&gs, "latest").await;
    assert_eq!(
        retry.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(retry.previous_snapshot_id.as_deref(), Some(S2));
    assert!(gs.calls().contains(&GET));
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
        &FakeAbortRequests::new(),
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
            &FakeAbortRequests::new(),
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
    let first = started(&gs, S4).await;
    assert_eq!(
        (first.action, first.deployment.outcome),
        (Action::Wait, Outcome::InProgress)
    );
    assert_eq!(gs.started_count(), 1);
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
