//! The history file's reading: the newest gate state wins, whatever order the events came in;
//! the notification and the ending are found beside it; trimming keeps exactly what is read.

use serde_json::json;

use super::*;

/// A gate state as the tasks return it, with `reason` to tell states apart.
pub(crate) fn gate_state(reason: &str) -> Value {
    let t = "2026-12-07T03:00:00Z";
    json!({
        "gameName": "space-raiders", "stageName": "prod", "executionId": "arn:x:run-1",
        "executionStartedAt": t, "requestedSnapshotId": "v2", "previousSnapshotId": "v1",
        "policy": {"onInvalidRole": "alert", "onUnspecifiedFailure": "rollback",
                   "onTimeout": "rollback", "timeoutSeconds": 600},
        "deploymentId": "d-1", "snapshotId": "v2", "startedAt": t, "deadline": t, "attempt": 1,
        "deploymentState": "COMPLETED", "outcome": "SUCCEEDED", "resultCode": null,
        "message": null, "phase": "DEPLOY", "action": "succeed", "reason": reason,
        "waitSeconds": 0
    })
}

fn exited(id: i64, name: &str, output: &Value) -> Value {
    json!({"id": id, "type": "TaskStateExited", "timestamp": 1.7e9,
           "stateExitedEventDetails": {"name": name, "output": output.to_string()}})
}

fn history(events: Vec<Value>) -> SavedHistory {
    serde_json::from_value(json!({ "events": events })).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_newest_gate_state_is_read_with_its_notification_and_ending() {
    let mut notified = gate_state("newest");
    notified["notification"] = json!({"outcome": "SUCCEEDED", "messageId": "m-1"});
    // Out of order on purpose (a newest-first read): ids decide.
    let h = history(vec![
        json!({"id": 9, "type": "ExecutionSucceeded"}),
        exited(8, "Notify", &notified),
        exited(3, "Poll", &gate_state("older")),
        json!({"id": 2, "type": "StateEntered", "stateEnteredEventDetails":
               {"name": "Start", "input": "{\"gameName\": \"g\"}"}}),
        json!({"id": 1, "type": "ExecutionStarted"}),
    ]);
    let said = h.said().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(said.state.map(|s| s.reason).as_deref(), Some("newest"));
    assert_eq!(
        said.notification.map(|n| n["outcome"].clone()),
        Some(json!("SUCCEEDED"))
    );
    assert_eq!(said.ending.as_deref(), Some("SUCCEEDED"));
    let trimmed = h.trimmed();
    let kept: Vec<i64> = trimmed.events.iter().map(|e| e.id).collect();
    assert_eq!(kept, [9, 8, 1]);
    assert_eq!(
        trimmed.said().map(|s| s.state.map(|s| s.reason)),
        Ok(Some("newest".into()))
    );
}

#[test]
fn a_refused_run_has_no_gate_state_and_a_failed_one_names_its_error() {
    let h = history(vec![
        json!({"id": 1, "type": "ExecutionStarted"}),
        json!({"id": 2, "type": "ExecutionFailed",
               "executionFailedEventDetails": {"error": "StageGate.ERROR", "cause": "bad"}}),
    ]);
    let said = h.said().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(said.state, None);
    assert_eq!(said.ending.as_deref(), Some("FAILED StageGate.ERROR"));
}

#[test]
fn a_state_that_does_not_read_is_passed_over_and_named_when_none_reads() {
    let mut broken = gate_state("broken");
    broken["policy"] = json!("not a policy");
    let h = history(vec![
        exited(5, "Poll", &broken),
        exited(4, "Poll", &gate_state("fine")),
    ]);
    assert_eq!(
        h.said().map(|s| s.state.map(|s| s.reason)),
        Ok(Some("fine".into()))
    );
    let only_broken = history(vec![exited(5, "Poll", &broken)]);
    let refused = only_broken.said().err().unwrap_or_default();
    assert!(refused.contains("event 5"), "{refused}");
}
