//! answer-approval: who answers is the caller IAM verified, the wait is found in the history,
//! and the answer sent is one the gate takes.

use serde_json::{json, Value};
use time::Duration;

use super::operator_control::{answered_raw, awaiting};
use super::{stage, svc, EXEC, T0};
use crate::approval::wait::{Step, AWAIT_APPROVAL};
use crate::approval::Decision;
use crate::clock::FixedClock;
use crate::fakes::{FakeAbortRequests, FakeAnswerKeys, FakeApprovalWaits};
use crate::handlers::answer::{handle, Reply};
use crate::policy::Action;
use crate::ports::ServiceErrorKind;
use crate::state::GateState;

const ANA: &str = "arn:aws:sts::123456789012:assumed-role/operators/ana";
const TOKEN: &str = "AAAAKgAAAAIAAAAAAAAAAS3cr3t";

/// A function URL request from `caller` (None: no IAM identity) with `body`.
fn request(caller: Option<&str>, body: Value) -> Value {
    let mut event = json!({
        "version": "2.0",
        "rawPath": "/",
        "requestContext": {"http": {"method": "POST"}},
        "body": body.to_string(),
        "isBase64Encoded": false,
    });
    if let Some(arn) = caller {
        event["requestContext"]["authorizer"] = json!({"iam": {"userArn": arn}});
    }
    event
}

fn body(decision: &str) -> Value {
    json!({"executionArn": EXEC, "decision": decision, "reason": "QA signed off"})
}

/// The history of a run that waits in AwaitApproval with `state`, as the wait scheduled it.
fn waiting_history(state: &GateState) -> Vec<Step> {
    let input = serde_json::to_string(state).unwrap_or_default();
    vec![
        Step::Entered { name: "Start".into(), input: "{}".into() },
        Step::Other,
        Step::Entered { name: AWAIT_APPROVAL.into(), input },
        Step::Scheduled(
            json!({"FunctionName": "notify", "Payload": {"approvalRequest": state, "taskToken": TOKEN}})
                .to_string(),
        ),
        Step::Other,
    ]
}

async fn call(waits: &FakeApprovalWaits, keys: &FakeAnswerKeys, event: &Value) -> Reply {
    handle(
        waits,
        keys,
        || Ok([9; 32]),
        event,
        &FixedClock(T0 + Duration::minutes(1)),
    )
    .await
}

#[tokio::test]
async fn without_an_iam_identity_nothing_is_answered() {
    let gs = stage();
    let waits = FakeApprovalWaits::new();
    waits.set_history(EXEC, waiting_history(&awaiting(&gs).await));
    let keys = FakeAnswerKeys::new();
    for event in [
        request(None, body("approve")),
        json!({"executionArn": EXEC}),
    ] {
        let reply = call(&waits, &keys, &event).await;
        assert_eq!(reply.status, 403, "{reply:?}");
        assert!(reply.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("AWS_IAM")));
    }
    assert!(waits.sent().is_empty());
    assert_eq!(keys.value(), None, "no key made for nothing");
}

#[tokio::test]
async fn a_run_not_waiting_for_approval_is_a_conflict() {
    let gs = stage();
    let waits = FakeApprovalWaits::new();
    let mut history = waiting_history(&awaiting(&gs).await);
    history.push(Step::Exited {
        name: AWAIT_APPROVAL.into(),
        output: "{}".into(),
    });
    history.push(Step::Entered {
        name: "Answered".into(),
        input: "{\"phase\": \"APPROVAL\"}".into(),
    });
    waits.set_history(EXEC, history);
    let reply = call(
        &waits,
        &FakeAnswerKeys::new(),
        &request(Some(ANA), body("approve")),
    )
    .await;
    assert_eq!(reply.status, 409, "{reply:?}");
    assert!(waits.sent().is_empty());
    let unknown = json!({"executionArn": format!("{EXEC}-2"), "decision": "approve"});
    let reply = call(&waits, &FakeAnswerKeys::new(), &request(Some(ANA), unknown)).await;
    assert_eq!(reply.status, 404, "{reply:?}");
    for bad in [
        json!({"executionArn": EXEC, "decision": "maybe"}),
        json!({"executionArn": "prod", "decision": "approve"}),
        json!({"executionArn": EXEC, "decision": "approve", "by": "arn:aws:iam::1:user/boss"}),
        json!({"executionArn": EXEC, "decision": "approve", "reason": "é".repeat(600)}),
    ] {
        let reply = call(
            &waits,
            &FakeAnswerKeys::new(),
            &request(Some(ANA), bad.clone()),
        )
        .await;
        assert_eq!(reply.status, 400, "{bad}: {reply:?}");
    }
}

