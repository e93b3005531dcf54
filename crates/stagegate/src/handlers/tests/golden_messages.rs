//! Golden files of the published contract: for every outcome, one run driven through the fakes to
//! that ending, and the one message it publishes (subject, attributes, body) compared with
//! `schemas/examples/<outcome>.json`. Subscribers build on these examples, so any change to what a
//! run publishes shows up here as a reviewed diff; `STAGEGATE_BLESS=1` rewrites the files after an
//! intended change (as `stagegate_core::schema` does for the schemas), and is refused when `CI`
//! is set.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lambda_runtime::Diagnostic;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::operator_control::{answer, answered, awaiting, frozen_input, TIMED_OUT};
use super::rollback_deployment::failed_and_rolling_back;
use super::safety::{
    bake, baking, minutes, poll_at, quiet_alarms, start_with, wave_input, with_input, LATENCY,
};
use super::start_deployment::serving_latest;
use super::{input, message_of, polled, stage, started, started_then_finished, svc, S4, S5, T0};
use crate::bake::ALARM;
use crate::deployment::{DeploymentState, ResultCode};
use crate::error::GateError;
use crate::fakes::{FakeAlarms, FakeGameSparks, FakeNotifier, GET};
use crate::handlers::{notify, poll, start};
use crate::message::Message;
use crate::ports::ServiceErrorKind;
use crate::verdict::Verdict;

/// Every verdict, each with the golden file of its own name.
const ALL: [Verdict; 16] = [
    Verdict::Succeeded,
    Verdict::Failed,
    Verdict::TimedOut,
    Verdict::RolledBack,
    Verdict::RollbackFailed,
    Verdict::Blocked,
    Verdict::Unchanged,
    Verdict::BakeFailed,
    Verdict::DryRun,
    Verdict::DryRunBlocked,
    Verdict::Error,
    Verdict::Rejected,
    Verdict::ApprovalTimedOut,
    Verdict::Aborted,
    Verdict::AwaitingApproval,
    Verdict::Frozen,
];

/// `ROLLBACK_FAILED` -> `rollback-failed`.
fn file_stem(verdict: Verdict) -> String {
    verdict.as_str().to_lowercase().replace('_', "-")
}

/// What notify-result receives at the end of a run (a gate state, or a Catch output), and when.
struct Ending {
    state: Value,
    now: OffsetDateTime,
}

fn ending(state: impl serde::Serialize, now: OffsetDateTime) -> Ending {
    Ending {
        state: serde_json::to_value(state).unwrap_or_else(|e| panic!("state: {e}")),
        now,
    }
}

/// The Catch output Step Functions passes on when a task fails: the task's input with the Lambda
/// error document added as `error`.
fn caught(mut task_input: Value, err: GateError) -> Value {
    let d = Diagnostic::from(err);
    let cause = json!({"errorType": d.error_type, "errorMessage": d.error_message});
    task_input["error"] = json!({"Error": d.error_type, "Cause": cause.to_string()});
    task_input
}

