//! Tests of `steps` on histories in the shape GetExecutionHistory returns them (event types,
//! details and the JSON text of inputs, outputs and parameters as the workflow writes them),
//! built into the SDK's own `HistoryEvent`s.

use aws_sdk_sfn::types::{
    ExecutionFailedEventDetails, HistoryEvent, HistoryEventType, StateEnteredEventDetails,
    StateExitedEventDetails, TaskFailedEventDetails, TaskScheduledEventDetails,
    TaskTimedOutEventDetails,
};
use serde_json::{json, Value};

use super::*;

const S1: &str = "Snapshot_2026-11-10T14:30:00.000Z";
const TOKEN: &str = "AQCEAAAAKgAAAAMAAAAAAAAAAV1";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:stagegate-notify";
const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:rel-42";

/// An event as the API returns it (wire names), as the SDK's type.
fn event(id: i64, v: &Value) -> HistoryEvent {
    let text = |key: &str| v[key].as_str().map(str::to_owned);
    let kind = v["type"].as_str().unwrap_or_default();
    let mut e = HistoryEvent::builder()
        .id(id)
        .previous_event_id(id - 1)
        .r#type(HistoryEventType::from(kind));
    if kind.ends_with("StateEntered") {
        e = e.state_entered_event_details(
            StateEnteredEventDetails::builder()
                .set_name(text("name"))
                .set_input(text("input"))
                .build(),
        );
    } else if kind.ends_with("StateExited") {
        e = e.state_exited_event_details(
            StateExitedEventDetails::builder()
                .set_name(text("name"))
                .set_output(text("output"))
                .build(),
        );
    } else if kind == "TaskScheduled" {
        e = e.task_scheduled_event_details(
            TaskScheduledEventDetails::builder()
                .resource_type("lambda")
                .set_resource(text("resource"))
                .region("us-east-1")
                .set_parameters(text("parameters"))
                .build(),
        );
    } else if kind == "TaskTimedOut" {
        e = e.task_timed_out_event_details(
            TaskTimedOutEventDetails::builder()
                .resource_type("lambda")
                .resource("invoke.waitForTaskToken")
                .error("States.Timeout")
                .build(),
        );
    } else if kind == "TaskFailed" {
        e = e.task_failed_event_details(
            TaskFailedEventDetails::builder()
                .resource_type("lambda")
                .resource("invoke")
                .set_error(text("error"))
                .build(),
        );
    } else if kind == "ExecutionFailed" {
        e = e.execution_failed_event_details(
            ExecutionFailedEventDetails::builder()
                .set_error(text("error"))
                .cause("...")
                .build(),
        );
    }
    e.build()
}

/// A history's steps, from wire events in chronological order.
pub fn steps_of(events: &[Value]) -> Vec<Step> {
    events
        .iter()
        .zip(1..)
        .map(|(v, id)| step(&event(id, v)))
        .collect()
}

/// A gate state as the workflow carries it (the fields these tests read, and some around them).
pub fn gate(phase: &str, action: &str) -> Value {
    json!({"gameName": "space-raiders", "stageName": "prod",
        "executionId": EXECUTION, "executionStartedAt": "2026-11-18T11:40:00Z",
        "requestedSnapshotId": "latest", "snapshotId": S1, "deploymentId": "",
        "phase": phase, "action": action, "reason": "r", "waitSeconds": 0,
        "approval": {"stageName": "prod", "timeoutSeconds": 3600,
            "requestedAt": "2026-11-18T11:40:05Z", "expiresAt": "2026-11-18T12:40:05Z"}})
}

fn entered(kind: &str, name: &str, input: &Value) -> Value {
    json!({"type": format!("{kind}StateEntered"), "name": name, "input": input.to_string()})
}

fn exited(kind: &str, name: &str, output: &Value) -> Value {
    json!({"type": format!("{kind}StateExited"), "name": name, "output": output.to_string()})
}

fn scheduled(resource: &str, payload: &Value) -> Value {
    json!({"type": "TaskScheduled", "resource": resource,
        "parameters": json!({"FunctionName": LAMBDA, "Payload": payload}).to_string()})
}

fn plain(kind: &str) -> Value {
    json!({"type": kind})
}

