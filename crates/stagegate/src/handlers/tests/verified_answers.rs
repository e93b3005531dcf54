//! The gate takes only answers the answer function signed for this run, stage and approval
//! (`verify_answer`); anything else sends the run back to waiting for the time left.

use serde_json::json;
use time::Duration;

use super::operator_control::{
    answer, answer_key_text, answered_raw, awaiting, signed, WithKey, TIMED_OUT,
};
use super::{error_type, stage, svc, T0};
use crate::approval::{Decision, MAX_REFUSED};
use crate::fakes::FakeAbortRequests;
use crate::policy::{Action, Phase};
use crate::ports::{NoAbortRequests, ServiceErrorKind};

fn keyed() -> FakeAbortRequests {
    let aborts = FakeAbortRequests::new();
    aborts.set_answer_key(&answer_key_text());
    aborts
}

#[tokio::test]
async fn a_signed_answer_is_taken_with_its_verified_caller() {
    let gs = stage();
    let waiting = awaiting(&gs).await;
    let s = answered_raw(
        &gs,
        &keyed(),
        &waiting,
        signed(&waiting, answer("APPROVE", "QA signed off")),
        T0 + Duration::minutes(1),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Wait, "{}", s.reason);
    assert_eq!(gs.started_count(), 1);
    let a = s.approval.unwrap_or_else(|| panic!("approval"));
    assert_eq!(
        a.answer.and_then(|a| a.by).as_deref(),
        Some("arn:aws:iam::123456789012:user/ana")
    );
    assert!(a.refused.is_empty());
}

