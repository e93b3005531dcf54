//! The contract between the core and the state machine: the ASL routes only on what the core
//! computes and catches only the errors it raises, so a rename on either side must fail here, not
//! in the e2e tier or on AWS; and every Task catches `States.ALL` into the outcome message, so no
//! task error ends a run unannounced. Checked against the committed `infra/statemachine` file.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::errortype as types;
use crate::policy::Action;

const ASL: &str = include_str!("../../../infra/statemachine/deployment-gate.asl.json");

/// What Step Functions and the Lambda service raise themselves.
const AWS_ERRORS: &[&str] = &[
    "States.ALL",
    "States.Timeout",
    "States.TaskFailed",
    "Lambda.AWSLambdaException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.SdkClientException",
    "Lambda.ServiceException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
    "Sandbox.Timedout",
];

/// What every Lambda task retries: the core's transient error and the invoke failures.
const TRANSIENT: &[&str] = &[
    types::RETRYABLE,
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.Unknown",
    "Sandbox.Timedout",
    "States.Timeout",
];

fn states(asl: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut stack = vec![asl.clone()];
    while let Some(machine) = stack.pop() {
        let Some(map) = machine.get("States").and_then(Value::as_object) else {
            continue;
        };
        for (name, state) in map {
            for nested in ["Branches"] {
                if let Some(branches) = state.get(nested).and_then(Value::as_array) {
                    stack.extend(branches.iter().cloned());
                }
            }
            for nested in ["Iterator", "ItemProcessor"] {
                if let Some(inner) = state.get(nested) {
                    stack.push(inner.clone());
                }
            }
            out.push((name.clone(), state.clone()));
        }
    }
    out
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["ErrorEquals"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect()
}

/// Whether a state publishes the outcome message (the notify-result function).
fn notifies(state: &Value) -> bool {
    state["Type"] == "Task"
        && (state["Parameters"]["FunctionName"].as_str() == Some("${NotifyResultFunctionArn}"))
        && state["Resource"].as_str() == Some("arn:aws:states:::lambda:invoke")
}

/// Every Task state catches `States.ALL`, so no error of any task (one the core does not name, a
/// `States.Runtime`, a Lambda error after the retries) ends the execution without the one
/// outcome message: the catch-all leads to a state that notifies, or, for a notifying task
/// itself (nothing is left to tell subscribers with), to a Fail state. No Task is exempt.
fn caught(name: &str, state: &Value, all: &[(String, Value)]) -> Vec<String> {
    let catch_all = state["Catch"].as_array().into_iter().flatten().find(|c| {
        c["ErrorEquals"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e == "States.ALL"))
    });
    let Some(catch_all) = catch_all else {
        return vec![format!("{name}: a Task with no Catch for `States.ALL`")];
    };
    let next = catch_all["Next"].as_str().unwrap_or_default();
    let target = all.iter().find(|(n, _)| n == next).map(|(_, s)| s);
    let fine = match target {
        None => false,
        Some(target) if notifies(state) => target["Type"] == "Fail",
        Some(target) => notifies(target),
    };
    if fine {
        Vec::new()
    } else {
        let want = if notifies(state) {
            "a Fail state"
        } else {
            "a state that notifies"
        };
        vec![format!(
            "{name}: its `States.ALL` Catch goes to `{next}`, not to {want}"
        )]
    }
}

fn check(asl: &str) -> Vec<String> {
    let asl: Value = match serde_json::from_str(asl) {
        Ok(v) => v,
        Err(e) => return vec![format!("the ASL is not JSON: {e}")],
    };
    let mut problems = Vec::new();
    let mut routed = BTreeSet::new();
    let all = states(&asl);
    for (name, state) in &all {
        if state["Type"] == "Task" {
            problems.extend(caught(name, state, &all));
        }
    }
    for (name, state) in all {
        let retried = names(&state["Retry"]);
        for error in retried.iter().chain(&names(&state["Catch"])) {
            let known = if error.starts_with("StageGate.") {
                types::ALL.contains(&error.as_str())
            } else {
                AWS_ERRORS.contains(&error.as_str())
            };
            if !known {
                problems.push(format!(
                    "{name}: `{error}` is neither a core errorType nor an AWS one"
                ));
            }
        }
        if state["Resource"].as_str() == Some("arn:aws:states:::lambda:invoke") {
            // A task that may start a stage checks the freeze `START_GUARD_SECONDS` ahead: the
            // guard holds only if Lambda stops an attempt before it runs out.
            let starts = state["Parameters"]["FunctionName"].as_str()
                == Some("${StartDeploymentFunctionArn}");
            let timeout = state["TimeoutSeconds"].as_i64();
            if starts && timeout.map_or(true, |t| t > crate::freeze::START_GUARD_SECONDS) {
                problems.push(format!(
                    "{name}: starts stages with TimeoutSeconds {timeout:?}, beyond the freeze check's {} s guard",
                    crate::freeze::START_GUARD_SECONDS
                ));
            }
            for transient in TRANSIENT {
                if !retried.iter().any(|e| e == transient) {
                    problems.push(format!("{name}: does not retry `{transient}`"));
                }
            }
        }
        // A wait for a person: its timeout is the approval's and must end the run, never be
        // retried (a retry would ask again and wait as long once more).
        if state["Resource"].as_str() == Some("arn:aws:states:::lambda:invoke.waitForTaskToken") {
            if retried
                .iter()
                .any(|e| e == "States.Timeout" || e == "States.ALL")
            {
                problems.push(format!("{name}: retries its own timeout"));
            }
            let catches_timeout = state["Catch"].as_array().into_iter().flatten().any(|c| {
                c["ErrorEquals"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e == "States.Timeout"))
            });
            if !catches_timeout {
                problems.push(format!("{name}: does not catch its timeout"));
            }
            if state.get("TimeoutSecondsPath").is_none() && state.get("TimeoutSeconds").is_none() {
                problems.push(format!("{name}: waits without a timeout"));
            }
        }
        if state["Type"] == "Choice" {
            for choice in state["Choices"].as_array().into_iter().flatten() {
                if choice["Variable"] == "$.action" {
                    match choice["StringEquals"].as_str() {
                        Some(value) => {
                            routed.insert(value.to_owned());
                        }
                        None if choice.get("IsPresent").is_some() => {}
                        None => problems.push(format!(
                            "{name}: routes on `$.action` other than by StringEquals"
                        )),
                    }
                }
                if let Some(not) = choice.get("Not") {
                    if not["Variable"] == "$.action" && not.get("IsPresent").is_none() {
                        problems.push(format!("{name}: a negated `$.action` test"));
                    }
                }
            }
        }
    }
    let actions: BTreeSet<String> = Action::ALL
        .iter()
        .filter_map(|a| serde_json::to_value(a).ok()?.as_str().map(str::to_owned))
        .collect();
    if routed != actions {
        problems.push(format!(
            "Route handles {routed:?}, the core decides {actions:?}"
        ));
    }
    problems
}

