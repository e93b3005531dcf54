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
    let s = deployed_and_polled(&gs).await;
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

/// A deployment still running at its deadline is watched on into its grace window at the usual
/// backoff (not polled every second), and when the grace window ends it is reported as given up
/// on at that poll, whatever GameSparks last updated. (`poll::handle`: `now < deadline` to `<=`;
/// the deleted `Outcome::TimedOut` arm of `seen_at`.)
#[tokio::test]
async fn a_deployment_running_past_its_deadline_is_watched_then_given_up_at_the_grace_end() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let deadline = s.deployment.deadline;
    let at = polled(&gs, &s, deadline).await;
    assert_eq!(at.action, Action::Wait);
    assert!(
        at.wait_seconds >= 8,
        "backoff, not 1 s: {}",
        at.wait_seconds
    );
    let grace_end = deadline + Duration::seconds(1800);
    let ended = polled(&gs, &at, grace_end).await;
    assert_eq!(ended.deployment.outcome, Outcome::TimedOut);
    assert_eq!(ended.deployment.finished_at, Some(grace_end));
}

/// GameSparks may not list a deployment it just created: a NotFound within the first minute is
/// retried (`StageGate.Retryable`), from the minute on it is a deployment that is gone.
/// (`poll::handle`: `<` to `<=` on `READ_AFTER_WRITE_SECONDS`.)
#[tokio::test]
async fn not_found_is_read_after_write_lag_only_within_the_first_minute() {
    for (after, want) in [(59, types::RETRYABLE), (60, types::NOT_FOUND)] {
        let gs = stage();
        let s = started(&gs, S4).await;
        gs.fail_next(GET, svc(ServiceErrorKind::NotFound, "GetStageDeployment"));
        let event = serde_json::to_value(&s).unwrap_or_default();
        let now = s.deployment.started_at + Duration::seconds(after);
        let r = poll::handle(
            &gs,
            &FakeAlarms::new(),
            &FakeAbortRequests::new(),
            &event,
            &FixedClock(now),
        )
        .await;
        assert_eq!(error_type(r), want, "{after} s after the start");
    }
}

/// The abort channel failing for a moment (throttled) must not stop a gate watching its
/// deployment: a poll that waits goes on. One that would end the run, or start the next stage of
/// a wave, is retried instead, and says which. (`settled`: its match guard, the deleted
/// `Action::Advance` arm.)
#[tokio::test]
async fn a_hidden_abort_holds_up_only_the_steps_it_could_change() {
    let throttled = || svc(ServiceErrorKind::Throttled, "GetParameter");
    let gs = stage();
    let s = started(&gs, S4).await;
    let aborts = FakeAbortRequests::new();
    aborts.fail_next(throttled());
    let poll_with = |s: &GateState, now: OffsetDateTime| {
        let event = serde_json::to_value(s).unwrap_or_default();
        let (gs, aborts) = (&gs, &aborts);
        async move { poll::handle(gs, &FakeAlarms::new(), aborts, &event, &FixedClock(now)).await }
    };
    let waiting = poll_with(&s, T0 + Duration::minutes(1))
        .await
        .unwrap_or_else(|e| panic!("a poll that waits goes on: {e}"));
    assert_eq!(waiting.action, Action::Wait);
    assert!(waiting.abort_unreadable.is_some());
    // The first stage of a wave deployed: starting the next one waits for the abort channel.
    let gs = stage();
    let input = super::safety::wave_input(json!({}));
    let s = super::safety::start_with(&gs, &super::safety::quiet_alarms(), &input).await;
    super::safety::complete(&gs, &s.deployment.deployment_id);
    let aborts = FakeAbortRequests::new();
    aborts.fail_next(throttled());
    let event = serde_json::to_value(&s).unwrap_or_default();
    let r = poll::handle(
        &gs,
        &FakeAlarms::new(),
        &aborts,
        &event,
        &FixedClock(T0 + Duration::minutes(4)),
    )
    .await;
    let err = match r {
        Ok(s) => format!("not retried: {:?}", s.action),
        Err(e) => format!("{}: {e}", e.error_type()),
    };
    assert!(err.starts_with(types::RETRYABLE), "{err}");
    assert!(err.contains("before starting the next stage"), "{err}");
}

