//! Approvals and aborts: a person's say in a run. Nothing is deployed before an approval, a
//! rejection or timeout or abort while waiting deploys nothing, and an abort of a stage being
//! deployed or baked rolls it back as soon as GameSparks allows.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::safety::{baking, minutes, quiet_alarms, start_with, wave_input, with_input};
use super::{finish, notified, polled, rolled_back, stage, EXEC, RUN, S2, S4, T0};
use crate::approval::Decision;
use crate::classify::Outcome;
use crate::clock::FixedClock;
use crate::deployment::{DeploymentState, ResultCode};
use crate::fakes::{FakeAbortRequests, FakeAlarms, FakeGameSparks};
use crate::handlers::{notify, poll, start};
use crate::policy::{Action, Phase};
use crate::state::GateState;
use crate::verdict::Verdict;

pub(super) fn approval_input(timeout: u64) -> Value {
    with_input(json!({"approval": {"timeoutSeconds": timeout}}))
}

/// The run's state once it asked for approval of prod (nothing started).
pub(super) async fn awaiting(gs: &FakeGameSparks) -> GateState {
    start_with(gs, &FakeAlarms::new(), &approval_input(600)).await
}

/// What the workflow hands start-deployment after the wait: the state with `approvalAnswer`.
pub(super) async fn answered(
    gs: &FakeGameSparks,
    state: &GateState,
    answer: Value,
    now: OffsetDateTime,
) -> Result<GateState, crate::error::GateError> {
    answered_with(gs, &crate::ports::NoAbortRequests, state, answer, now).await
}

/// `answered`, with the abort channel the start reads before it deploys. A person's answer goes
/// through the answer function, which signs it: so does this (`signed`), with the key the channel
/// serves (`WithKey`). The tests of unsigned and forged answers send theirs with `answered_raw`.
pub(super) async fn answered_with(
    gs: &FakeGameSparks,
    aborts: &impl crate::ports::AbortRequests,
    state: &GateState,
    answer: Value,
    now: OffsetDateTime,
) -> Result<GateState, crate::error::GateError> {
    let answer = signed(state, answer);
    answered_raw(gs, &WithKey(aborts), state, answer, now).await
}

/// The workflow hands start-deployment `answer` as it is, over `aborts` (and its key, if any).
pub(super) async fn answered_raw(
    gs: &FakeGameSparks,
    aborts: &impl crate::ports::AbortRequests,
    state: &GateState,
    answer: Value,
    now: OffsetDateTime,
) -> Result<GateState, crate::error::GateError> {
    let mut event = serde_json::to_value(state).unwrap_or_default();
    event["approvalAnswer"] = answer;
    start::handle_with(
        gs,
        &FakeAlarms::new(),
        aborts,
        &json!({ "approved": event }),
        "r",
        &FixedClock(now),
        &start::Settings::default(),
    )
    .await
}

/// The key the tests' answer function signs with.
pub(super) const ANSWER_KEY: [u8; 32] = [42; 32];

pub(super) fn answer_key_text() -> String {
    aws_smithy_types::base64::encode(ANSWER_KEY)
}

/// `answer` (a person's, with `decision`, `by`, `reason` and `at`) signed for `state`'s approval
/// as the answer function signs it; anything else (the wait's timeout, garbage) as it is.
pub(super) fn signed(state: &GateState, answer: Value) -> Value {
    let (Some(approval), Ok(mut parsed)) = (
        state.approval.as_ref(),
        serde_json::from_value::<crate::approval::Answer>(answer.clone()),
    ) else {
        return answer;
    };
    if parsed.signature.is_some() || parsed.decision == Decision::TimedOut {
        return answer;
    }
    let signed = parsed.signed(state.run(), approval);
    parsed.signature = Some(
        crate::approval::signature::sign(&ANSWER_KEY, &signed).unwrap_or_else(|e| panic!("{e}")),
    );
    serde_json::to_value(parsed).unwrap_or_else(|e| panic!("{e}"))
}

/// An abort channel that also serves the answer key (`ANSWER_KEY`), as start-deployment's SSM
/// adapter does.
pub(super) struct WithKey<'a, R>(pub &'a R);