#[test]
fn the_workflow_catches_and_routes_only_what_the_core_raises_and_decides() {
    assert_eq!(check(ASL), Vec::<String>::new());
}

#[test]
fn renames_on_either_side_are_caught() {
    let renamed_error = ASL.replace("StageGate.NotificationFailed", "StageGate.NotifyFailed");
    assert!(check(&renamed_error)
        .iter()
        .any(|p| p.contains("StageGate.NotifyFailed")));
    let missing_retry = ASL.replacen("\"Sandbox.Timedout\",", "", 1);
    assert!(check(&missing_retry)
        .iter()
        .any(|p| p.contains("does not retry `Sandbox.Timedout`")));
    let slow_start = ASL.replacen("\"TimeoutSeconds\": 45", "\"TimeoutSeconds\": 90", 1);
    assert!(check(&slow_start)
        .iter()
        .any(|p| p.contains("beyond the freeze check's 60 s guard")));
    let renamed_action = ASL.replace(
        "\"StringEquals\": \"advance\"",
        "\"StringEquals\": \"promote\"",
    );
    assert!(check(&renamed_action)
        .iter()
        .any(|p| p.contains("Route handles")));
}

/// The ASL with `state`'s Catch rules replaced by `catch`.
fn with_catch(state: &str, catch: Value) -> String {
    let mut asl: Value = serde_json::from_str(ASL).unwrap_or_else(|e| panic!("the ASL: {e}"));
    asl["States"][state]["Catch"] = catch;
    asl.to_string()
}

#[test]
fn every_task_catches_everything_into_a_notification() {
    let asl: Value = serde_json::from_str(ASL).unwrap_or_else(|e| panic!("the ASL: {e}"));
    let tasks: Vec<String> = states(&asl)
        .into_iter()
        .filter(|(_, s)| s["Type"] == "Task")
        .map(|(n, _)| n)
        .collect();
    // The approval's two tasks are the ones no other tier fails; every task is checked.
    for must in [
        "AwaitApproval",
        "Answered",
        "Start",
        "Notify",
        "NotifyError",
    ] {
        assert!(
            tasks.iter().any(|t| t == must),
            "{must} is not a Task: {tasks:?}"
        );
    }
    for task in &tasks {
        let removed = with_catch(task, Value::Null);
        assert!(
            check(&removed)
                .iter()
                .any(|p| p == &format!("{task}: a Task with no Catch for `States.ALL`")),
            "{task}'s Catch removed: {:?}",
            check(&removed)
        );
    }
    // AwaitApproval keeps its timeout catch but loses the catch-all.
    let timeout_only = with_catch(
        "AwaitApproval",
        serde_json::json!([{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.approvalAnswer", "Next": "Answered"}]),
    );
    assert!(check(&timeout_only)
        .iter()
        .any(|p| p.contains("AwaitApproval: a Task with no Catch for `States.ALL`")));
    // Caught, but ended without a message.
    let silent = with_catch(
        "Answered",
        serde_json::json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}]),
    );
    assert!(check(&silent).iter().any(|p| p.contains(
        "Answered: its `States.ALL` Catch goes to `Failed`, not to a state that notifies"
    )));
    // A notifying task that catches into another notification could loop.
    let again = with_catch(
        "NotifyError",
        serde_json::json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify"}]),
    );
    assert!(check(&again).iter().any(
        |p| p.contains("NotifyError: its `States.ALL` Catch goes to `Notify`, not to a Fail state")
    ));
}
