//! Tests of `metrics`, beside it (the module is long enough without them).

use super::*;
use crate::approval::{Answer, Approval, ApprovalSpec, Decision};
use crate::bake::{BakeSpec, BakeWindow};
use crate::classify::Outcome;
use crate::deployment::ResultCode;
use crate::notification::{render, Report};
use crate::policy::Phase;
use crate::verdict::{verdict, CaughtError};
use crate::wave::{PassedStage, Wave, WaveStage};
use time::macros::datetime;
use time::Duration;

// ---- A tiny simulator of the committed workflow ------------------------------------------

/// What a task did, as the script of a run says.
#[derive(Debug, Clone)]
enum Step {
    /// A gate task returned a gate state with this `action`.
    Returns(&'static str),
    /// notify-result returned; the run succeeded or not.
    Notified(bool),
    /// The task failed with this error after its retries.
    Throws(&'static str),
}

#[derive(Debug)]
struct Sim {
    transitions: u32,
    lambda_invocations: u32,
    trace: Vec<String>,
}

fn asl() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/statemachine/deployment-gate.asl.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A JSONPath of the forms the workflow uses (`$`, `$.a.b`); context paths (`$$.`) read a
/// placeholder.
fn read(doc: &Value, path: &str) -> Option<Value> {
    if path.starts_with("$$.") {
        return Some(json!("context"));
    }
    let rest = path.strip_prefix('$')?;
    let mut at = doc;
    for key in rest.split('.').filter(|k| !k.is_empty()) {
        at = at.get(key)?;
    }
    Some(at.clone())
}

fn write(doc: &mut Value, path: &str, value: Value) {
    let Some(rest) = path.strip_prefix("$.") else {
        assert_eq!(path, "$", "the simulator writes $ or $.a.b only");
        *doc = value;
        return;
    };
    let mut at = doc;
    for key in rest.split('.') {
        if !at.is_object() {
            *at = json!({});
        }
        at = at
            .as_object_mut()
            .map(|m| m.entry(key).or_insert(Value::Null))
            .unwrap_or_else(|| unreachable!());
    }
    *at = value;
}

/// Parameters / ResultSelector: `"k.$"` members read a path, others are literal.
fn template(t: &Value, input: &Value, state: &str) -> Value {
    match t {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| match (k.strip_suffix(".$"), v.as_str()) {
                    (Some(key), Some(path)) => (
                        key.to_owned(),
                        read(input, path).unwrap_or_else(|| {
                            panic!("{state}: {path} is missing (States.Runtime)")
                        }),
                    ),
                    _ => (k.clone(), template(v, input, state)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// ResultSelector, ResultPath, OutputPath, in the order Step Functions applies them.
fn apply_result(state: &Value, name: &str, input: Value, result: Value) -> Value {
    let result = match state.get("ResultSelector") {
        Some(t) => template(t, &result, name),
        None => result,
    };
    let mut doc = input;
    match state.get("ResultPath") {
        None => doc = result,
        Some(Value::Null) => {}
        Some(p) => write(&mut doc, p.as_str().unwrap_or("$"), result),
    }
    match state.get("OutputPath").and_then(Value::as_str) {
        Some(p) => read(&doc, p).unwrap_or(Value::Null),
        None => doc,
    }
}

fn rule_matches(rule: &Value, doc: &Value) -> bool {
    if let Some(inner) = rule.get("Not") {
        return !rule_matches(inner, doc);
    }
    if let Some(all) = rule.get("And").and_then(Value::as_array) {
        return all.iter().all(|r| rule_matches(r, doc));
    }
    if let Some(any) = rule.get("Or").and_then(Value::as_array) {
        return any.iter().any(|r| rule_matches(r, doc));
    }
    let variable = rule["Variable"].as_str().unwrap_or("$");
    let value = read(doc, variable);
    let members = rule.as_object().cloned().unwrap_or_default();
    members
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "Variable" | "Next"))
        .all(|(op, want)| match op.as_str() {
            "IsPresent" => Some(value.is_some()) == want.as_bool(),
            "StringEquals" => {
                value.as_ref().and_then(Value::as_str).is_some() && value.as_ref() == Some(want)
            }
            "BooleanEquals" => {
                value.as_ref().and_then(Value::as_bool).is_some() && value.as_ref() == Some(want)
            }
            other => {
                panic!("the simulator does not know the Choice operator {other}: teach it")
            }
        })
}

/// Runs the workflow on `script`: each task entered takes the next step, which must be for
/// that task. Counts every state entered (a Step Functions state transition) and every
/// Lambda task entered. Retries are not simulated: a `Throws` is the error after them.
fn simulate(script: &[(&str, Step)]) -> Sim {
    let asl = asl();
    let mut steps = script.iter();
    let mut name = asl["StartAt"].as_str().unwrap_or_default().to_owned();
    let mut doc = json!({"gameName": "g", "stageName": "s", "snapshotId": "latest"});
    let mut sim = Sim {
        transitions: 0,
        lambda_invocations: 0,
        trace: vec![],
    };
    loop {
        let state = asl["States"][&name].clone();
        assert!(state.is_object(), "no state {name} (after {:?})", sim.trace);
        sim.transitions += 1;
        sim.trace.push(name.clone());
        assert!(
            sim.transitions < 10_000,
            "the run never ends: {:?}",
            sim.trace
        );
        let next = |s: &Value| s["Next"].as_str().unwrap_or_default().to_owned();
        match state["Type"].as_str().unwrap_or_default() {
            "Pass" => {
                let result = match (state.get("Result"), state.get("Parameters")) {
                    (Some(r), _) => r.clone(),
                    (None, Some(p)) => template(p, &doc, &name),
                    (None, None) => doc.clone(),
                };
                doc = apply_result(&state, &name, doc, result);
                name = next(&state);
            }
            "Wait" => name = next(&state),
            "Task" => {
                let resource = state["Resource"].as_str().unwrap_or_default();
                if resource.contains(":lambda:invoke") {
                    sim.lambda_invocations += 1;
                }
                if let Some(p) = state.get("Parameters") {
                    template(p, &doc, &name);
                }
                let Some((task, step)) = steps.next() else {
                    panic!("the script ends before {name} (after {:?})", sim.trace)
                };
                assert_eq!(
                    *task, name,
                    "the script is off the workflow's path: {:?}",
                    sim.trace
                );
                let payload = match step {
                    Step::Returns(action) => json!({"gameName": "g", "action": action}),
                    Step::Notified(succeeded) => json!({
                        "outcome": "X", "succeeded": succeeded, "error": "StageGate.X",
                        "cause": "c", "subject": "s", "messageId": "m"
                    }),
                    Step::Throws(error) => {
                        let catcher = state["Catch"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|c| {
                                c["ErrorEquals"].as_array().into_iter().flatten().any(|e| {
                                    e.as_str() == Some(error) || e.as_str() == Some("States.ALL")
                                })
                            })
                            .unwrap_or_else(|| panic!("{name} catches no {error}"))
                            .clone();
                        let caught = json!({"Error": error, "Cause": "c"});
                        doc = apply_result(&catcher, &name, doc, caught);
                        name = next(&catcher);
                        continue;
                    }
                };
                // A token task's result is what SendTaskSuccess sent; an invoke's is wrapped.
                let result = if resource.ends_with(".waitForTaskToken") {
                    json!({"decision": "APPROVE"})
                } else {
                    json!({"Payload": payload, "StatusCode": 200})
                };
                doc = apply_result(&state, &name, doc, result);
                name = next(&state);
            }
            "Choice" => {
                let choices = state["Choices"].as_array().cloned().unwrap_or_default();
                name = choices
                    .iter()
                    .find(|c| rule_matches(c, &doc))
                    .map(next)
                    .or_else(|| state["Default"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| panic!("{name}: no choice matches {doc}"));
            }
            "Succeed" | "Fail" => break,
            other => panic!("the simulator does not know state type {other}: teach it"),
        }
    }
    let left: Vec<_> = steps.collect();
    assert!(
        left.is_empty(),
        "steps never run: {left:?} ({:?})",
        sim.trace
    );
    sim
}

// ---- Runs, as a script and as the gate state they leave --------------------------------

const T0: OffsetDateTime = datetime!(2026-11-26 08:00:00 UTC);

fn at(s: i64) -> OffsetDateTime {
    T0 + Duration::seconds(s)
}

fn base() -> GateState {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/poll-deployment.json"
    )))
    .unwrap_or_else(|e| panic!("sample state: {e}"))
}

/// The requested deployment after `polls` polls, ended as `outcome` at `ended` s.
fn deployed(polls: u32, outcome: Outcome, ended: i64) -> GateState {
    let mut s = base();
    s.deployment.deployment_id = "dep-0123456789abcdef".into();
    s.deployment.started_at = at(1);
    s.deployment.attempt = polls;
    s.deployment.outcome = outcome;
    (s.deployment.deployment_state, s.deployment.result_code) = match outcome {
        Outcome::Succeeded => (DeploymentState::Completed, Some(ResultCode::Success)),
        Outcome::Failed => (
            DeploymentState::Failed,
            Some(ResultCode::UnspecifiedFailure),
        ),
        Outcome::Unchanged | Outcome::Blocked => (DeploymentState::NotStarted, None),
        _ => (DeploymentState::InProgress, None),
    };
    s.deployment.finished_at = outcome.is_terminal().then(|| at(ended));
    s.action = match outcome {
        Outcome::Succeeded => Action::Succeed,
        Outcome::InProgress => Action::Wait,
        _ => Action::Alert,
    };
    s
}

fn rolled_back(mut s: GateState, polls: u32, outcome: Outcome) -> GateState {
    let mut r = s.deployment.clone();
    r.deployment_id = "dep-fedcba9876543210".into();
    r.started_at = at(300);
    r.attempt = polls;
    r.outcome = outcome;
    r.deployment_state = DeploymentState::Completed;
    r.finished_at = Some(at(400));
    r.rollback_of = Some(s.deployment.deployment_id.clone());
    s.rollback = Some(r);
    s.phase = Phase::Rollback;
    s.action = Action::Alert;
    s
}

fn baked(mut s: GateState, checks: u32, passed: bool) -> GateState {
    let spec = BakeSpec {
        seconds: 300,
        alarm_names: vec!["errors".into()],
        check_interval_seconds: 60,
        fail_on_insufficient_data: false,
        ignore_alarm_read_errors: false,
    };
    s.bake = Some(spec);
    s.bake_window = Some(BakeWindow {
        started_at: at(200),
        ends_at: at(500),
        checks,
        readings: vec![],
        ignored_read_errors: 0,
        last_read_error: None,
        failure: None,
        passed_at: passed.then(|| at(500)),
    });
    s.phase = Phase::Bake;
    s
}

fn passed(baked_seconds: u64) -> Option<PassedStage> {
    Some(PassedStage {
        deployment_id: "dep-0".into(),
        snapshot_id: "s".into(),
        previous_snapshot_id: None,
        passed_at: at(100),
        baked_seconds,
    })
}

/// A wave at `index` whose stages before it passed with these bakes (seconds).
fn in_wave(mut s: GateState, bakes: &[u64], stages: usize) -> GateState {
    s.wave = Some(Wave {
        index: bakes.len(),
        stages: (0..stages)
            .map(|i| WaveStage {
                stage_name: format!("stage{i}"),
                bake: None,
                approval: None,
                passed: bakes.get(i).and_then(|b| passed(*b)),
            })
            .collect(),
    });
    s
}

fn approved(mut s: GateState, decision: Option<Decision>) -> GateState {
    let mut a = Approval::request(
        &s.stage_name,
        ApprovalSpec {
            timeout_seconds: 600,
        },
        None,
        at(0),
    );
    a.answer = decision.map(|decision| Answer {
        decision,
        by: None,
        reason: None,
        at: at(1),
        signature: None,
    });
    s.approval = Some(a);
    s
}

/// `n` polls, the last returning `last`.
fn polls(n: usize, last: &'static str) -> Vec<(&'static str, Step)> {
    let mut out: Vec<_> = (1..n).map(|_| ("Poll", Step::Returns("wait"))).collect();
    out.push(("Poll", Step::Returns(last)));
    out
}

struct Run {
    name: &'static str,
    script: Vec<(&'static str, Step)>,
    state: Option<GateState>,
    ending: Ending,
    /// The state lacks part of the path, so the count is below the simulation's.
    lower_bound: bool,
}

fn script(parts: Vec<Vec<(&'static str, Step)>>) -> Vec<(&'static str, Step)> {
    parts.into_iter().flatten().collect()
}

fn start(action: &'static str) -> Vec<(&'static str, Step)> {
    vec![("Start", Step::Returns(action))]
}

fn notify(succeeded: bool) -> Vec<(&'static str, Step)> {
    vec![("Notify", Step::Notified(succeeded))]
}

fn notify_error() -> Vec<(&'static str, Step)> {
    vec![("NotifyError", Step::Notified(false))]
}

fn runs() -> Vec<Run> {
    let ok = Ending::Notify;
    let mut dry = base();
    dry.dry_run = true;
    dry.plan = Some(crate::plan::Plan::new(Some("S".into()), vec![], vec![]));
    dry.action = Action::Succeed;
    let unchanged = deployed(0, Outcome::Unchanged, 0);
    let blocked = deployed(0, Outcome::Blocked, 0);
    let mut awaiting = base();
    awaiting.phase = Phase::Approval;
    awaiting.action = Action::Approve;
    let mut rejected = approved(base(), Some(Decision::Reject));
    rejected.phase = Phase::Approval;
    rejected.action = Action::Alert;
    let mut approval_timed_out = approved(base(), Some(Decision::TimedOut));
    approval_timed_out.phase = Phase::Approval;
    approval_timed_out.action = Action::Alert;
    let mut advancing = in_wave(deployed(1, Outcome::Succeeded, 60), &[], 2);
    advancing.action = Action::Advance;
    vec![
        Run {
            name: "success after 1 poll",
            script: script(vec![start("wait"), polls(1, "succeed"), notify(true)]),
            state: Some(deployed(1, Outcome::Succeeded, 60)),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "success after 4 polls",
            script: script(vec![start("wait"), polls(4, "succeed"), notify(true)]),
            state: Some(deployed(4, Outcome::Succeeded, 60)),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "failure, rollback, 3 rollback polls",
            script: script(vec![
                start("wait"),
                polls(2, "rollback"),
                vec![("Rollback", Step::Returns("wait"))],
                polls(3, "alert"),
                notify(false),
            ]),
            state: Some(rolled_back(
                deployed(2, Outcome::Failed, 60),
                3,
                Outcome::Succeeded,
            )),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "rollback refused (BLOCKED)",
            script: script(vec![
                start("wait"),
                polls(3, "rollback"),
                vec![("Rollback", Step::Returns("alert"))],
                notify(false),
            ]),
            state: Some(rolled_back(
                deployed(3, Outcome::Failed, 60),
                0,
                Outcome::Blocked,
            )),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "bake with 5 checks",
            script: script(vec![
                start("wait"),
                polls(2, "wait"),
                polls(5, "succeed"),
                notify(true),
            ]),
            state: Some(baked(deployed(2, Outcome::Succeeded, 60), 5, true)),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "bake fails after 2 checks, rollback",
            script: script(vec![
                start("wait"),
                polls(1, "wait"),
                polls(2, "rollback"),
                vec![("Rollback", Step::Returns("wait"))],
                polls(2, "alert"),
                notify(false),
            ]),
            state: Some(rolled_back(
                baked(deployed(1, Outcome::Succeeded, 60), 2, false),
                2,
                Outcome::Succeeded,
            )),
            ending: ok,
            lower_bound: false,
        },
        Run {
            // Each passed stage polled as few times as it can: the count is exact.
            name: "3-stage wave, the first baked 300 s in one check",
            script: script(vec![
                start("wait"),
                polls(1, "wait"),
                polls(1, "advance"),
                vec![("Advance", Step::Returns("wait"))],
                polls(1, "advance"),
                vec![("Advance", Step::Returns("wait"))],
                polls(3, "succeed"),
                notify(true),
            ]),
            state: Some(in_wave(deployed(3, Outcome::Succeeded, 60), &[300, 0], 3)),
            ending: ok,
            lower_bound: false,
        },
        Run {
            // The passed stages' own polls are not in the state: a lower bound.
            name: "3-stage wave, passed stages polled 4 and 2 times",
            script: script(vec![
                start("wait"),
                polls(4, "advance"),
                vec![("Advance", Step::Returns("wait"))],
                polls(2, "advance"),
                vec![("Advance", Step::Returns("wait"))],
                polls(1, "succeed"),
                notify(true),
            ]),
            state: Some(in_wave(deployed(1, Outcome::Succeeded, 60), &[0, 0], 3)),
            ending: ok,
            lower_bound: true,
        },
        Run {
            name: "dry run",
            script: script(vec![start("succeed"), notify(true)]),
            state: Some(dry),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "unchanged",
            script: script(vec![start("succeed"), notify(true)]),
            state: Some(unchanged),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "blocked at start (a bake alarm fires)",
            script: script(vec![start("alert"), notify(false)]),
            state: Some(blocked),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "approved, then deployed",
            script: script(vec![
                start("approve"),
                vec![("AwaitApproval", Step::Notified(true))],
                vec![("Answered", Step::Returns("wait"))],
                polls(2, "succeed"),
                notify(true),
            ]),
            state: Some(approved(
                deployed(2, Outcome::Succeeded, 60),
                Some(Decision::Approve),
            )),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "rejected",
            script: script(vec![
                start("approve"),
                vec![("AwaitApproval", Step::Notified(true))],
                vec![("Answered", Step::Returns("alert"))],
                notify(false),
            ]),
            state: Some(rejected),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "approval timed out",
            script: script(vec![
                start("approve"),
                vec![("AwaitApproval", Step::Throws("States.Timeout"))],
                vec![("Answered", Step::Returns("alert"))],
                notify(false),
            ]),
            state: Some(approval_timed_out),
            ending: ok,
            lower_bound: false,
        },
        Run {
            name: "error: Start failed",
            script: script(vec![
                vec![("Start", Step::Throws("StageGate.InvalidInput"))],
                notify_error(),
            ]),
            state: None,
            ending: Ending::NotifyError,
            lower_bound: false,
        },
        Run {
            name: "error: the third poll failed",
            script: script(vec![
                start("wait"),
                polls(2, "wait"),
                vec![("Poll", Step::Throws("StageGate.AccessDenied"))],
                notify_error(),
            ]),
            state: Some(deployed(2, Outcome::InProgress, 0)),
            ending: Ending::NotifyError,
            lower_bound: false,
        },
        Run {
            name: "error: Rollback failed",
            script: script(vec![
                start("wait"),
                polls(1, "rollback"),
                vec![("Rollback", Step::Throws("StageGate.ServiceError"))],
                notify_error(),
            ]),
            state: Some({
                let mut s = deployed(1, Outcome::Failed, 60);
                s.action = Action::Rollback;
                s
            }),
            ending: Ending::NotifyError,
            lower_bound: false,
        },
        Run {
            name: "error: Advance failed",
            script: script(vec![
                start("wait"),
                polls(1, "advance"),
                vec![("Advance", Step::Throws("StageGate.NotFound"))],
                notify_error(),
            ]),
            state: Some(advancing),
            ending: Ending::NotifyError,
            lower_bound: false,
        },
        Run {
            name: "error: AwaitApproval failed",
            script: script(vec![
                start("approve"),
                vec![(
                    "AwaitApproval",
                    Step::Throws("StageGate.NotificationFailed"),
                )],
                notify_error(),
            ]),
            state: Some(approved(awaiting, None)),
            ending: Ending::NotifyError,
            lower_bound: false,
        },
        Run {
            // notify-result cannot read a state Route could not follow: an estimate.
            name: "error: unknown action",
            script: script(vec![start("bogus"), notify_error()]),
            state: None,
            ending: Ending::NotifyError,
            lower_bound: true,
        },
    ]
}

#[test]
fn transitions_follow_the_workflow() {
    let mut exact = 0;
    for run in runs() {
        let sim = simulate(&run.script);
        let path = RunPath::of(run.state.as_ref(), run.ending);
        let (counted, invoked) = (path.state_transitions(), path.lambda_invocations());
        let what = format!("{}: {:?} {path:?}", run.name, sim.trace);
        exact += u32::from(path.exact);
        if run.lower_bound {
            // What the state does not record is never made up, and never claimed exact.
            assert!(!path.exact, "{what}");
            assert!(counted < sim.transitions, "transitions of {what}");
            assert!(invoked <= sim.lambda_invocations, "invocations of {what}");
        } else {
            assert_eq!(counted, sim.transitions, "transitions of {what}");
            assert_eq!(invoked, sim.lambda_invocations, "invocations of {what}");
        }
        if let (Some(state), Ending::Notify) = (&run.state, run.ending) {
            assert_eq!(state_transitions(state), counted, "{what}");
            assert_eq!(lambda_invocations(state), invoked, "{what}");
            assert_eq!(
                run_cost(Some(state), Ending::Notify).state_transitions,
                counted
            );
        }
    }
    assert!(exact >= 15, "most runs are counted exactly ({exact})");
}

#[test]
fn the_formula_in_numbers() {
    // The doc comment's formula, by hand, for the paths it names.
    let count = |s: &GateState| state_transitions(s);
    assert_eq!(count(&deployed(1, Outcome::Succeeded, 60)), 9);
    assert_eq!(count(&deployed(10, Outcome::Succeeded, 60)), 36);
    let rollback = rolled_back(deployed(2, Outcome::Failed, 60), 3, Outcome::Succeeded);
    assert_eq!(count(&rollback), 6 + 3 * 5 + 2);
    let bake = baked(deployed(2, Outcome::Succeeded, 60), 5, true);
    assert_eq!(count(&bake), 6 + 3 * 7);
    assert_eq!(lambda_invocations(&bake), 2 + 7);
    let failed_poll = RunPath::of(
        Some(&deployed(2, Outcome::InProgress, 0)),
        Ending::NotifyError,
    );
    assert_eq!(failed_poll.state_transitions(), 3 + 6 + 2 + 2);
    assert_eq!(
        RunPath::of(None, Ending::NotifyError).state_transitions(),
        4
    );
    // A wave stage passed counts its fewest polls: one, plus a check per 300 s of bake.
    assert_eq!(fewest_polls(0), 1);
    assert_eq!(fewest_polls(300), 2);
    assert_eq!(fewest_polls(301), 3);
    assert_eq!(fewest_polls(7200), 25);
}

#[test]
fn the_ending_is_read_from_what_notify_result_received() {
    assert_eq!(Ending::of(&json!({"action": "succeed"})), Ending::Notify);
    assert_eq!(
        Ending::of(&json!({"input": {}, "error": {"Error": "E", "Cause": "c"}})),
        Ending::NotifyError
    );
    assert_eq!(Ending::of(&json!({"error": "text"})), Ending::Notify);
}

#[test]
fn cost_at_list_prices() {
    // 36 transitions = $0.0009; 12 invocations = 12 x ($0.0000002 + 0.1 s x 0.125 GB x
    // $0.0000133334) = $0.0000044.
    let cost = estimate(36, 12);
    assert_eq!(cost.estimated_usd, 0.000904);
    assert_eq!((cost.state_transitions, cost.lambda_invocations), (36, 12));
    assert_eq!(estimate(0, 0).estimated_usd, 0.0);
    // Rounded to 6 decimals.
    assert_eq!(estimate(1, 0).estimated_usd, 0.000025);
    assert_eq!(estimate(0, 1).estimated_usd, 0.0);
    assert_eq!(estimate(0, 3).estimated_usd, 0.000001);
    assert_eq!(
        serde_json::to_value(cost).unwrap_or_default(),
        json!({"stateTransitions": 36, "lambdaInvocations": 12, "estimatedUsd": 0.000904})
    );
    let huge = estimate(u32::MAX, u32::MAX);
    assert!(huge.estimated_usd.is_finite() && huge.estimated_usd > 100_000.0);
}

// ---- EMF ------------------------------------------------------------------------------

const NOW: OffsetDateTime = datetime!(2026-11-26 08:10:00 UTC);

fn message_for(state: Option<&GateState>, error: Option<&CaughtError>) -> Message {
    let notification = render(&Report {
        verdict: verdict(state, error),
        state,
        error,
        fallback_game: None,
        fallback_stage: None,
        execution_id: "arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:run-1".into(),
        now: NOW,
    });
    serde_json::from_str(&notification.message).unwrap_or_else(|e| panic!("message: {e}"))
}

fn record_for(state: Option<&GateState>, error: Option<&CaughtError>) -> Value {
    let ending = if error.is_some() {
        Ending::NotifyError
    } else {
        Ending::Notify
    };
    let cost = run_cost(state, ending);
    emf_record(&message_for(state, error), state, &cost, 1_764_144_600_000)
}

fn metric_names(record: &Value) -> Vec<String> {
    record["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["Name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_success_record() {
    let state = deployed(4, Outcome::Succeeded, 61);
    let r = record_for(Some(&state), None);
    assert_eq!(r["_aws"]["Timestamp"], 1_764_144_600_000_i64);
    let directive = &r["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "StageGate");
    assert_eq!(
        directive["Dimensions"],
        json!([["GameName", "StageName", "Outcome"], ["Outcome"]])
    );
    // Runs per game and outcome, apart: what one stack's failure alarm subtracts, so another
    // game's refusals (a stack per game, one namespace per account) never hide this game's
    // failures.
    assert_eq!(
        r["_aws"]["CloudWatchMetrics"][1],
        json!({"Namespace": "StageGate", "Dimensions": [["GameName", "Outcome"]],
               "Metrics": [{"Name": "Runs", "Unit": "Count"}]})
    );
    assert_eq!(
        (&r["GameName"], &r["StageName"], &r["Outcome"]),
        (&json!("space-raiders"), &json!("prod"), &json!("SUCCEEDED"))
    );
    assert_eq!(r["Runs"], 1);
    // GameSparks ran it from 08:00:01 to 08:01:01; Notify ran at 08:10:00.
    assert_eq!(r["DeploymentSeconds"], 60.0);
    assert_eq!(r["DetectionLatencySeconds"], 539.0);
    assert_eq!(r["Polls"], 4);
    assert_eq!(r["StateTransitions"], 18);
    assert_eq!(r["Rollbacks"], 0);
    assert_eq!(r["EstimatedCostUSD"], estimate(18, 6).estimated_usd);
    assert_eq!(
        r["ExecutionId"],
        "arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:run-1"
    );
    assert_eq!(r["SnapshotId"], "Snapshot_2026-11-10T14:30:00.000Z");
    let units: Vec<(String, String)> = directive["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| (m["Name"].to_string(), m["Unit"].to_string()))
        .collect();
    assert!(units.contains(&("\"DeploymentSeconds\"".into(), "\"Seconds\"".into())));
    assert!(units.contains(&("\"EstimatedCostUSD\"".into(), "\"None\"".into())));
    assert!(units.contains(&("\"Runs\"".into(), "\"Count\"".into())));
    // With a bake, the poll that saw the success opened the window: exact.
    let bake = baked(deployed(2, Outcome::Succeeded, 61), 5, true);
    assert_eq!(
        record_for(Some(&bake), None)["DetectionLatencySeconds"],
        139.0
    );
}

#[test]
fn a_rollback_record() {
    let state = rolled_back(deployed(3, Outcome::Failed, 61), 2, Outcome::Succeeded);
    let r = record_for(Some(&state), None);
    assert_eq!(r["Outcome"], "ROLLED_BACK");
    assert_eq!(r["Rollbacks"], 1);
    assert_eq!(r["Polls"], 5);
    assert_eq!(r["StateTransitions"], 6 + 15 + 2);
    // The requested deployment's time, and when the rollback (started by the gate once it
    // saw the failure) was created: not the rollback's end, nor Notify's time.
    assert_eq!(r["DeploymentSeconds"], 60.0);
    assert_eq!(r["DetectionLatencySeconds"], 239.0);
}

#[test]
fn a_record_without_a_state() {
    let error = CaughtError {
        error: "StageGate.InvalidInput".into(),
        cause: "invalid input: field `gameName`".into(),
    };
    let r = record_for(None, Some(&error));
    assert_eq!(
        (&r["GameName"], &r["StageName"], &r["Outcome"]),
        (&json!("UNKNOWN"), &json!("UNKNOWN"), &json!("ERROR"))
    );
    assert_eq!((&r["Polls"], &r["Rollbacks"]), (&json!(0), &json!(0)));
    assert_eq!(r["StateTransitions"], 4);
    assert_eq!(r["SnapshotId"], Value::Null);
    for absent in ["DeploymentSeconds", "DetectionLatencySeconds"] {
        assert!(r.get(absent).is_none(), "{absent}");
        assert!(!metric_names(&r).contains(&absent.to_owned()), "{absent}");
    }
    // A deployment still running when the gate gave up has no GameSparks end either.
    let mut timed_out = deployed(80, Outcome::TimedOut, 3600);
    timed_out.deployment.deployment_state = DeploymentState::InProgress;
    let r = record_for(Some(&timed_out), None);
    assert!(r.get("DeploymentSeconds").is_none() && r.get("DetectionLatencySeconds").is_none());
}

#[test]
fn every_metric_and_dimension_has_its_member() {
    let error = CaughtError {
        error: "StageGate.AccessDenied".into(),
        cause: "c".into(),
    };
    let mut records: Vec<Value> = runs()
        .iter()
        .map(|run| {
            let caught = (run.ending == Ending::NotifyError).then_some(&error);
            record_for(run.state.as_ref(), caught)
        })
        .collect();
    records.push(record_for(None, None));
    for r in &records {
        let directives = r["_aws"]["CloudWatchMetrics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(directives.len(), 2);
        assert!(r["_aws"]["Timestamp"].is_i64());
        for d in &directives {
            let metrics = d["Metrics"].as_array().cloned().unwrap_or_default();
            assert!(!metrics.is_empty() && metrics.len() <= MAX_METRICS);
            for m in &metrics {
                let name = m["Name"].as_str().unwrap_or_default();
                assert!(r[name].is_number(), "metric {name} in {r}");
                assert!(
                    ["Count", "Seconds", "None"].contains(&m["Unit"].as_str().unwrap_or("")),
                    "{m}"
                );
            }
            for set in d["Dimensions"].as_array().into_iter().flatten() {
                let keys = set.as_array().cloned().unwrap_or_default();
                assert!(!keys.is_empty() && keys.len() <= MAX_DIMENSIONS_PER_SET);
                for key in keys {
                    let key = key.as_str().unwrap_or_default();
                    let value = r[key].as_str().unwrap_or_default();
                    assert!(!value.trim().is_empty(), "dimension {key} in {r}");
                    assert!(value.chars().count() <= MAX_DIMENSION_VALUE_CHARS);
                    assert!(value.chars().all(|c| c.is_ascii() && !c.is_control()));
                }
            }
        }
    }
}

#[test]
fn dimension_values_are_what_cloudwatch_accepts() {
    let state = deployed(1, Outcome::Succeeded, 60);
    let mut message = message_for(Some(&state), None);
    message.game_name = Some("\u{e9}".repeat(2_000));
    message.stage_name = Some(" \t\n".into());
    let r = emf_record(&message, Some(&state), &estimate(9, 3), 0);
    let game = r["GameName"].as_str().unwrap_or_default();
    assert_eq!(game, "?".repeat(MAX_DIMENSION_VALUE_CHARS));
    assert_eq!(r["StageName"], "UNKNOWN");
    assert_eq!(dimension_value(Some("a\u{0}b")), "ab");
    assert_eq!(dimension_value(None), "UNKNOWN");
}
