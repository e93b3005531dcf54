//! notify-result: the message for each ending, caught errors, publish failures.

use super::*;

#[tokio::test]
async fn notify_success_message() {
    let gs = stage();
    let s = deployed_and_polled(&gs).await;
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
            ("countsAgainstBudget", "false"),
            ("gameName", "space-raiders"),
            ("needsPerson", "false"),
            ("outcome", "SUCCEEDED"),
            ("resultCode", "SUCCESS"),
            ("stageName", "prod")
        ]
    );
    assert_eq!(body.game_name.as_deref(), Some("space-raiders"));
    assert_eq!(body.stage_name.as_deref(), Some("prod"));
    assert_eq!(body.snapshot_id.as_deref(), Some(S4));
    assert_eq!(body.previous_snapshot_id.as_deref(), Some(S2));
    let d = body
        .deployment
        .as_ref()
        .unwrap_or_else(|| panic!("no deployment in {body:?}"));
    assert_eq!(d.deployment_id.as_deref(), Some("dep-1"));
    assert_eq!(d.result_code, Some(ResultCode::Success));
    assert_eq!(d.message.as_deref(), Some("Deployed"));
    assert_eq!(body.gate.execution_id, EXEC);
    assert_eq!(
        body.gate.started_at,
        Some(datetime!(2026-03-01 11:59:58 UTC))
    );
    assert_eq!(body.gate.finished_at, datetime!(2026-03-01 12:04:00 UTC));
    assert_eq!(body.gate.duration_seconds, Some(242));
    assert_eq!(body.rollback, None);
    assert_eq!(body.error, None);
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
    assert_eq!(
        body.gate.reason.as_deref(),
        Some("policy onInvalidRole is alert")
    );
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
        body.game_name.as_deref(),
        Some("bad game\"}"),
        "control characters dropped, JSON intact"
    );
    assert_eq!(
        body.error.as_ref().map(|e| e.error.as_str()),
        Some("StageGate.InvalidInput")
    );
    assert_eq!(body.gate.execution_id, EXEC);
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
    assert_eq!(body.stage_name.as_deref(), Some("prod"));
}

#[tokio::test]
async fn a_wave_refused_at_its_first_task_names_its_first_stage() {
    // Simulator seed 1487: a promotion wave blocked at Start was reported on "space-raiders/UNKNOWN".
    let raw = json!({
        "input": {"gameName": "space-raiders", "snapshotId": S4,
                  "stages": [{"stageName": "dev"}, "prod"]},
        "error": {"Error": "StageGate.DeploymentInProgress", "Cause": "A deployment is already in progress"}
    });
    let (out, body, _) = notified(&raw, T0).await;
    assert_eq!(out.outcome, Verdict::Blocked);
    assert_eq!(body.stage_name.as_deref(), Some("dev"), "{}", out.cause);
    let raw = json!({"input": {"gameName": "space-raiders", "stages": ["qa", "prod"]},
        "error": {"Error": "StageGate.DeploymentInProgress", "Cause": "busy"}});
    let (_, body, _) = notified(&raw, T0).await;
    assert_eq!(body.stage_name.as_deref(), Some("qa"));
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
    assert_eq!(
        body.deployment.and_then(|d| d.deployment_id).as_deref(),
        Some("dep-1")
    );
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
    assert_eq!(body.game_name.as_deref(), Some("g"));
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
    let body = message_of(&sns.published()[0]);
    assert_eq!(
        body.gate.execution_id, EXEC,
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

#[tokio::test]
async fn each_ending_emits_one_metrics_record_after_it_is_published() {
    use crate::fakes::FakeMetrics;
    let gs = stage();
    let s = deployed_and_polled(&gs).await;
    let event = json!({"state": s, "execution": {"Id": EXEC}});
    let (sns, metrics) = (FakeNotifier::default(), FakeMetrics::default());
    let aborts = FakeAbortRequests::new();
    aborts.request(RUN, "{}");
    let out = notify::handle_with(&sns, &metrics, &aborts, &event, T0 + Duration::minutes(4)).await;
    assert!(out.is_ok(), "{out:?}");
    let records = metrics.records();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(
        (
            r["GameName"].as_str(),
            r["StageName"].as_str(),
            r["Outcome"].as_str()
        ),
        (Some("space-raiders"), Some("prod"), Some("SUCCEEDED"))
    );
    assert_eq!(r["Runs"], 1);
    assert!(
        aborts.stored().is_empty(),
        "the ending deletes the run's abort request"
    );
    assert_eq!(r["Polls"], 1);
    assert_eq!(r["Rollbacks"], 0);
    // The message carries the same count and cost.
    let body = message_of(&sns.published()[0]);
    let cost = body.cost.unwrap_or_else(|| panic!("no cost"));
    assert_eq!(r["StateTransitions"], cost.state_transitions);
    assert_eq!(
        cost.state_transitions, 9,
        "Accept Start Route Wait Poll Route Notify Finish Succeeded"
    );

    // Nothing for a message that was not published, nor for an approval request.
    let (failing, metrics) = (FakeNotifier::default(), FakeMetrics::default());
    failing.fail_next(crate::ports::ServiceError::new(
        crate::ports::ServiceErrorKind::Internal,
        "Publish",
        "down",
    ));
    let lost = notify::handle_with(&failing, &metrics, &aborts, &event, T0).await;
    assert!(lost.is_err(), "{lost:?}");
    assert!(
        metrics.records().is_empty(),
        "not counted: it was not published"
    );
    let awaiting = super::operator_control::awaiting(&stage()).await;
    let request = json!({"approvalRequest": awaiting, "taskToken": "t", "execution": {"Id": EXEC}});
    let asked =
        notify::handle_with(&FakeNotifier::default(), &metrics, &aborts, &request, T0).await;
    assert!(asked.is_ok(), "{asked:?}");
    assert!(
        metrics.records().is_empty(),
        "an approval request is not an ending"
    );
}