/// The run that ends in `verdict`, mostly the scenarios of the other test files. The match names
/// every verdict: a new one does not compile until it has a run here, and the coverage check
/// below then asks for it in `ALL` and for its golden file.
async fn run_to(verdict: Verdict) -> Ending {
    match verdict {
        // A plain deployment, no bake (notify_result::notify_success_message).
        Verdict::Succeeded => {
            let gs = stage();
            ending(super::deployed_and_polled(&gs).await, minutes(4))
        }
        // INVALID_ROLE_FAILURE, alerted by policy (notify_result::notify_failed_and_timed_out).
        Verdict::Failed => {
            let gs = stage();
            let s = started_then_finished(
                &gs,
                S4,
                DeploymentState::Failed,
                Some(ResultCode::InvalidRoleFailure),
                "role cannot be assumed",
            )
            .await;
            ending(polled(&gs, &s, minutes(4)).await, minutes(4))
        }
        // Finished past the deadline, with no known-good snapshot to roll back to (ibid.).
        Verdict::TimedOut => {
            let gs = FakeGameSparks::new().with_snapshot(S4, T0);
            let s = started(&gs, S4).await;
            let overdue = polled(&gs, &s, s.deployment.deadline).await;
            let late = s.deployment.deadline + Duration::minutes(1);
            gs.set_state(
                "dep-1",
                DeploymentState::Completed,
                Some(ResultCode::Success),
                None,
                late,
            );
            ending(polled(&gs, &overdue, late).await, late)
        }
        // UNSPECIFIED_FAILURE, rolled back to S2 (rollback_deployment), the rollback finishing
        // after it started.
        Verdict::RolledBack => {
            let gs = stage();
            let s = failed_and_rolling_back(&gs).await;
            gs.set_state(
                "dep-2",
                DeploymentState::Completed,
                Some(ResultCode::Success),
                None,
                minutes(7),
            );
            ending(polled(&gs, &s, minutes(8)).await, minutes(8))
        }
        // The rollback failed too (rollback_deployment::failed_rollback_is_never_rolled_back_again).
        Verdict::RollbackFailed => {
            let gs = stage();
            let s = failed_and_rolling_back(&gs).await;
            gs.set_state(
                "dep-2",
                DeploymentState::Failed,
                Some(ResultCode::UnspecifiedFailure),
                Some("rollback broke"),
                minutes(7),
            );
            ending(polled(&gs, &s, minutes(8)).await, minutes(8))
        }
        // Another execution's deployment holds the stage: start-deployment fails with
        // DeploymentInProgress and its Catch reaches notify-result
        // (start_deployment::start_conflicts_with_a_running_deployment).
        Verdict::Blocked => {
            let gs = stage();
            let mut other = input(S5);
            other["execution"] = json!({"Id": "another-execution"});
            start_with(&gs, &FakeAlarms::new(), &other).await;
            let accepted = json!({"input": input(S4)["input"]});
            let err = start::handle(
                &gs,
                &FakeAlarms::new(),
                &input(S4),
                "req-1",
                &crate::clock::FixedClock(T0),
            )
            .await
            .err()
            .unwrap_or_else(|| panic!("the second start was not refused"));
            ending(caught(accepted, err), T0)
        }
        // "latest" already serves the stage (start_deployment).
        Verdict::Unchanged => {
            let gs = serving_latest();
            ending(started(&gs, "latest").await, T0)
        }
        // An alarm fires during the bake, and the policy alerts
        // (safety::bake_failure_with_alert_policy_is_bake_failed).
        Verdict::BakeFailed => {
            let (gs, alarms) = (stage(), quiet_alarms());
            let s = baking(
                &gs,
                &alarms,
                json!({"bake": bake(600), "policy": {"onBakeFailure": "alert"}}),
            )
            .await;
            alarms.set(LATENCY, ALARM, minutes(4));
            ending(poll_at(&gs, &alarms, &s, minutes(5)).await, minutes(5))
        }
        // safety::a_dry_run_plans_without_starting
        Verdict::DryRun => {
            let s = start_with(
                &stage(),
                &quiet_alarms(),
                &with_input(json!({"dryRun": true, "snapshotId": "latest", "bake": bake(300)})),
            )
            .await;
            ending(s, T0)
        }
        // safety::a_dry_run_reports_every_problem
        Verdict::DryRunBlocked => {
            let gs = stage();
            start_with(&gs, &FakeAlarms::new(), &with_input(json!({}))).await;
            let alarms = FakeAlarms::new().with(LATENCY, ALARM, T0);
            let dry = with_input(json!({"dryRun": true,
                "snapshotId": "Snapshot_2026-02-28T00:00:00.000Z", "bake": bake(300)}));
            ending(start_with(&gs, &alarms, &dry).await, T0)
        }
        // GetStageDeployment is denied mid-run: poll-deployment fails and its Catch reaches
        // notify-result (notify_result::notify_caught_error_mid_run_keeps_the_deployment_details).
        // Asked before prod is deployed (operator_control).
        Verdict::AwaitingApproval => {
            let gs = stage();
            ending(awaiting(&gs).await, T0)
        }
        Verdict::Rejected | Verdict::ApprovalTimedOut => {
            let gs = stage();
            let s = awaiting(&gs).await;
            let reply = match verdict {
                Verdict::Rejected => answer("REJECT", "not during the tournament"),
                _ => TIMED_OUT(),
            };
            let at = T0 + Duration::seconds(600);
            let s = answered(&gs, &s, reply, at)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            ending(s, at)
        }
        // Aborted while baking, rolled back to S2.
        Verdict::Aborted => {
            let (gs, alarms) = (stage(), quiet_alarms());
            let aborts = crate::fakes::FakeAbortRequests::new();
            let s = baking(&gs, &alarms, json!({"bake": bake(600)})).await;
            aborts.request(
                super::RUN,
                r#"{"by": "arn:aws:iam::123456789012:user/ana", "reason": "players report crashes", "at": "2026-03-01T12:05:00Z"}"#,
            );
            let event = serde_json::to_value(&s).unwrap_or_default();
            let s = poll::handle(
                &gs,
                &alarms,
                &aborts,
                &event,
                &crate::clock::FixedClock(minutes(6)),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let s = super::rolled_back(&gs, &s, minutes(7)).await;
            gs.set_state(
                "dep-2",
                DeploymentState::Completed,
                Some(ResultCode::Success),
                None,
                minutes(9),
            );
            ending(polled(&gs, &s, minutes(10)).await, minutes(10))
        }
        // Inside the input's "launch" freeze (operator_control).
        Verdict::Frozen => {
            let gs = stage();
            let s = start_with(&gs, &FakeAlarms::new(), &frozen_input()).await;
            ending(s, T0)
        }
        Verdict::Error => {
            let gs = stage();
            let s = started(&gs, S4).await;
            gs.fail_next(GET, svc(ServiceErrorKind::AccessDenied, GET));
            let state = serde_json::to_value(&s).unwrap_or_default();
            let err = poll::handle(
                &gs,
                &FakeAlarms::new(),
                &crate::fakes::FakeAbortRequests::new(),
                &state,
                &crate::clock::FixedClock(minutes(1)),
            )
            .await
            .err()
            .unwrap_or_else(|| panic!("the denied poll succeeded"));
            ending(caught(state, err), minutes(1))
        }
    }
}

/// A three-stage wave, dev > staging > prod, prod baking 120 s, every stage passing, with time
/// moving forward from one stage to the next (safety::a_wave_promotes_stage_by_stage).
async fn wave_succeeds() -> Ending {
    let (gs, alarms) = (stage(), quiet_alarms());
    let mut s = start_with(&gs, &alarms, &wave_input(json!({}))).await;
    let mut at = T0;
    for name in ["dev", "staging", "prod"] {
        assert_eq!(s.stage_name, name);
        gs.set_state(
            &s.deployment.deployment_id,
            DeploymentState::Completed,
            Some(ResultCode::Success),
            Some("ok"),
            at + Duration::minutes(3),
        );
        s = poll_at(&gs, &alarms, &s, at + Duration::minutes(4)).await;
        if name == "prod" {
            s = poll_at(&gs, &alarms, &s, at + Duration::minutes(5)).await;
            s = poll_at(&gs, &alarms, &s, at + Duration::minutes(6)).await;
            return ending(s, at + Duration::minutes(6));
        }
        at += Duration::minutes(5);
        gs.set_now(at);
        let event = json!({"advance": s});
        s = start::handle(&gs, &alarms, &event, "r", &crate::clock::FixedClock(at))
            .await
            .unwrap_or_else(|e| panic!("advance to the stage after {name} failed: {e}"));
    }
    panic!("the wave never reached prod")
}

/// notify-result with the payload the workflow's Notify and NotifyError states send: the state and
/// `$$.Execution`'s Id, Name and StartTime.
async fn notify_as_the_workflow_does(
    state: &Value,
    now: OffsetDateTime,
) -> (notify::NotifyOutput, FakeNotifier) {
    let sns = FakeNotifier::default();
    let execution = input(S4)["execution"].clone();
    // AwaitApproval sends the state awaiting approval with its task token; Notify the ending.
    let event = if state["action"] == "approve" {
        json!({"approvalRequest": state, "taskToken": "token-never-published", "execution": execution})
    } else {
        json!({"state": state, "execution": execution})
    };
    let out = notify::handle(&sns, &event, now)
        .await
        .unwrap_or_else(|e| panic!("notify failed: {e}"));
    let published = sns.published();
    assert_eq!(published.len(), 1, "exactly one message per outcome");
    message_of(&published[0]);
    (out, sns)
}

/// `schemas/examples`, from the repository root.
fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples")
}