/// rollback-deployment redeploys only what poll-deployment decided to roll back: a run awaiting
/// approval, or one that already rolled back, is refused before anything reaches GameSparks.
/// (`rollback::handle`: `||` to `&&`.)
#[tokio::test]
async fn only_a_deployed_stage_without_a_rollback_is_rolled_back() {
    let gs = stage();
    let s = failed_and_polled(&gs, "boom").await;
    assert_eq!(s.action, Action::Rollback);
    let refused = |edit: &dyn Fn(&mut GateState)| {
        let mut state = s.clone();
        edit(&mut state);
        let event = serde_json::to_value(&state).unwrap_or_default();
        let gs = &gs;
        async move {
            match rollback::handle(gs, &event, &FixedClock(T0 + Duration::minutes(5))).await {
                Ok(_) => "accepted".to_owned(),
                Err(e) => e.to_string(),
            }
        }
    };
    let twice = refused(&|s| s.rollback = Some(s.deployment.clone())).await;
    assert!(twice.contains("never rolled back again"), "{twice}");
    let awaiting = refused(&|s| {
        s.phase = Phase::Approval;
        s.approval = Some(crate::approval::Approval::request(
            "prod",
            crate::approval::ApprovalSpec {
                timeout_seconds: 600,
            },
            Some(S2),
            T0,
        ));
    })
    .await;
    assert!(awaiting.contains("never rolled back again"), "{awaiting}");
    assert_eq!(gs.started_count(), 1, "only the deployment itself started");
}

/// The rollback's timeout runs from when GameSparks created it, not from when the function saw
/// the answer; a creation time ahead of the function's clock is not believed.
/// (`rollback::handle`: `created <= now` to `>`.)
#[tokio::test]
async fn the_rollbacks_timeout_runs_from_its_creation() {
    for (created_before, started_at_creation) in [(20, true), (-20, false)] {
        let gs = stage();
        let s = failed_and_polled(&gs, "boom").await;
        let now = T0 + Duration::minutes(5);
        let created = now - Duration::seconds(created_before);
        gs.set_now(created);
        let event = serde_json::to_value(&s).unwrap_or_default();
        let r = rollback::handle(&gs, &event, &FixedClock(now))
            .await
            .unwrap_or_else(|e| panic!("rollback failed: {e}"));
        let watch = r.rollback.unwrap_or_else(|| panic!("no rollback"));
        let want = if started_at_creation { created } else { now };
        assert_eq!(watch.started_at, want, "created {created_before} s before");
        assert_eq!(
            watch.deadline,
            want + Duration::seconds(1800),
            "created {created_before} s before"
        );
    }
}