impl<R: crate::ports::AbortRequests> crate::ports::AbortRequests for WithKey<'_, R> {
    async fn abort_request(
        &self,
        run_id: &str,
    ) -> Result<Option<String>, crate::ports::ServiceError> {
        self.0.abort_request(run_id).await
    }

    async fn clear_abort_request(&self, run_id: &str) -> Result<(), crate::ports::ServiceError> {
        self.0.clear_abort_request(run_id).await
    }

    async fn answer_key(
        &self,
        _run_id: &str,
    ) -> Result<Option<String>, crate::ports::ServiceError> {
        Ok(Some(answer_key_text()))
    }
}

pub(super) fn answer(decision: &str, reason: &str) -> Value {
    json!({"decision": decision, "by": "arn:aws:iam::123456789012:user/ana", "reason": reason,
           "at": "2026-03-01T12:05:00Z"})
}

pub(super) const TIMED_OUT: fn() -> Value =
    || json!({"Error": "States.Timeout", "Cause": "The task timed out"});

#[tokio::test]
async fn an_approval_is_asked_before_anything_is_deployed() {
    let gs = stage();
    let s = awaiting(&gs).await;
    assert_eq!((s.phase, s.action), (Phase::Approval, Action::Approve));
    assert_eq!(gs.starts().len(), 0, "nothing started before the approval");
    let approval = s.approval.as_ref().unwrap_or_else(|| panic!("no approval"));
    assert_eq!(approval.timeout_seconds, 600);
    assert_eq!(approval.expires_at, T0 + Duration::seconds(600));
    assert_eq!(approval.serving_snapshot_id.as_deref(), Some(S2));
    assert_eq!(
        s.deployment.snapshot_id, S4,
        "the approver sees the resolved snapshot"
    );
    // The request is published with what awaits approval and how to answer.
    let sns = crate::fakes::FakeNotifier::default();
    let event = json!({"approvalRequest": s, "taskToken": "tok", "execution": {"Id": EXEC}});
    let out = notify::handle(&sns, &event, T0).await;
    assert_eq!(out.map(|o| o.outcome).ok(), Some(Verdict::AwaitingApproval));
    let published = sns.published();
    assert_eq!(published.len(), 1);
    assert!(
        !published[0].message.contains("tok"),
        "the task token is never published"
    );
    let body = super::message_of(&published[0]);
    assert!(
        body.summary.contains("stagegate approve --execution-arn")
            && body.summary.contains(S4)
            && body.summary.contains(S2),
        "{}",
        body.summary
    );
}

#[tokio::test]
async fn the_approval_request_states_the_plan() {
    // What a yes sets going: the bake and its alarms, where a failure would roll back to, and
    // the wave's stages still to come; an approver should not need the execution input.
    let (gs, alarms) = (stage(), quiet_alarms());
    let input = wave_input(json!({"approval": {"timeoutSeconds": 600}}));
    let s = start_with(&gs, &alarms, &input).await;
    assert_eq!(s.action, Action::Approve);
    let summary = request_summary(&s).await;
    assert!(
        summary.contains("If approved: deploy to dev, then staging, then prod (bake 120 s, 2 alarms); a failure on dev rolls back to"),
        "{summary}"
    );
    let s = start_with(&gs, &alarms, &approval_input(600)).await;
    let summary = request_summary(&s).await;
    assert!(
        summary.contains(&format!(
            "a failure on prod rolls back to {S2} where the policy says rollback."
        )),
        "{summary}"
    );
    assert!(
        summary.contains("If approved: deploy to prod (no bake)"),
        "{summary}"
    );
    let all_alert = json!({"onInvalidRole": "alert", "onUnspecifiedFailure": "alert",
        "onTimeout": "alert", "onBakeFailure": "alert"});
    let input = with_input(json!({"approval": {"timeoutSeconds": 600}, "policy": all_alert}));
    let summary = request_summary(&start_with(&gs, &alarms, &input).await).await;
    assert!(
        summary.contains("a failure alerts (the policy never rolls back)."),
        "{summary}"
    );
}

/// The published summary of an approval request.
async fn request_summary(s: &GateState) -> String {
    let sns = crate::fakes::FakeNotifier::default();
    let event = json!({"approvalRequest": s, "taskToken": "tok", "execution": {"Id": EXEC}});
    let out = notify::handle(&sns, &event, T0)
        .await
        .unwrap_or_else(|e| panic!("the approval request was not published: {e}"));
    assert_eq!(out.outcome, Verdict::AwaitingApproval);
    let published = sns.published();
    assert_eq!(published.len(), 1, "one request");
    super::message_of(&published[0]).summary
}