#[tokio::test]
async fn the_answer_is_signed_for_the_verified_caller_sent_once_and_taken_by_the_gate() {
    let gs = stage();
    let waiting = awaiting(&gs).await;
    let waits = FakeApprovalWaits::new();
    waits.set_history(EXEC, waiting_history(&waiting));
    let keys = FakeAnswerKeys::new();
    let reply = call(&waits, &keys, &request(Some(ANA), body("approve"))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["by"], ANA);
    assert!(
        !reply.body.to_string().contains(TOKEN),
        "the token is never returned"
    );
    let sent = waits.sent();
    assert_eq!(sent.len(), 1, "SendTaskSuccess once");
    assert_eq!(sent[0].0, TOKEN);
    let output: Value = serde_json::from_str(&sent[0].1).unwrap_or_default();
    assert_eq!(
        (output["decision"].as_str(), output["by"].as_str()),
        (Some("APPROVE"), Some(ANA))
    );
    assert_eq!(keys.creates(), 1, "the key is made on first use");
    assert!(
        keys.names()
            .iter()
            .all(|n| n == "/stagegate/answer-key/stagegate"),
        "the gate's own key: {:?}",
        keys.names()
    );
    // The gate, reading the key the function made, takes it.
    let aborts = FakeAbortRequests::new();
    aborts.set_answer_key(&keys.value().unwrap_or_default());
    let s = answered_raw(
        &gs,
        &aborts,
        &waiting,
        output.clone(),
        T0 + Duration::minutes(1),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Wait, "{}", s.reason);
    let answer = s
        .approval
        .and_then(|a| a.answer)
        .unwrap_or_else(|| panic!("answered"));
    assert_eq!(
        (answer.decision, answer.by.as_deref()),
        (Decision::Approve, Some(ANA))
    );
    // A second answer reuses the key.
    let again = call(&waits, &keys, &request(Some(ANA), body("reject"))).await;
    assert_eq!((again.status, keys.creates()), (200, 1));
}

/// moto's GetExecutionHistory ignores `reverseOrder`: the wait is found by event ids, not by the
/// order the events came in (the local stack's first answers all found "no pending approval").
#[tokio::test]
async fn the_pending_wait_is_found_whatever_order_the_history_comes_in() {
    let gs = stage();
    let waits = FakeApprovalWaits::new().ignoring_reverse_order();
    waits.set_history(EXEC, waiting_history(&awaiting(&gs).await));
    let reply = call(
        &waits,
        &FakeAnswerKeys::new(),
        &request(Some(ANA), body("approve")),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(waits.sent().len(), 1);
}

#[tokio::test]
async fn a_key_made_by_another_call_first_is_the_one_used() {
    let gs = stage();
    let waiting = awaiting(&gs).await;
    let waits = FakeApprovalWaits::new();
    waits.set_history(EXEC, waiting_history(&waiting));
    let theirs = aws_smithy_types::base64::encode([5u8; 32]);
    let keys = FakeAnswerKeys::new();
    keys.race_create(&theirs);
    let reply = call(&waits, &keys, &request(Some(ANA), body("approve"))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!((keys.value(), keys.creates()), (Some(theirs.clone()), 0));
    let aborts = FakeAbortRequests::new();
    aborts.set_answer_key(&theirs);
    let output: Value = serde_json::from_str(&waits.sent()[0].1).unwrap_or_default();
    let s = answered_raw(&gs, &aborts, &waiting, output, T0 + Duration::minutes(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.action, Action::Wait, "{}", s.reason);
}

#[tokio::test]
async fn aws_failures_are_reported_and_nothing_is_sent_unsigned() {
    let gs = stage();
    let waits = FakeApprovalWaits::new();
    waits.set_history(EXEC, waiting_history(&awaiting(&gs).await));
    let keys = FakeAnswerKeys::new();
    keys.fail_next(svc(ServiceErrorKind::Throttled, "GetParameter"));
    let reply = call(&waits, &keys, &request(Some(ANA), body("approve"))).await;
    assert_eq!(reply.status, 503, "{reply:?}");
    assert!(waits.sent().is_empty());
    // The wait ended between the read and the answer: a conflict, said so.
    let mut over = svc(ServiceErrorKind::Other, "SendTaskSuccess");
    over.code = Some("TaskTimedOut".into());
    waits.fail_next_send(over);
    let reply = call(&waits, &keys, &request(Some(ANA), body("approve"))).await;
    assert_eq!(reply.status, 409, "{reply:?}");
    assert!(!reply.body.to_string().contains(TOKEN));
}