/// An approval asked for on a later stage of a wave is asked for when the wave reaches that
/// stage, before anything of it is deployed; the first stage's approval is asked once, at the
/// start (docs/operator-control.md, "Approvals"). (`start::handle_with`: `i > 0` to `== 0`, `< 0`,
/// `>= 0` for the wave's approvals.)
#[tokio::test]
async fn a_wave_asks_for_a_later_stages_approval_when_it_gets_there() {
    let gs = stage();
    let input = with_input_stages(
        json!(["dev", {"stageName": "prod", "approval": {"timeoutSeconds": 600}}]),
    );
    let s = super::safety::start_with(&gs, &FakeAlarms::new(), &input).await;
    assert_eq!((s.stage_name.as_str(), s.action), ("dev", Action::Wait));
    super::safety::complete(&gs, &s.deployment.deployment_id);
    let s = polled(&gs, &s, T0 + Duration::minutes(4)).await;
    assert_eq!(s.action, Action::Advance, "{}", s.reason);
    let next = advance(&gs, &s).await;
    assert_eq!(
        (next.stage_name.as_str(), next.phase, next.action),
        ("prod", Phase::Approval, Action::Approve),
        "{}",
        next.reason
    );
    assert_eq!(
        gs.started_count(),
        1,
        "nothing of prod deployed before the approval"
    );
    // An approval of the first stage is asked at the start, and never again by the wave.
    let gs = stage();
    let input = with_input_stages(
        json!([{"stageName": "dev", "approval": {"timeoutSeconds": 600}}, "prod"]),
    );
    let s = super::safety::start_with(&gs, &FakeAlarms::new(), &input).await;
    assert_eq!((s.stage_name.as_str(), s.action), ("dev", Action::Approve));
    let approved = super::operator_control::answered(
        &gs,
        &s,
        super::operator_control::answer("APPROVE", "ok"),
        T0 + Duration::minutes(1),
    )
    .await
    .unwrap_or_else(|e| panic!("answer failed: {e}"));
    assert_eq!(approved.action, Action::Wait, "{}", approved.reason);
    super::safety::complete(&gs, &approved.deployment.deployment_id);
    let s = polled(&gs, &approved, T0 + Duration::minutes(4)).await;
    let next = advance(&gs, &s).await;
    assert_eq!(
        (next.stage_name.as_str(), next.action),
        ("prod", Action::Wait),
        "{}",
        next.reason
    );
}

fn with_input_stages(stages: Value) -> Value {
    super::safety::with_input(json!({ "stages": stages }))
}

/// start-deployment's `advance` entry, as the workflow calls it after poll said `advance`.
async fn advance(gs: &FakeGameSparks, state: &GateState) -> GateState {
    let now = T0 + Duration::minutes(5);
    gs.set_now(now);
    let event = json!({ "advance": state });
    start::handle(gs, &FakeAlarms::new(), &event, "r", &FixedClock(now))
        .await
        .unwrap_or_else(|e| panic!("advance failed: {e}"))
}

/// The answer task acts only on a state still awaiting its answer: a state whose approval was
/// already answered (a replayed or hand-made event), or that asks for another step, is refused
/// and nothing is started. (`start::answered`: each `||` to `&&`.)
#[tokio::test]
async fn an_answer_is_taken_only_by_a_run_still_awaiting_one() {
    use super::operator_control::{answer, answered, awaiting};
    let gs = stage();
    let s = awaiting(&gs).await;
    let refusal = |edit: &dyn Fn(&mut GateState)| {
        let mut state = s.clone();
        edit(&mut state);
        let gs = &gs;
        async move {
            match answered(
                gs,
                &state,
                answer("APPROVE", "ok"),
                T0 + Duration::minutes(1),
            )
            .await
            {
                Ok(s) => format!("accepted: {:?}", s.action),
                Err(e) => e.to_string(),
            }
        }
    };
    let already = refusal(&|s| {
        if let Some(a) = s.approval.as_mut() {
            a.answer = Some(crate::approval::Answer {
                decision: crate::approval::Decision::Reject,
                by: None,
                reason: None,
                at: T0,
                signature: None,
            });
        }
    })
    .await;
    assert!(already.contains("`approved.action`"), "{already}");
    let other_step = refusal(&|s| s.action = Action::Wait).await;
    assert!(other_step.contains("`approved.action`"), "{other_step}");
    assert_eq!(gs.started_count(), 0, "nothing started");
}

/// start-deployment reads the template's freeze windows from its environment at cold start
/// (docs/operator-control.md, "Freeze windows"); no other test of this crate reads the variable,
/// so setting it here races nothing. (`Settings::from_env` replaced by the default.)
#[test]
fn the_start_function_reads_its_freeze_windows_from_the_environment() {
    let windows =
        r#"[{"name": "launch", "start": "2026-03-01T11:00:00Z", "end": "2026-03-01T13:00:00Z"}]"#;
    std::env::set_var(start::FREEZE_WINDOWS_VAR, windows);
    let settings = start::Settings::from_env();
    std::env::remove_var(start::FREEZE_WINDOWS_VAR);
    let names: Vec<Option<String>> = settings
        .unwrap_or_else(|e| panic!("settings: {e}"))
        .freeze_windows
        .iter()
        .map(|w| w.name.clone())
        .collect();
    assert_eq!(names, [Some("launch".to_owned())]);
}