#[tokio::test]
async fn approved_starts_the_stage_and_records_who_answered() {
    let gs = stage();
    let s = awaiting(&gs).await;
    let s = answered(&gs, &s, answer("APPROVE", "looks good"), minutes(5))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.phase, s.action), (Phase::Deploy, Action::Wait));
    assert_eq!(gs.starts().len(), 1);
    let a = s
        .approval
        .as_ref()
        .and_then(|a| a.answer.as_ref())
        .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(a.decision, Decision::Approve);
    assert_eq!(a.by.as_deref(), Some("arn:aws:iam::123456789012:user/ana"));
    // And it ends as an ordinary success, the approval in the message.
    finish(
        &gs,
        "dep-1",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "ok",
    );
    let done = polled(&gs, &s, minutes(9)).await;
    let (out, body, _) =
        notified(&serde_json::to_value(&done).unwrap_or_default(), minutes(9)).await;
    assert_eq!(out.outcome, Verdict::Succeeded);
    assert_eq!(
        body.approval.and_then(|a| a.answer).map(|a| a.decision),
        Some(Decision::Approve)
    );
}

#[tokio::test]
async fn rejected_timed_out_and_aborted_approvals_deploy_nothing() {
    for (reply, verdict, says) in [
        (
            answer("REJECT", "not tonight"),
            Verdict::Rejected,
            "rejected by arn:aws:iam::123456789012:user/ana (not tonight)",
        ),
        (
            TIMED_OUT(),
            Verdict::ApprovalTimedOut,
            "nobody answered the approval within 600 s",
        ),
        (
            answer("ABORT", "wrong build"),
            Verdict::Aborted,
            "Aborted by arn:aws:iam::123456789012:user/ana (wrong build) while it awaited approval",
        ),
    ] {
        let gs = stage();
        let s = awaiting(&gs).await;
        let s = answered(&gs, &s, reply, minutes(10))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gs.starts().len(), 0, "{verdict:?}: nothing deployed");
        assert_eq!((s.phase, s.action), (Phase::Approval, Action::Alert));
        let (out, body, sns) =
            notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(10)).await;
        assert_eq!(out.outcome, verdict);
        assert!(!out.succeeded);
        assert_eq!(out.error, format!("StageGate.{}", verdict.as_str()));
        assert!(body.summary.contains(says), "{verdict:?}: {}", body.summary);
        assert_eq!(sns.published().len(), 1, "one notification");
    }
}

#[tokio::test]
async fn an_answer_nobody_can_read_deploys_nothing_and_names_the_field() {
    let gs = stage();
    let s = awaiting(&gs).await;
    for (reply, field) in [
        (
            json!({"decision": "YES", "at": "2026-03-01T12:05:00Z"}),
            "approved.approvalAnswer.decision",
        ),
        (
            json!({"Error": "States.TaskFailed", "Cause": "x"}),
            "approved.approvalAnswer.Error",
        ),
        (Value::Null, "approved.approvalAnswer"),
    ] {
        let err = answered(&gs, &s, reply, minutes(5)).await.err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(field), "{text}");
    }
    assert_eq!(gs.starts().len(), 0);
    // A state that is not awaiting approval is refused: a routing mistake never deploys.
    let running = start_with(&gs, &FakeAlarms::new(), &with_input(json!({}))).await;
    let err = answered(&gs, &running, answer("APPROVE", "x"), minutes(5))
        .await
        .err();
    assert!(err
        .map(|e| e.to_string())
        .unwrap_or_default()
        .contains("approved.action"));
}

#[tokio::test]
async fn approval_input_is_validated_by_field() {
    let gs = stage();
    for (extra, field) in [
        (
            json!({"approval": {"timeoutSeconds": 30}}),
            "input.approval.timeoutSeconds",
        ),
        (
            json!({"approval": {"timeoutSeconds": 60, "heartbeat": 5}}),
            "input.approval.heartbeat",
        ),
        (
            json!({"stages": [{"stageName": "dev"}, {"stageName": "prod", "approval": {"timeoutSeconds": 90000}}]}),
            "input.stages[1].approval.timeoutSeconds",
        ),
        (
            json!({"approval": {"timeoutSeconds": 60}, "stages": [{"stageName": "dev", "approval": {"timeoutSeconds": 60}}]}),
            "input.approval",
        ),
    ] {
        let err = start::handle(
            &gs,
            &FakeAlarms::new(),
            &with_input(extra),
            "r",
            &FixedClock(T0),
        )
        .await
        .err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(&format!("`{field}`")), "{field}: {text}");
    }
}