/// A run up to its wait for approval of prod: Accept, Start, Route, AwaitApproval scheduled.
pub fn awaiting() -> Vec<Value> {
    let input = json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": "latest",
        "approval": {"timeoutSeconds": 3600}});
    let state = gate("APPROVAL", "approve");
    let execution = json!({"Id": EXECUTION, "Name": "rel-42", "StartTime": "2026-11-18T11:40:00Z"});
    vec![
        json!({"type": "ExecutionStarted"}),
        entered("Pass", "Accept", &input),
        exited("Pass", "Accept", &json!({"input": input})),
        entered("Task", "Start", &json!({"input": input})),
        scheduled("invoke", &json!({"input": input, "execution": execution})),
        plain("TaskStarted"),
        plain("TaskSucceeded"),
        exited("Task", "Start", &state),
        entered("Choice", "Route", &state),
        exited("Choice", "Route", &state),
        entered("Task", AWAIT_APPROVAL, &state),
        scheduled(
            "invoke.waitForTaskToken",
            &json!({"approvalRequest": state, "taskToken": TOKEN, "execution": execution}),
        ),
        plain("TaskStarted"),
        plain("TaskSubmitted"),
    ]
}

/// `awaiting`, then the wait answered (`answer` as SendTaskSuccess's output) and Answered entered.
pub fn answered(answer: &Value) -> Vec<Value> {
    let mut state = gate("APPROVAL", "approve");
    state["approvalAnswer"] = answer.clone();
    let mut events = awaiting();
    events.extend([
        plain("TaskSucceeded"),
        exited("Task", AWAIT_APPROVAL, &state),
        entered("Task", "Answered", &state),
    ]);
    events
}

/// `awaiting`, then the wait's timeout caught into `approvalAnswer`.
pub fn timed_out() -> Vec<Value> {
    let mut state = gate("APPROVAL", "approve");
    state["approvalAnswer"] = json!({"Error": "States.Timeout", "Cause": ""});
    let mut events = awaiting();
    events.extend([
        plain("TaskTimedOut"),
        exited("Task", AWAIT_APPROVAL, &state),
        entered("Task", "Answered", &state),
    ]);
    events
}

/// A deployment that failed, was rolled back and ended ROLLED_BACK: the Fail state's input is
/// the final gate state with the notification; the execution has no output.
pub fn rolled_back() -> Vec<Value> {
    let deploying = gate("DEPLOY", "wait");
    let failed = gate("DEPLOY", "rollback");
    let rolling = gate("ROLLBACK", "wait");
    let done = gate("ROLLBACK", "alert");
    let mut notified = done.clone();
    notified["notification"] = json!({"outcome": "ROLLED_BACK", "succeeded": false});
    let mut events = awaiting()[..10].to_vec();
    events.extend([
        entered("Wait", "Wait", &deploying),
        exited("Wait", "Wait", &deploying),
        entered("Task", "Poll", &deploying),
        exited("Task", "Poll", &failed),
        entered("Choice", "Route", &failed),
        exited("Choice", "Route", &failed),
        entered("Task", ROLLBACK, &failed),
        exited("Task", ROLLBACK, &rolling),
        entered("Choice", "Route", &rolling),
        exited("Choice", "Route", &rolling),
        entered("Wait", "Wait", &rolling),
        exited("Wait", "Wait", &rolling),
        entered("Task", "Poll", &rolling),
        exited("Task", "Poll", &done),
        entered("Choice", "Route", &done),
        exited("Choice", "Route", &done),
        entered("Task", "Notify", &done),
        scheduled("invoke", &json!({"state": done})),
        plain("TaskSucceeded"),
        exited("Task", "Notify", &notified),
        entered("Choice", "Finish", &notified),
        exited("Choice", "Finish", &notified),
        entered("Fail", "Failed", &notified),
        json!({"type": "ExecutionFailed", "error": "StageGate.ROLLED_BACK"}),
    ]);
    events
}