/// An answer that would end the run (a rejection) while a throttle hid the abort channel is
/// retried: an abort written meanwhile must win, as the operator was told. An approval goes on:
/// the stage's start reads the channel again before deploying. (`start::answered`:
/// `decision != Approve` to `==`.)
#[tokio::test]
async fn a_hidden_abort_holds_up_a_rejection_but_not_an_approval() {
    for (decision, retried) in [("REJECT", true), ("APPROVE", false)] {
        let gs = stage();
        let s = super::operator_control::awaiting(&gs).await;
        let aborts = FakeAbortRequests::new();
        aborts.fail_next(svc(ServiceErrorKind::Throttled, "GetParameter"));
        let r = super::operator_control::answered_with(
            &gs,
            &aborts,
            &s,
            super::operator_control::answer(decision, "ok"),
            T0 + Duration::minutes(6),
        )
        .await;
        match r {
            Err(e) => {
                assert!(retried, "{decision}: {e}");
                assert_eq!(e.error_type(), types::RETRYABLE, "{decision}: {e}");
            }
            Ok(s) => {
                assert!(!retried, "{decision} ended {:?}: {}", s.action, s.reason);
                assert_eq!(s.action, Action::Wait, "{decision}: {}", s.reason);
                assert_eq!(gs.started_count(), 1);
            }
        }
    }
}

/// A wave advances only past a stage that passed its gate: one still baking (its window open,
/// no failure yet) is not promoted, whoever asks. (`start::advance`: `&&` to `||` in
/// `bake_passed`, `|| !bake_passed` to `&&`.)
#[tokio::test]
async fn a_wave_does_not_advance_past_a_stage_still_baking() {
    let (gs, alarms) = (stage(), super::safety::quiet_alarms());
    let input = with_input_stages(json!([
        {"stageName": "dev", "bake": super::safety::bake(120)},
        "prod"
    ]));
    let s = super::safety::start_with(&gs, &alarms, &input).await;
    super::safety::complete(&gs, &s.deployment.deployment_id);
    let mut baking = super::safety::poll_at(&gs, &alarms, &s, T0 + Duration::minutes(4)).await;
    assert_eq!(baking.phase, Phase::Bake, "{}", baking.reason);
    baking.action = Action::Advance;
    let event = json!({ "advance": baking });
    let r = start::handle(
        &gs,
        &alarms,
        &event,
        "r",
        &FixedClock(T0 + Duration::minutes(5)),
    )
    .await;
    let refused = match r {
        Ok(s) => format!("advanced to {}", s.stage_name),
        Err(e) => e.to_string(),
    };
    assert!(refused.contains("`advance.outcome`"), "{refused}");
    assert_eq!(gs.started_count(), 1, "prod was not started");
}

/// An answer that is not an abort, to a run whose abort request was read meanwhile, ends the run
/// as the abort asked, and says who aborted, not who rejected. (`start::answered`: the
/// `state.abort.is_some()` guard.)
#[tokio::test]
async fn a_rejection_after_an_abort_request_says_who_aborted() {
    let gs = stage();
    let s = super::operator_control::awaiting(&gs).await;
    let aborts = FakeAbortRequests::new();
    aborts.request(
        RUN,
        r#"{"by": "arn:aws:iam::1:user/ops", "reason": "bad build", "at": "2026-03-01T12:05:00Z"}"#,
    );
    let ended = super::operator_control::answered_with(
        &gs,
        &aborts,
        &s,
        super::operator_control::answer("REJECT", "not now"),
        T0 + Duration::minutes(6),
    )
    .await
    .unwrap_or_else(|e| panic!("answer failed: {e}"));
    assert_eq!(ended.action, Action::Alert);
    assert!(
        ended
            .reason
            .starts_with("aborted by arn:aws:iam::1:user/ops (bad build) while awaiting approval"),
        "{}",
        ended.reason
    );
}

