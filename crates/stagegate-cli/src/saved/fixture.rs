//! A history whose newest gate state holds one recorded decision: a deployment that failed on
//! INVALID_ROLE_FAILURE, alerted under the default policy with a known-good snapshot at hand. The
//! tests of `explain` and `replay` read it as the CLI reads any history.

use serde_json::{json, Value};

use super::SavedHistory;

pub const ARN: &str = "arn:aws:states:eu-west-1:1:execution:gate:run-1";

/// The decision record: the poll that found the role refused.
pub fn invalid_role_poll() -> Value {
    json!({
        "at": "2026-12-07T03:05:00Z", "stageName": "prod", "kind": "poll", "phase": "DEPLOY",
        "seen": {"deploymentId": "d-1", "state": "FAILED", "resultCode": "INVALID_ROLE_FAILURE",
                 "message": "cannot assume role"},
        "deadline": "2026-12-07T03:10:00Z", "graceEnd": "2026-12-07T03:20:00Z",
        "knownGood": "v1", "outcome": "FAILED", "decided": "alert",
        "reason": "onInvalidRole: alert"
    })
}

/// A history whose Notify exit carries `state` and a notification.
pub fn history_of(state: Value) -> SavedHistory {
    let mut notified = state;
    notified["notification"] =
        json!({"outcome": "FAILED", "subject": "space-raiders prod: FAILED", "messageId": "m-1"});
    let events = json!({"executionArn": ARN, "events": [
        {"id": 1, "type": "ExecutionStarted"},
        {"id": 9, "type": "TaskStateExited",
         "stateExitedEventDetails": {"name": "Notify", "output": notified.to_string()}},
        {"id": 10, "type": "ExecutionFailed",
         "executionFailedEventDetails": {"error": "StageGate.FAILED", "cause": "role"}}
    ]});
    serde_json::from_value(events).unwrap_or_else(|e| panic!("{e}"))
}

/// The failed run with its record.
pub fn recorded() -> SavedHistory {
    let mut state = super::tests::gate_state("the stage role cannot be assumed");
    state["deploymentState"] = json!("FAILED");
    state["outcome"] = json!("FAILED");
    state["resultCode"] = json!("INVALID_ROLE_FAILURE");
    state["action"] = json!("alert");
    state["decisions"] = json!({"version": "0.1.0", "entries": [invalid_role_poll()],
                                "quiet": {"polls": 3, "bakeChecks": 0, "digest": "00ff00ff00ff00ff"}});
    history_of(state)
}

/// The same run as a version before the record would have left it.
pub fn unrecorded() -> SavedHistory {
    history_of(super::tests::gate_state("deployed"))
}

/// A start that read the abort (nobody asked) and deployed, as the record holds it after a
/// round trip through Step Functions (`abortRead`, no `abortedBy`).
pub fn deploy_start() -> Value {
    json!({
        "at": "2026-12-07T03:00:00Z", "stageName": "prod", "kind": "start",
        "facts": {"snapshotId": "v2", "requestedLatest": false, "serving": "v1", "abortRead": true},
        "decision": "deploy", "decided": "wait", "reason": "deployment started"
    })
}

/// A successful run whose record holds its start and its ending poll.
pub fn started() -> SavedHistory {
    let mut state = super::tests::gate_state("the requested snapshot is deployed");
    let mut poll = invalid_role_poll();
    poll["seen"] = json!({"deploymentId": "d-1", "state": "COMPLETED", "resultCode": "SUCCESS"});
    poll["outcome"] = json!("SUCCEEDED");
    poll["decided"] = json!("succeed");
    poll["reason"] = json!("the requested snapshot is deployed");
    state["decisions"] = json!({"version": "0.1.0", "entries": [deploy_start(), poll]});
    history_of(state)
}