async fn poll_aborting(
    gs: &FakeGameSparks,
    alarms: &FakeAlarms,
    aborts: &FakeAbortRequests,
    state: &GateState,
    now: OffsetDateTime,
) -> GateState {
    let event = serde_json::to_value(state).unwrap_or_default();
    match poll::handle(gs, alarms, aborts, &event, &FixedClock(now)).await {
        Ok(s) => s,
        Err(e) => panic!("poll failed: {e}"),
    }
}

const ABORT: &str = r#"{"by": "arn:aws:iam::123456789012:user/ana", "reason": "players report crashes", "at": "2026-03-01T12:02:00Z"}"#;

#[tokio::test]
async fn an_abort_during_the_deployment_waits_for_it_to_end_then_rolls_back() {
    let gs = stage();
    let aborts = FakeAbortRequests::new();
    let s = start_with(&gs, &FakeAlarms::new(), &with_input(json!({}))).await;
    aborts.request(RUN, ABORT);
    // Still running: GameSparks would refuse a rollback, so the gate waits.
    let s = poll_aborting(&gs, &FakeAlarms::new(), &aborts, &s, minutes(2)).await;
    assert_eq!(s.action, Action::Wait);
    assert!(
        s.reason
            .contains("aborted by arn:aws:iam::123456789012:user/ana"),
        "{}",
        s.reason
    );
    assert!(s.abort.is_some());
    // It succeeds: an abort rolls it back anyway, instead of baking or succeeding.
    finish(
        &gs,
        "dep-1",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "ok",
    );
    let reads = aborts.reads();
    let s = poll_aborting(&gs, &FakeAlarms::new(), &aborts, &s, minutes(4)).await;
    assert_eq!(
        aborts.reads(),
        reads,
        "read once: the state keeps the request"
    );
    assert_eq!(s.action, Action::Rollback);
    let s = rolled_back(&gs, &s, minutes(5)).await;
    gs.set_state(
        "dep-2",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        None,
        minutes(6),
    );
    let s = polled(&gs, &s, minutes(7)).await;
    let (out, body, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(7)).await;
    assert_eq!(out.outcome, Verdict::Aborted);
    assert!(
        body.summary.starts_with("Aborted by arn:aws:iam::123456789012:user/ana (players report crashes): deployment dep-1"),
        "{}",
        body.summary
    );
    assert_eq!(
        body.abort.map(|a| a.reason).as_deref(),
        Some("players report crashes")
    );
    assert_eq!(
        body.rollback.map(|r| r.snapshot_id).as_deref(),
        Some(S2),
        "rolled back to the known-good snapshot"
    );
}

#[tokio::test]
async fn an_abort_during_the_bake_rolls_back_at_once() {
    let gs = stage();
    let alarms = quiet_alarms();
    let aborts = FakeAbortRequests::new();
    let s = baking(&gs, &alarms, json!({"bake": super::safety::bake(600)})).await;
    assert_eq!(s.phase, Phase::Bake);
    aborts.request(RUN, ABORT);
    let checks = s.bake_window.as_ref().map_or(0, |w| w.checks);
    let s = poll_aborting(&gs, &alarms, &aborts, &s, minutes(6)).await;
    assert_eq!(s.action, Action::Rollback);
    assert_eq!(s.deployment.outcome, Outcome::Succeeded);
    assert_eq!(
        s.bake_window.as_ref().map_or(0, |w| w.checks),
        checks + 1,
        "the poll that read the abort is counted (the run's state transitions come from it)"
    );
}

