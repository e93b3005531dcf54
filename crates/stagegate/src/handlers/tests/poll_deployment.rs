//! poll-deployment: waits, outcomes by policy, deadlines and the grace window, its error types.

use super::*;
use crate::deployment::ResultCode;

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
    assert_eq!(s.deployment.result_code, Some(ResultCode::Success));
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
        s.deployment.result_code,
        Some(ResultCode::UnspecifiedFailure)
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
                    &FakeAbortRequests::new(),
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
    let refused = |event: Value| {
        let gs = &gs;
        async move {
            poll::handle(
                gs,
                &FakeAlarms::new(),
                &FakeAbortRequests::new(),
                &event,
                &FixedClock(T0),
            )
            .await
            .err()
        }
    };
    let mut event = serde_json::to_value(&s).unwrap_or_default();
    event["deadline"] = json!("soon");
    let err = refused(event)
        .await
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`deadline`"), "{err}");
    let mut event = serde_json::to_value(&s).unwrap_or_default();
    event["phase"] = json!("ROLLBACK");
    let err = refused(event)
        .await
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`rollback`"), "{err}");
    let err = refused(json!("x")).await;
    assert_eq!(err.map(|e| e.error_type()), Some(types::INVALID_INPUT));
    assert!(!gs.calls().contains(&GET));
}
