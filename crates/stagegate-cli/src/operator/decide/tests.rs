//! Tests of the operator's decisions on histories in the real event shapes (`steps::tests`).

use serde_json::json;

use super::*;
use crate::steps::tests::{answered, awaiting, gate, rolled_back, steps_of, timed_out};

fn pending() -> Pending {
    steps::pending_approval(&steps_of(&awaiting())).unwrap_or_else(|| panic!("no wait"))
}

const PARAMETER: &str = "/stagegate/abort/stagegate-gate/rel-42-0011223344556677";

#[test]
fn an_abort_in_each_phase() {
    let run = rolled_back();
    let plan = |n: usize| abort_plan(&steps_of(&run[..n]));
    assert_eq!(
        abort_plan(&steps_of(&awaiting())),
        AbortPlan::AnswerWait(pending())
    );
    assert_eq!(plan(13), AbortPlan::RequestAbort, "polling the deployment");
    // Entered Rollback (its input still the deploy phase's), then waiting on the rollback.
    for n in [17, 21] {
        match plan(n) {
            AbortPlan::RollingBack(text) => assert!(
                text.contains("already rolling back")
                    && text.contains("ends ROLLED_BACK (ROLLBACK_FAILED if the rollback fails)")
                    && !text.contains("ends ABORTED"),
                "{text}"
            ),
            other => panic!("after {n} events: {other:?}"),
        }
    }
    // A rollback an abort started ends ABORTED.
    let mut aborted = run[..21].to_vec();
    let mut state = gate("ROLLBACK", "wait");
    state["abort"] = json!({"by": "arn:aws:sts::1:assumed-role/ops/bo", "reason": "crashes",
        "at": "2026-11-18T11:45:00Z"});
    aborted.push(json!({"type": "WaitStateEntered", "name": "Wait", "input": state.to_string()}));
    match abort_plan(&steps_of(&aborted)) {
        AbortPlan::RollingBack(text) => assert!(
            text.contains("already aborted by arn:aws:sts::1:assumed-role/ops/bo")
                && text.contains("ends ABORTED"),
            "{text}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_abort_of_a_run_that_is_ending_writes_nothing() {
    let mut ending = awaiting()[..10].to_vec();
    ending.push(json!({"type": "TaskStateEntered", "name": "Notify",
        "input": gate("DEPLOY", "succeed").to_string()}));
    match abort_plan(&steps_of(&ending)) {
        AbortPlan::Ending(text) => assert!(text.contains("state Notify"), "{text}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn refusals_are_the_wait_being_over() {
    assert_eq!(
        Refusal::from_code(Some("TaskTimedOut")),
        Some(Refusal::TaskTimedOut)
    );
    assert_eq!(
        Refusal::from_code(Some("TaskDoesNotExist")),
        Some(Refusal::TaskDoesNotExist)
    );
    assert_eq!(
        Refusal::from_code(Some("InvalidToken")),
        Some(Refusal::InvalidToken)
    );
    assert_eq!(Refusal::from_code(Some("AccessDeniedException")), None);
    assert_eq!(Refusal::from_code(None), None);
}

fn fate_of(events: &[serde_json::Value]) -> WaitFate {
    steps::wait_fate(&steps_of(events), &pending().token)
}

#[test]
fn an_answer_refused_says_what_happened_instead() {
    let p = pending();
    let by_ana = json!({"decision": "APPROVE", "by": "arn:aws:sts::1:assumed-role/ops/ana",
        "reason": "QA ok", "at": "2026-11-18T11:50:00Z"});
    let e = answer_refused(
        Decision::Reject,
        &p,
        Refusal::TaskDoesNotExist,
        &fate_of(&answered(&by_ana)),
    );
    assert_eq!(
        e,
        "could not reject Snapshot_2026-11-10T14:30:00.000Z on prod: the approval was already \
         answered: APPROVE by arn:aws:sts::1:assumed-role/ops/ana, reason: \"QA ok\"; the gate \
         deploys it now"
    );
    let e = answer_refused(
        Decision::Approve,
        &p,
        Refusal::TaskTimedOut,
        &fate_of(&timed_out()),
    );
    assert!(
        e.contains("timed out at 2026-11-18T12:40:05Z before your answer arrived")
            && e.contains("the run ends APPROVAL_TIMED_OUT with nothing deployed on prod"),
        "{e}"
    );
    let rejected = json!({"decision": "REJECT", "at": "2026-11-18T11:50:00Z"});
    let e = answer_refused(
        Decision::Approve,
        &p,
        Refusal::TaskDoesNotExist,
        &fate_of(&answered(&rejected)),
    );
    assert!(
        e.contains("REJECT (by an unknown caller)") && e.contains("ends REJECTED"),
        "{e}"
    );
    let e = answer_refused(
        Decision::Approve,
        &p,
        Refusal::InvalidToken,
        &WaitFate::Unknown,
    );
    assert!(e.contains("refused the answer (InvalidToken)"), "{e}");
}

#[test]
fn an_abort_refused_still_stops_a_deployment() {
    let p = pending();
    let approved = json!({"decision": "APPROVE", "by": "arn:aws:sts::1:assumed-role/ops/ana",
        "at": "2026-11-18T11:50:00Z"});
    // Approved first: the run now deploys, so the request the poll reads is written.
    let f = abort_refused(
        &p,
        Refusal::TaskDoesNotExist,
        &fate_of(&answered(&approved)),
        PARAMETER,
    );
    assert!(f.write_parameter);
    assert!(
        f.text.contains(
            "was approved before the abort arrived by arn:aws:sts::1:assumed-role/ops/ana"
        ) && f.text.contains(PARAMETER)
            && f.text.contains("the run ends ABORTED"),
        "{}",
        f.text
    );
    // The history cannot tell: written, in case.
    let f = abort_refused(&p, Refusal::TaskTimedOut, &WaitFate::Waiting, PARAMETER);
    assert!(
        f.write_parameter && f.text.contains("TaskTimedOut"),
        "{}",
        f.text
    );
    // The run ends with nothing of the stage deployed: nothing to write.
    let f = abort_refused(&p, Refusal::TaskTimedOut, &fate_of(&timed_out()), PARAMETER);
    assert!(!f.write_parameter);
    assert!(f.text.contains("ends APPROVAL_TIMED_OUT"), "{}", f.text);
    let rejected = json!({"decision": "REJECT", "by": "arn:aws:sts::1:assumed-role/ops/bo",
        "reason": "not now", "at": "2026-11-18T11:50:00Z"});
    let f = abort_refused(
        &p,
        Refusal::TaskDoesNotExist,
        &fate_of(&answered(&rejected)),
        PARAMETER,
    );
    assert!(
        !f.write_parameter && f.text.contains("ends REJECTED"),
        "{}",
        f.text
    );
    let f = abort_refused(
        &p,
        Refusal::TaskDoesNotExist,
        &WaitFate::Failed("StageGate.NotificationFailed".into()),
        PARAMETER,
    );
    assert!(
        !f.write_parameter && f.text.contains("ends ERROR"),
        "{}",
        f.text
    );
}