#[tokio::test]
async fn an_unsigned_answer_is_refused_and_the_run_waits_for_the_time_left() {
    for decision in ["APPROVE", "REJECT", "ABORT"] {
        let gs = stage();
        let waiting = awaiting(&gs).await;
        let s = answered_raw(
            &gs,
            &keyed(),
            &waiting,
            answer(decision, "trust me"),
            T0 + Duration::seconds(100),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (s.phase, s.action),
            (Phase::Approval, Action::Approve),
            "{decision}"
        );
        assert_eq!(gs.started_count(), 0, "{decision}: nothing deployed");
        let a = s.approval.as_ref().unwrap_or_else(|| panic!("approval"));
        assert_eq!(a.answer, None, "{decision}");
        assert_eq!(a.wait_seconds, 500, "{decision}: 600 s asked, 100 s gone");
        assert_eq!(a.timeout_seconds, 600, "the request itself is unchanged");
        assert_eq!(a.expires_at, T0 + Duration::seconds(600));
        assert_eq!(a.refused.len(), 1);
        assert_eq!(
            a.refused[0].by.as_deref(),
            Some("arn:aws:iam::123456789012:user/ana")
        );
        assert!(
            a.refused[0].why.contains("not signed"),
            "{}",
            a.refused[0].why
        );
        assert!(s.reason.contains("refused an answer"), "{}", s.reason);
        // The refusal is in the decision log, told by explain and taken as recorded by replay.
        let last = s.decisions.entries.last().map(|e| e.evidence.kind());
        assert_eq!(last, Some("refused"), "{decision}");
        assert!(crate::replay::replay(&s, None).same());
        let told = crate::story::story(&s);
        let line = told
            .lines
            .last()
            .map(|l| l.rule.clone())
            .unwrap_or_default();
        assert!(
            line.contains("only answers the answer function signed"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_signature_for_another_run_stage_approval_or_claim_is_refused() {
    let gs = stage();
    let waiting = awaiting(&gs).await;
    let mut others = vec![];
    let mut other_run = waiting.clone();
    other_run.run_id = format!("{}0", waiting.run_id);
    others.push(("run", other_run));
    let mut other_stage = waiting.clone();
    if let Some(a) = other_stage.approval.as_mut() {
        a.stage_name = "staging".into();
    }
    others.push(("stage", other_stage));
    let mut earlier = waiting.clone();
    if let Some(a) = earlier.approval.as_mut() {
        a.requested_at -= Duration::days(1);
    }
    others.push(("approval", earlier));
    for (what, signed_for) in others {
        let s = answered_raw(
            &gs,
            &keyed(),
            &waiting,
            signed(&signed_for, answer("APPROVE", "ok")),
            T0 + Duration::minutes(1),
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(s.action, Action::Approve, "{what}: {}", s.reason);
        let why = &s.approval.as_ref().map(|a| a.refused[0].why.clone());
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("signature is not")),
            "{what}: {why:?}"
        );
    }
    // A signed answer whose claim was changed afterwards (another name as `by`).
    let mut forged = signed(&waiting, answer("APPROVE", "ok"));
    forged["by"] = json!("arn:aws:iam::123456789012:user/boss");
    let s = answered_raw(&gs, &keyed(), &waiting, forged, T0 + Duration::minutes(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Approve, "{}", s.reason);
    // No key at all: nothing could have signed it.
    let s = answered_raw(
        &gs,
        &NoAbortRequests,
        &waiting,
        signed(&waiting, answer("APPROVE", "ok")),
        T0 + Duration::minutes(1),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Approve, "{}", s.reason);
    assert_eq!(gs.started_count(), 0, "nothing deployed");
}

#[tokio::test]
async fn a_timeout_counts_only_once_the_approval_expired() {
    let gs = stage();
    let waiting = awaiting(&gs).await;
    // Anyone can send the Catch's JSON: before the approval expires it is a forgery.
    let early = answered_raw(
        &gs,
        &NoAbortRequests,
        &waiting,
        TIMED_OUT(),
        T0 + Duration::minutes(2),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(early.action, Action::Approve, "{}", early.reason);
    let a = early
        .approval
        .as_ref()
        .unwrap_or_else(|| panic!("approval"));
    assert_eq!(
        (a.wait_seconds, a.refused[0].decision),
        (480, Decision::TimedOut)
    );
    // The real one: the wait's timeout, at or after the expiry, needs no signature nor key.
    let late = answered_raw(
        &gs,
        &NoAbortRequests,
        &early,
        TIMED_OUT(),
        T0 + Duration::seconds(600),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(late.action, Action::Alert, "{}", late.reason);
    assert!(late.reason.contains("in time"), "{}", late.reason);
    let a = late.approval.unwrap_or_else(|| panic!("approval"));
    assert_eq!(a.answer.map(|a| a.decision), Some(Decision::TimedOut));
    assert_eq!(a.refused.len(), 1, "the refusal stays on record");
}

#[tokio::test]
async fn a_refusal_with_less_than_the_shortest_wait_left_times_the_approval_out() {
    let gs = stage();
    let waiting = awaiting(&gs).await;
    let s = answered_raw(
        &gs,
        &keyed(),
        &waiting,
        answer("APPROVE", "ok"),
        T0 + Duration::seconds(541),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Alert, "{}", s.reason);
    assert_eq!(gs.started_count(), 0);
    let a = s.approval.unwrap_or_else(|| panic!("approval"));
    assert_eq!(a.answer.map(|a| a.decision), Some(Decision::TimedOut));
    assert_eq!(a.refused.len(), 1);
}

#[tokio::test]
async fn an_unreadable_key_is_retried_never_skipped() {
    for kind in [ServiceErrorKind::Throttled, ServiceErrorKind::AccessDenied] {
        let gs = stage();
        let waiting = awaiting(&gs).await;
        let aborts = keyed();
        aborts.fail_next_key_read(svc(kind, "GetParameter"));
        let r = answered_raw(
            &gs,
            &aborts,
            &waiting,
            signed(&waiting, answer("APPROVE", "ok")),
            T0 + Duration::minutes(1),
        )
        .await;
        assert_eq!(error_type(r), "StageGate.Retryable", "{kind:?}");
        assert_eq!(gs.started_count(), 0);
    }
}

#[tokio::test]
async fn refusals_are_bounded_and_keep_the_newest() {
    let gs = stage();
    let mut s = awaiting(&gs).await;
    for i in 0..(MAX_REFUSED + 3) {
        let mut forged = answer("APPROVE", "ok");
        forged["by"] = json!(format!("arn:aws:iam::1:user/u{i}"));
        s = answered_raw(
            &gs,
            &WithKey(&NoAbortRequests),
            &s,
            forged,
            T0 + Duration::seconds(10 + i as i64),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let a = s.approval.unwrap_or_else(|| panic!("approval"));
    assert_eq!(a.refused.len(), MAX_REFUSED);
    assert_eq!(
        a.refused.last().and_then(|r| r.by.as_deref()),
        Some(format!("arn:aws:iam::1:user/u{}", MAX_REFUSED + 2).as_str())
    );
}