const BLESS: &str = "run `STAGEGATE_BLESS=1 cargo test -p stagegate --lib golden` and commit it";

/// What the golden test does with a difference.
#[derive(Debug, PartialEq)]
enum Golden {
    /// Fails on it (every run but a local bless).
    Compare,
    /// Rewrites the file and says so (`STAGEGATE_BLESS`, outside CI).
    Rewrite,
}

/// `STAGEGATE_BLESS` rewrites the golden files only outside CI: in CI (`CI` set, to anything)
/// it is refused with a failure, so a pipeline that sets it can neither change the contract's
/// examples unreviewed nor pass the test by rewriting what it should compare.
fn golden_mode(bless: bool, ci: Option<&str>) -> Result<Golden, String> {
    match (bless, ci) {
        (false, _) => Ok(Golden::Compare),
        (true, Some(ci)) => Err(format!(
            "STAGEGATE_BLESS is set in CI (CI={ci:?}): the golden files are reviewed diffs and \
             are never rewritten there; bless locally and commit the files"
        )),
        (true, None) => Ok(Golden::Rewrite),
    }
}

/// Compares `golden` with the committed file, or rewrites the file under `Golden::Rewrite`.
fn check(stem: &str, golden: &Value, mode: &Golden) -> Result<(), String> {
    let file = format!("schemas/examples/{stem}.json");
    let path = examples_dir().join(format!("{stem}.json"));
    let generated = serde_json::to_string_pretty(golden).map_err(|e| e.to_string())? + "\n";
    if *mode == Golden::Rewrite {
        if std::fs::read_to_string(&path).ok().as_deref() == Some(generated.as_str()) {
            return Ok(());
        }
        std::fs::create_dir_all(examples_dir()).map_err(|e| format!("{file}: {e}"))?;
        std::fs::write(&path, generated).map_err(|e| format!("{file}: {e}"))?;
        // Not silent: a bless run names every file it changed.
        eprintln!("STAGEGATE_BLESS: rewrote {file}; review and commit the diff");
        return Ok(());
    }
    let committed = std::fs::read_to_string(&path)
        .map_err(|e| format!("{file}: cannot read it ({e}): {BLESS}"))?;
    if committed == generated {
        return Ok(());
    }
    let at = match serde_json::from_str::<Value>(&committed) {
        Ok(c) => first_difference(&c, golden, String::new())
            .unwrap_or_else(|| "nowhere: same JSON, formatted differently".into()),
        Err(e) => format!("the committed file is not JSON ({e})"),
    };
    let (line, was, now) = committed
        .lines()
        .map(Some)
        .chain(std::iter::repeat(None))
        .zip(generated.lines().map(Some).chain(std::iter::repeat(None)))
        .take_while(|pair| *pair != (None, None))
        .enumerate()
        .find(|(_, (c, g))| c != g)
        .map(|(i, (c, g))| {
            (
                i + 1,
                c.unwrap_or("<end of file>"),
                g.unwrap_or("<end of file>"),
            )
        })
        .unwrap_or((0, "", ""));
    Err(format!(
        "{file} differs from the message the gate publishes; first difference at {at}\n  \
         line {line} committed: {was}\n  line {line} published: {now}\n  \
         if the change is intended, {BLESS}"
    ))
}