/// A run whose input Start refused: no gate state ever, ERROR through NotifyError.
fn refused_input() -> Vec<Value> {
    let input = json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": "latest"});
    let caught =
        json!({"input": input, "error": {"Error": "StageGate.InvalidInput", "Cause": "x"}});
    vec![
        json!({"type": "ExecutionStarted"}),
        entered("Pass", "Accept", &input),
        exited("Pass", "Accept", &json!({"input": input})),
        entered("Task", "Start", &json!({"input": input})),
        scheduled("invoke", &json!({"input": input})),
        json!({"type": "TaskFailed", "error": "StageGate.InvalidInput"}),
        entered("Task", "NotifyError", &caught),
        entered("Fail", "Failed", &caught),
        json!({"type": "ExecutionFailed", "error": "StageGate.ERROR"}),
    ]
}

#[test]
fn the_pending_approval_is_the_last_wait_not_yet_exited() {
    let waiting = steps_of(&awaiting());
    assert_eq!(
        pending_approval(&waiting),
        Some(Pending {
            token: TOKEN.into(),
            stage_name: "prod".into(),
            snapshot_id: S1.into(),
            expires_at: Some("2026-11-18T12:40:05Z".into())
        })
    );
    let done = steps_of(&answered(&json!({"decision": "APPROVE"})));
    assert_eq!(pending_approval(&done), None, "answered already");
    assert_eq!(pending_approval(&steps_of(&timed_out())), None);
    // A wave's second approval: the newest wait.
    let mut second = answered(&json!({"decision": "APPROVE"}));
    let mut next = awaiting()[10..].to_vec();
    next[1]["parameters"] = Value::String(
        next[1]["parameters"]
            .as_str()
            .unwrap_or_default()
            .replace(TOKEN, "t2"),
    );
    second.extend(next);
    assert_eq!(
        pending_approval(&steps_of(&second)).map(|p| p.token),
        Some("t2".into())
    );
    assert_eq!(pending_approval(&[]), None);
}

#[test]
fn how_a_wait_ended() {
    let answer = json!({"decision": "REJECT", "by": "arn:aws:sts::1:assumed-role/ops/ana",
        "reason": "not now", "at": "2026-11-18T11:50:00Z"});
    assert_eq!(
        wait_fate(&steps_of(&answered(&answer)), TOKEN),
        WaitFate::Answered {
            decision: "REJECT".into(),
            by: Some("arn:aws:sts::1:assumed-role/ops/ana".into()),
            reason: Some("not now".into()),
        }
    );
    assert_eq!(
        wait_fate(&steps_of(&timed_out()), TOKEN),
        WaitFate::TimedOut
    );
    assert_eq!(wait_fate(&steps_of(&awaiting()), TOKEN), WaitFate::Waiting);
    assert_eq!(
        wait_fate(&steps_of(&awaiting()), "other"),
        WaitFate::Unknown
    );
    let mut failed = awaiting();
    failed.push(json!({"type": "TaskFailed", "error": "StageGate.NotificationFailed"}));
    assert_eq!(
        wait_fate(&steps_of(&failed), TOKEN),
        WaitFate::Failed("StageGate.NotificationFailed".into())
    );
}

#[test]
fn the_newest_gate_state_and_what_latest_resolved_to() {
    let run = steps_of(&rolled_back());
    let (name, state) = newest(&run);
    assert_eq!(name, Some("Failed"));
    assert_eq!(
        state.as_ref().and_then(|s| s["phase"].as_str()),
        Some("ROLLBACK")
    );
    assert_eq!(resolved_snapshot(&run).as_deref(), Some(S1));
    assert_eq!(
        execution_error(&run).as_deref(),
        Some("StageGate.ROLLED_BACK")
    );
    // No gate state ever: nothing resolved.
    let refused = steps_of(&refused_input());
    assert_eq!(newest(&refused), (Some("Failed"), None));
    assert_eq!(resolved_snapshot(&refused), None);
    assert_eq!(
        execution_error(&refused).as_deref(),
        Some("StageGate.ERROR")
    );
}

#[test]
fn what_is_enough_to_read() {
    // Newest first, as read: the wait's scheduled task and its state's entry answer both.
    let mut waiting = steps_of(&awaiting());
    waiting.reverse();
    let through_wait = &waiting[..4];
    assert!(has_gate_state(through_wait) && has_wait_of(TOKEN)(through_wait));
    assert!(!has_gate_state(&waiting[..2]));
    assert!(!has_wait_of(TOKEN)(&waiting[..2]));
    // Accept's and Start's inputs are not gate states.
    let refused = steps_of(&refused_input());
    assert!(!has_gate_state(&refused));
}
