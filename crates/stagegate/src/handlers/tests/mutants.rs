//! Handler behaviour that `cargo xtask mutants` found no test pinned down (docs/testing.md): each
//! test here is a decision of a handler, checked through the handler as the workflow calls it,
//! and kills the mutants named in its comment. Kept apart from the files of each function so the
//! mutation report and its tests can be read together.

use super::*;

/// poll-deployment on `event`, refused: the error's text (`field \`...\`: ...`), or "accepted".
async fn poll_refusal(gs: &FakeGameSparks, event: &Value) -> String {
    match poll::handle(
        gs,
        &FakeAlarms::new(),
        &FakeAbortRequests::new(),
        event,
        &FixedClock(T0 + Duration::minutes(1)),
    )
    .await
    {
        Ok(_) => "accepted".into(),
        Err(e) => format!("{}: {e}", e.error_type()),
    }
}

/// `parse_state`: what reaches GameSparks is checked again, whoever wrote the state. A started
/// deployment always has a valid id; one the gate never started may have none, but not a broken
/// one; a bake has its window; a rollback's id is checked once it has one; an approval phase has
/// its approval. (Mutants of `handlers/mod.rs` `parse_state`: `&&`/`||` swaps, match guards.)
#[tokio::test]
async fn a_state_is_checked_again_before_anything_reaches_gamesparks() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let refusal = |edit: &dyn Fn(&mut GateState)| {
        let mut state = s.clone();
        edit(&mut state);
        let event = serde_json::to_value(&state).unwrap_or_default();
        let gs = &gs;
        async move { poll_refusal(gs, &event).await }
    };
    // A deployment being watched without an id.
    let refused = refusal(&|s| s.deployment.deployment_id.clear()).await;
    assert!(
        refused.starts_with(types::INVALID_INPUT) && refused.contains("`deploymentId`"),
        "{refused}"
    );
    // One never started (blocked) may have no id, but an id it has must be valid.
    let refused = refusal(&|s| {
        s.deployment.outcome = Outcome::Blocked;
        s.deployment.deployment_id = " dep-1".into();
    })
    .await;
    assert!(refused.contains("`deploymentId`"), "{refused}");
    // A bake without its window cannot be checked.
    let refused = refusal(&|s| {
        s.phase = Phase::Bake;
        s.bake = Some(crate::bake::BakeSpec {
            seconds: 600,
            alarm_names: vec!["errors".into()],
            check_interval_seconds: 60,
            fail_on_insufficient_data: false,
            ignore_alarm_read_errors: false,
        });
    })
    .await;
    assert!(refused.contains("`bakeWindow`"), "{refused}");
    // A rollback's id, once GameSparks gave one, is checked like the deployment's.
    let refused = refusal(&|s| {
        s.phase = Phase::Rollback;
        let mut rollback = s.deployment.clone();
        rollback.deployment_id = "rb-1\n".into();
        s.rollback = Some(rollback);
    })
    .await;
    assert!(refused.contains("`rollback.deploymentId`"), "{refused}");
    // A run awaiting approval carries the request it waits on.
    let refused = refusal(&|s| s.phase = Phase::Approval).await;
    assert!(refused.contains("`approval`"), "{refused}");
    assert!(!gs.calls().contains(&GET), "nothing reached GameSparks");
}

/// An abort request is this run's when written at most 5 minutes before the run began (an
/// operator's clock behind by that much), not a second more (docs/operator-control.md: "written
/// before the run began, beyond 5 minutes of clock skew, is not acted on"). (`read_abort`: `<`
/// to `<=`.)
#[tokio::test]
async fn an_abort_written_within_the_clock_skew_before_the_run_is_acted_on() {
    // The run began at 11:59:58 (`input`).
    for (at, acted_on) in [
        ("2026-03-01T11:54:58Z", true),
        ("2026-03-01T11:54:57Z", false),
    ] {
        let gs = stage();
        let s = started(&gs, S4).await;
        let aborts = FakeAbortRequests::new();
        aborts.request(
            RUN,
            &json!({"by": "arn:aws:iam::1:user/ana", "reason": "wrong build", "at": at})
                .to_string(),
        );
        let event = serde_json::to_value(&s).unwrap_or_default();
        let polled = poll::handle(
            &gs,
            &FakeAlarms::new(),
            &aborts,
            &event,
            &FixedClock(T0 + Duration::minutes(1)),
        )
        .await
        .unwrap_or_else(|e| panic!("poll failed: {e}"));
        assert_eq!(polled.abort.is_some(), acted_on, "written at {at}");
        assert_eq!(
            polled.abort_unreadable.is_some(),
            !acted_on,
            "written at {at}"
        );
    }
}

/// The metrics record of an ending is stamped with the ending's time, in milliseconds (EMF's
/// `Timestamp`): CloudWatch files the run's figures at that minute. (`handle_with`: `/` to `*`
/// and `%`.)
#[tokio::test]
async fn the_metrics_record_is_stamped_with_the_ending_in_milliseconds() {
    use crate::fakes::FakeMetrics;
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
    let event = json!({"state": s, "execution": {"Id": EXEC}});
    let metrics = FakeMetrics::default();
    let ended = T0 + Duration::minutes(4) + Duration::milliseconds(250);
    let out = notify::handle_with(
        &FakeNotifier::default(),
        &metrics,
        &FakeAbortRequests::new(),
        &event,
        ended,
    )
    .await;
    assert!(out.is_ok(), "{out:?}");
    let records = metrics.records();
    assert_eq!(records.len(), 1);
    let ms = i64::try_from(ended.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
    assert_eq!(ms, 1_772_366_640_250);
    assert_eq!(records[0]["_aws"]["Timestamp"], json!(ms));
}

/// notify-result publishes an approval request only for a state that awaits an approval: one
/// that asks for another step, even with an approval on record, is refused and nothing is
/// published (the wait then fails and nothing is deployed). (`request_approval`: `||` to `&&`.)
#[tokio::test]
async fn only_a_state_awaiting_approval_is_published_as_a_request() {
    let mut s = super::operator_control::awaiting(&stage()).await;
    s.action = Action::Wait;
    let sns = FakeNotifier::default();
    let event = json!({"approvalRequest": s, "taskToken": "t", "execution": {"Id": EXEC}});
    let refused = notify::handle(&sns, &event, T0).await;
    let refused = match refused {
        Ok(out) => format!("published: {out:?}"),
        Err(e) => e.to_string(),
    };
    assert!(refused.contains("`approvalRequest.action`"), "{refused}");
    assert!(sns.published().is_empty());
}