/// The JSON pointer of the first place `committed` and `published` differ, with both values.
fn first_difference(committed: &Value, published: &Value, pointer: String) -> Option<String> {
    let at = |key: &str| format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
    let shown = |v: Option<&Value>| v.map_or_else(|| "(absent)".to_owned(), Value::to_string);
    match (committed, published) {
        (Value::Object(c), Value::Object(p)) => {
            let keys: BTreeSet<&String> = c.keys().chain(p.keys()).collect();
            keys.into_iter().find_map(|k| match (c.get(k), p.get(k)) {
                (Some(cv), Some(pv)) => first_difference(cv, pv, at(k)),
                (cv, pv) => Some(format!(
                    "{}: committed {}, published {}",
                    at(k),
                    shown(cv),
                    shown(pv)
                )),
            })
        }
        (Value::Array(c), Value::Array(p)) => {
            (0..c.len().max(p.len())).find_map(|i| match (c.get(i), p.get(i)) {
                (Some(cv), Some(pv)) => first_difference(cv, pv, at(&i.to_string())),
                (cv, pv) => Some(format!(
                    "{}: committed {}, published {}",
                    at(&i.to_string()),
                    shown(cv),
                    shown(pv)
                )),
            })
        }
        (c, p) if c == p => None,
        (c, p) => Some(format!(
            "{}: committed {c}, published {p}",
            if pointer.is_empty() { "/" } else { &pointer }
        )),
    }
}