/// Before a stage starts, its bake alarms are read once more (a firing alarm refuses the start).
/// If they cannot be read, the start fails (and is retried) unless the input says to ignore read
/// errors, in which case the stage starts (docs/input.md, bake windows). Checked at the start
/// after an approval, where nothing read the alarms just before. (`start_stage`: the
/// `spec.ignore_alarm_read_errors` guard.)
#[tokio::test]
async fn unreadable_alarms_stop_a_start_unless_the_input_ignores_read_errors() {
    for ignore in [false, true] {
        let (gs, alarms) = (stage(), super::safety::quiet_alarms());
        let mut bake = super::safety::bake(120);
        bake["ignoreAlarmReadErrors"] = json!(ignore);
        let input =
            super::safety::with_input(json!({"bake": bake, "approval": {"timeoutSeconds": 600}}));
        let s = super::safety::start_with(&gs, &alarms, &input).await;
        assert_eq!(s.action, Action::Approve, "{}", s.reason);
        alarms.fail_next(svc(ServiceErrorKind::Throttled, "DescribeAlarms"));
        let mut event = serde_json::to_value(&s).unwrap_or_default();
        event["approvalAnswer"] =
            super::operator_control::signed(&s, super::operator_control::answer("APPROVE", "ok"));
        let r = start::handle_with(
            &gs,
            &alarms,
            &super::operator_control::WithKey(&crate::ports::NoAbortRequests),
            &json!({ "approved": event }),
            "r",
            &FixedClock(T0 + Duration::minutes(6)),
            &start::Settings::default(),
        )
        .await;
        started_only_if_ignoring(&gs, r, ignore);
    }
}

/// A retried start that finds the deployment its first attempt started (and GameSparks already
/// ended) watches it from when GameSparks created it: the deadline stays where the first attempt
/// put it, however late the retry (docs/workflow.md, "Retries that race a new snapshot").
/// (`reattach`: `created <= now` to `>`.)
#[tokio::test]
async fn a_retried_start_keeps_the_deadline_of_the_deployment_it_reattaches_to() {
    let gs = stage();
    let first = started(&gs, S4).await;
    finish(
        &gs,
        &first.deployment.deployment_id,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "ok",
    );
    let retried = retried_start(&gs, 7).await;
    assert!(
        retried.reason.starts_with("re-attached"),
        "{}",
        retried.reason
    );
    assert_eq!(
        retried.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(
        (retried.deployment.started_at, retried.deployment.deadline),
        (first.deployment.started_at, first.deployment.deadline)
    );
    assert_eq!(gs.started_count(), 1);
}

/// At the run's first start the alarms a bake names are looked up before anything else (a
/// misspelt alarm is an input error): unreadable, they stop the start unless the input ignores
/// read errors. (`check_alarms_exist`: the `spec.ignore_alarm_read_errors` guard.)
#[tokio::test]
async fn unreadable_alarms_stop_the_first_start_unless_the_input_ignores_read_errors() {
    for ignore in [false, true] {
        let (gs, alarms) = (stage(), super::safety::quiet_alarms());
        let mut bake = super::safety::bake(120);
        bake["ignoreAlarmReadErrors"] = json!(ignore);
        let input = super::safety::with_input(json!({ "bake": bake }));
        alarms.fail_next(svc(ServiceErrorKind::Throttled, "DescribeAlarms"));
        let r = start::handle(&gs, &alarms, &input, "r", &FixedClock(T0)).await;
        started_only_if_ignoring(&gs, r, ignore);
    }
}

/// The first stage of a wave refused by GameSparks (another deployment holds it) fails the task
/// as a single stage does (`StageGate.DeploymentInProgress`, which the workflow reports as
/// BLOCKED): nothing of the wave was deployed. Only a later stage reports the block in the state,
/// so the message can say which stages the snapshot reached. (`is_later_stage`: `>` to `>=`.)
#[tokio::test]
async fn a_wave_refused_at_its_first_stage_fails_as_a_single_stage_does() {
    let gs = stage();
    gs.fail_next(
        START,
        svc(ServiceErrorKind::Conflict, "StartStageDeployment"),
    );
    let input = with_input_stages(json!(["dev", "prod"]));
    let r = start::handle(&gs, &FakeAlarms::new(), &input, "r", &FixedClock(T0)).await;
    assert_eq!(error_type(r), types::DEPLOYMENT_IN_PROGRESS);
}

/// rollback-deployment refuses a BAKE state without its window, as poll-deployment does: only
/// the core's own decision rolls back, and a bake decided nothing without its window.
/// (`parse_state`: `||` to `&&` in the BAKE check, which poll's own check hides.)
#[tokio::test]
async fn a_bake_without_its_window_is_not_rolled_back() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let mut state = s.clone();
    state.phase = Phase::Bake;
    state.action = Action::Rollback;
    state.previous_snapshot_id = Some(S2.into());
    state.bake = Some(crate::bake::BakeSpec {
        seconds: 600,
        alarm_names: vec!["errors".into()],
        check_interval_seconds: 60,
        fail_on_insufficient_data: false,
        ignore_alarm_read_errors: false,
    });
    let event = serde_json::to_value(&state).unwrap_or_default();
    let refused = match rollback::handle(&gs, &event, &FixedClock(T0 + Duration::minutes(5))).await
    {
        Ok(s) => format!("rolled back: {}", s.reason),
        Err(e) => e.to_string(),
    };
    assert!(refused.contains("`bakeWindow`"), "{refused}");
    assert_eq!(gs.started_count(), 1);
}

