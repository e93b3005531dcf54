//! rollback-deployment, and polling the rollback: what is redeployed, what is never rolled back again.

use super::*;

pub(super) async fn failed_and_rolling_back(gs: &FakeGameSparks) -> GateState {
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
    assert_eq!(starts[1].client_token, client_token(RUN, Purpose::Rollback));
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
    let rollback = body
        .rollback
        .as_ref()
        .unwrap_or_else(|| panic!("no rollback in {body:?}"));
    assert_eq!(rollback.deployment_id.as_deref(), Some("dep-2"));
    assert_eq!(rollback.rollback_of.as_deref(), Some("dep-1"));
    assert_eq!(
        body.deployment.and_then(|d| d.result_code),
        Some(ResultCode::UnspecifiedFailure)
    );
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
        assert_eq!(body.outcome, Verdict::RollbackFailed);
        assert_eq!(gs.started_count(), 2);
    }
}

#[tokio::test]
async fn rollback_blocked_by_a_running_deployment_alerts() {
    // The deployment fails; before the rollback starts, someone else's deployment takes the stage.
    let gs = stage();
    let failed = failed_and_polled(&gs, "crashed").await;
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