#[tokio::test]
async fn an_aborted_rollback_that_fails_says_the_deployment_was_aborted_not_failed() {
    // Simulator seeds 68 and 1245: the message read "deployment dep-1 ... failed with SUCCESS"
    // for a deployment that completed and was aborted, then whose rollback failed.
    let gs = stage();
    let alarms = quiet_alarms();
    let aborts = FakeAbortRequests::new();
    let s = baking(&gs, &alarms, json!({"bake": super::safety::bake(600)})).await;
    aborts.request(RUN, ABORT);
    let s = poll_aborting(&gs, &alarms, &aborts, &s, minutes(6)).await;
    let s = rolled_back(&gs, &s, minutes(7)).await;
    let rollback = s
        .rollback
        .as_ref()
        .map(|r| r.deployment_id.clone())
        .unwrap_or_default();
    finish(
        &gs,
        &rollback,
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        "broken",
    );
    let s = poll_aborting(&gs, &alarms, &aborts, &s, minutes(9)).await;
    let (out, body, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(9)).await;
    assert_eq!(out.outcome, Verdict::RollbackFailed);
    assert!(
        !body.summary.contains("failed with SUCCESS"),
        "{}",
        body.summary
    );
    assert!(body.summary.contains("aborted by"), "{}", body.summary);
}

#[tokio::test]
async fn another_runs_abort_and_an_unreadable_channel_do_not_stop_the_gate() {
    let gs = stage();
    let aborts = FakeAbortRequests::new();
    aborts.request(
        "arn:aws:states:us-east-1:123456789012:execution:stagegate:other",
        ABORT,
    );
    let s = start_with(&gs, &FakeAlarms::new(), &with_input(json!({}))).await;
    let s = poll_aborting(&gs, &FakeAlarms::new(), &aborts, &s, minutes(2)).await;
    assert!(s.abort.is_none(), "another execution's abort");
    aborts.fail_next(crate::ports::ServiceError::new(
        crate::ports::ServiceErrorKind::AccessDenied,
        "GetParameter",
        "not allowed",
    ));
    finish(
        &gs,
        "dep-1",
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "ok",
    );
    let s = poll_aborting(&gs, &FakeAlarms::new(), &aborts, &s, minutes(4)).await;
    assert_eq!(
        s.action,
        Action::Succeed,
        "the deployment is still watched to its end"
    );
    let (out, body, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), minutes(4)).await;
    assert_eq!(out.outcome, Verdict::Succeeded);
    assert!(
        body.summary.contains("Abort requests could not be read"),
        "the message says aborts were not seen: {}",
        body.summary
    );
    // A request nobody can parse is not this run's abort (an old or garbled value once aborted a
    // run): it is not acted on, and the message says it was there.
    let gs = stage();
    let aborts = FakeAbortRequests::new();
    aborts.request(RUN, "stop it!");
    let s = start_with(&gs, &FakeAlarms::new(), &with_input(json!({}))).await;
    let s = poll_aborting(&gs, &FakeAlarms::new(), &aborts, &s, minutes(2)).await;
    assert!(s.abort.is_none(), "{:?}", s.abort);
    assert!(
        s.abort_unreadable
            .as_deref()
            .is_some_and(|w| w.contains("could not be read and was not acted on")),
        "{:?}",
        s.abort_unreadable
    );
}

#[tokio::test]
async fn an_earlier_run_with_the_same_name_never_aborts_this_one() {
    // Simulator seed 66: `release-42` was aborted 100 days ago; its request, named from the
    // execution alone and never deleted, aborted the new `release-42`. Requests are per run now
    // (execution and start), and one written before the run began is not acted on.
    let gs = stage();
    let aborts = FakeAbortRequests::new();
    aborts.request(EXEC, ABORT);
    aborts.request(&format!("{EXEC}@1763726400"), ABORT);
    let s = start_with(&gs, &FakeAlarms::new(), &with_input(json!({}))).await;
    assert_eq!(s.run_id, RUN);
    let s = poll_aborting(&gs, &FakeAlarms::new(), &aborts, &s, minutes(2)).await;
    assert!(s.abort.is_none(), "{:?}", s.abort);
    // Under this run's own name but written months before it began: a stale value, ignored.
    aborts.request(
        RUN,
        r#"{"by": "arn:aws:iam::1:user/ana", "reason": "old", "at": "2025-11-21T12:00:00Z"}"#,
    );
    let s = poll_aborting(&gs, &FakeAlarms::new(), &aborts, &s, minutes(3)).await;
    assert!(s.abort.is_none(), "{:?}", s.abort);
    assert!(s
        .abort_unreadable
        .as_deref()
        .is_some_and(|w| w.contains("before this run began")));
}

/// Prod frozen from 11:00 to 13:00 on T0's day ("launch").
pub(super) fn frozen_input() -> Value {
    with_input(json!({"freezeWindows": [
        {"name": "launch", "start": "2026-03-01T11:00:00Z", "end": "2026-03-01T13:00:00Z"}
    ]}))
}