/// A retried start whose first attempt's deployment still runs replays the request with its
/// ClientToken (GameSparks answers with the same deployment), while one that already ended is
/// watched without another request (docs/workflow.md: "a running one is replayed through its
/// ClientToken, a finished one is watched by the next poll"). (`start_stage`: `&&` to `||` in
/// the re-attach filter.)
#[tokio::test]
async fn a_retried_start_replays_its_token_while_its_deployment_runs() {
    let gs = stage();
    let first = started(&gs, S4).await;
    let retried = retried_start(&gs, 1).await;
    let tokens: Vec<String> = gs.starts().iter().map(|c| c.client_token.clone()).collect();
    assert_eq!(tokens.len(), 2, "the retry asked GameSparks again");
    assert_eq!(tokens[0], tokens[1], "with the same token");
    assert_eq!(gs.started_count(), 1, "one deployment");
    assert_eq!(
        retried.deployment.deployment_id,
        first.deployment.deployment_id
    );
    assert_eq!(retried.reason, "deployment started");
}

/// A start whose alarms could not be read: it deploys (and waits) only when the bake ignores
/// read errors; otherwise it fails as retryable with nothing started.
fn started_only_if_ignoring(
    gs: &FakeGameSparks,
    r: Result<GateState, crate::GateError>,
    ignore: bool,
) {
    match r {
        Ok(s) => {
            assert!(ignore, "started with unreadable alarms: {}", s.reason);
            assert_eq!(s.action, Action::Wait, "{}", s.reason);
        }
        Err(e) => {
            assert!(!ignore, "ignoring read errors, still refused: {e}");
            assert_eq!(e.error_type(), types::RETRYABLE, "{e}");
        }
    }
    assert_eq!(gs.started_count(), usize::from(ignore), "ignore={ignore}");
}

/// The same execution's start of S4 again (Step Functions retrying it), `minutes` after T0.
async fn retried_start(gs: &FakeGameSparks, minutes: i64) -> GateState {
    start::handle(
        gs,
        &FakeAlarms::new(),
        &input(S4),
        "req-1",
        &FixedClock(T0 + Duration::minutes(minutes)),
    )
    .await
    .unwrap_or_else(|e| panic!("retried start failed: {e}"))
}