/// The body of a golden file read as the `Message` contract and written back: the same JSON,
/// field for field, or the contract does not describe what is published.
fn round_trips(stem: &str, golden: &Value) -> Result<(), String> {
    let body = &golden["message"];
    let message: Message = serde_json::from_value(body.clone())
        .map_err(|e| format!("{stem}: the body does not deserialize as Message: {e}"))?;
    let again = serde_json::to_value(&message).map_err(|e| e.to_string())?;
    match first_difference(body, &again, String::new()) {
        None => Ok(()),
        Some(at) => Err(format!(
            "{stem}: the body changes when read as Message and written back, at {at}"
        )),
    }
}

/// The verdict names the committed message schema lists (kept equal to the type by
/// `stagegate_core::schema`): the full set, independent of `ALL`.
fn verdicts_in_the_schema() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/message.schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("schemas/message.schema.json: {e}"));
    let schema: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("schemas/message.schema.json: {e}"));
    schema
        .pointer("/$defs/Verdict/oneOf")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("schemas/message.schema.json has no $defs/Verdict/oneOf"))
        .iter()
        .filter_map(|v| v["const"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn golden_messages_match_the_committed_examples() {
    let mut cases = vec![];
    for verdict in ALL {
        cases.push((file_stem(verdict), verdict, run_to(verdict).await));
    }
    // Beyond one per verdict: a wave, whose message carries the parts no other ending does.
    cases.push((
        "succeeded-wave".into(),
        Verdict::Succeeded,
        wave_succeeds().await,
    ));

    let ci = std::env::var_os("CI").map(|v| v.to_string_lossy().into_owned());
    let mode = golden_mode(std::env::var_os("STAGEGATE_BLESS").is_some(), ci.as_deref())
        .unwrap_or_else(|refused| panic!("{refused}"));
    let mut problems = vec![];
    let mut covered = BTreeSet::new();
    for (stem, verdict, end) in &cases {
        let (out, sns) = notify_as_the_workflow_does(&end.state, end.now).await;
        if out.outcome != *verdict {
            problems.push(format!(
                "{stem}: the run ended {:?}, not {verdict:?}: {}",
                out.outcome, out.cause
            ));
            continue;
        }
        covered.insert(verdict.as_str().to_owned());
        let n = &sns.published()[0];
        let body: Value = serde_json::from_str(&n.message)
            .unwrap_or_else(|e| panic!("{stem}: the body is not JSON: {e}"));
        let golden = json!({"subject": n.subject, "attributes": n.attributes, "message": body});
        if let Err(e) = check(stem, &golden, &mode) {
            problems.push(e);
        }
        // The body as committed (just written, when blessing), read back as the contract.
        let committed = std::fs::read_to_string(examples_dir().join(format!("{stem}.json")))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .unwrap_or(golden);
        if let Err(e) = round_trips(stem, &committed) {
            problems.push(e);
        }
    }

    let names: BTreeSet<String> = ALL.iter().map(|v| v.as_str().to_owned()).collect();
    assert_eq!(names.len(), ALL.len(), "a verdict is listed twice in ALL");
    assert_eq!(
        names,
        verdicts_in_the_schema(),
        "ALL must list every Verdict, each with its golden file"
    );
    assert_eq!(covered, names, "every verdict has a golden message");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Every outcome's run replays to the same decisions from its own record (what `stagegate replay`
/// does with a real history), and the record is what `schemas/decision-log.schema.json` says.
#[tokio::test]
async fn every_outcomes_record_replays_and_matches_its_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/decision-log.schema.json");
    let schema: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("{} unreadable", path.display()));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema: {e}"));
    let mut recorded = 0;
    for verdict in ALL {
        let end = run_to(verdict).await;
        // A Catch output is the task's input with `error`: the state is still the gate state.
        let Ok(state) = serde_json::from_value::<crate::state::GateState>(end.state.clone()) else {
            continue;
        };
        let replayed = crate::replay::replay(&state, None);
        assert!(
            replayed.same(),
            "{}: {:?}",
            verdict.as_str(),
            replayed.differences
        );
        let record = serde_json::to_value(&state.decisions).unwrap_or_default();
        let errors: Vec<String> = validator
            .iter_errors(&record)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {errors:?}\n{record:#}",
            verdict.as_str()
        );
        recorded += usize::from(!state.decisions.entries.is_empty());
    }
    // Every outcome but the dry runs and an error before the first decision keeps a record.
    assert!(
        recorded >= 12,
        "only {recorded} outcomes recorded a decision"
    );
}

#[test]
fn blessing_is_refused_in_ci() {
    for ci in ["true", "1", ""] {
        let refused = golden_mode(true, Some(ci)).expect_err("bless in CI");
        assert!(
            refused.contains("STAGEGATE_BLESS is set in CI"),
            "{refused}"
        );
    }
    assert_eq!(golden_mode(true, None), Ok(Golden::Rewrite));
    assert_eq!(golden_mode(false, Some("true")), Ok(Golden::Compare));
    assert_eq!(golden_mode(false, None), Ok(Golden::Compare));
}

#[test]
fn a_difference_is_named_by_its_json_pointer() {
    let committed =
        json!({"message": {"summary": "a", "wave": {"stages": [1, 2]}}, "subject": "s"});
    let mut published = committed.clone();
    published["message"]["wave"]["stages"][1] = json!(3);
    assert_eq!(
        first_difference(&committed, &published, String::new()).as_deref(),
        Some("/message/wave/stages/1: committed 2, published 3")
    );
    published["message"]["a/b"] = json!(null);
    assert_eq!(
        first_difference(&committed, &published, String::new()).as_deref(),
        Some("/message/a~1b: committed (absent), published null")
    );
    assert_eq!(
        first_difference(&committed, &committed, String::new()),
        None
    );
}