#[tokio::test]
async fn a_freeze_refuses_the_start_and_says_until_when() {
    let gs = stage();
    let s = start_with(&gs, &FakeAlarms::new(), &frozen_input()).await;
    assert_eq!(gs.starts().len(), 0, "nothing started in a freeze");
    assert_eq!(s.action, Action::Alert);
    let (out, body, _) = notified(&serde_json::to_value(&s).unwrap_or_default(), T0).await;
    assert_eq!(out.outcome, Verdict::Frozen);
    assert_eq!(out.error, "StageGate.FROZEN");
    assert!(
        body.summary
            .contains("the freeze \"launch\" is active until 2026-03-01T13:00:00Z"),
        "{}",
        body.summary
    );
    assert_eq!(
        body.frozen.map(|f| f.until),
        Some(time::macros::datetime!(2026-03-01 13:00:00 UTC))
    );
    // The template's windows count as much as the run's own; outside every window it starts.
    let settings = start::Settings::from_lookup(|_| {
        Some(r#"[{"weekly": {"days": ["SUN"], "from": "11:30", "to": "12:30", "timeZone": "Europe/Berlin"}}]"#.into())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let gs = stage();
    let event = with_input(json!({}));
    // 2026-03-01 is a Sunday; 12:00 UTC is 13:00 in Berlin, outside 11:30-12:30 local.
    let s = start::handle_with(
        &gs,
        &FakeAlarms::new(),
        &FakeAbortRequests::new(),
        &event,
        "r",
        &FixedClock(T0),
        &settings,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Wait, "started: {}", s.reason);
    let gs = stage();
    let at = T0 - Duration::minutes(60); // 12:00 Berlin
    let s = start::handle_with(
        &gs,
        &FakeAlarms::new(),
        &FakeAbortRequests::new(),
        &event,
        "r",
        &FixedClock(at),
        &settings,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.frozen.is_some(), "{}", s.reason);
    assert_eq!(gs.starts().len(), 0);
}

#[tokio::test]
async fn a_rollback_is_never_frozen_and_a_dry_run_reports_the_freeze() {
    // Started before the freeze, failed inside it: the rollback still runs.
    let gs = stage();
    let early = T0 - Duration::hours(2);
    let event = with_input(json!({"freezeWindows": [
        {"start": "2026-03-01T11:00:00Z", "end": "2026-03-01T13:00:00Z"}
    ]}));
    let s = start::handle(&gs, &FakeAlarms::new(), &event, "r", &FixedClock(early))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Wait);
    finish(
        &gs,
        "dep-1",
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        "broke",
    );
    let s = polled(&gs, &s, T0).await;
    assert_eq!(s.action, Action::Rollback);
    let s = rolled_back(&gs, &s, T0).await;
    assert_eq!(s.phase, Phase::Rollback, "rolled back inside the freeze");
    // A dry run names the freeze as what would stop the run.
    let mut dry = frozen_input();
    dry["input"]["dryRun"] = json!(true);
    let s = start_with(&stage(), &FakeAlarms::new(), &dry).await;
    let plan = s.plan.unwrap_or_else(|| panic!("no plan"));
    assert!(!plan.ready);
    assert!(
        plan.problems
            .iter()
            .any(|p| p.contains("freeze (launch) is active until 2026-03-01T13:00:00Z")),
        "{:?}",
        plan.problems
    );
}

#[tokio::test]
async fn freeze_windows_are_validated_by_field() {
    let gs = stage();
    let event = with_input(json!({"freezeWindows": [
        {"start": "2026-03-01T11:00:00Z", "end": "2026-03-01T13:00:00Z"},
        {"weekly": {"days": ["SAT"], "from": "10:00", "to": "12:00", "timeZone": "Europe/Berln"}}
    ]}));
    let err = start::handle(&gs, &FakeAlarms::new(), &event, "r", &FixedClock(T0))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("`input.freezeWindows[1].weekly.timeZone`"),
        "{err}"
    );
    let bad = start::Settings::from_lookup(|_| Some("[{\"start\": 1}]".into())).err();
    assert!(
        bad.map(|e| e.to_string())
            .unwrap_or_default()
            .contains("STAGEGATE_FREEZE_WINDOWS[0]"),
        "the template's variable is named"
    );
}
