//! End to end: the real ASL on moto's Step Functions engine, the four functions under
//! `cargo lambda watch`, GameSparks emulated, SNS delivered to an SQS queue. One case per route;
//! each asserts the execution status and output, the states that ran, what the emulator saw and
//! the notification a subscriber received.
//!
//! A custom harness (`harness = false`): the stack is started once, cases run one after another
//! on a reset emulator, and everything started is stopped at the end, on failure, and on Ctrl-C.
//! `cargo test -p stagegate-tests --test e2e -- <filter>` runs the cases whose name contains it.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stagegate_local::{Options, Stack};
use stagegate_tests::e2e::{Case, Ctx, Run, StageDeployment};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const V09: &str = gamesparks_local::scenario::demo_snapshots::OLDER;
const V10: &str = gamesparks_local::scenario::demo_snapshots::KNOWN_GOOD;
const V11: &str = gamesparks_local::scenario::demo_snapshots::DEPLOYS;
const V12: &str = gamesparks_local::scenario::demo_snapshots::UNSPECIFIED_FAILURE;
const V121: &str = gamesparks_local::scenario::demo_snapshots::INVALID_ROLE;
const V13: &str = gamesparks_local::scenario::demo_snapshots::NEVER_FINISHES;
const PROD: &str = "space-raiders/prod";
const DEV: &str = "space-raiders/dev";
const STAGING: &str = "space-raiders/staging";
/// A valid snapshot id the game does not have.
const MISSING_SNAPSHOT: &str = "Snapshot_2030-01-01T00:00:00.000Z";

fn input(snapshot: &str) -> Value {
    json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": snapshot})
}

/// `input` with a bake window watching `alarms`.
fn baked(snapshot: &str, seconds: u64, interval: u64, alarms: &[&str]) -> Value {
    let mut i = input(snapshot);
    i["bake"] = bake(seconds, interval, alarms);
    i
}

fn bake(seconds: u64, interval: u64, alarms: &[&str]) -> Value {
    json!({"seconds": seconds, "checkIntervalSeconds": interval, "alarmNames": alarms})
}

fn wave(snapshot: &str, stages: Value) -> Value {
    json!({"gameName": "space-raiders", "stages": stages, "snapshotId": snapshot})
}

fn cases() -> Vec<Case> {
    vec![
        Case::new("success", |ctx| Box::pin(success(ctx))),
        Case::new("invalid_role_alerts", |ctx| {
            Box::pin(invalid_role_alerts(ctx))
        }),
        Case::new("unspecified_failure_rolls_back", |ctx| {
            Box::pin(unspecified_failure_rolls_back(ctx))
        }),
        Case::new("no_known_good_alerts", |ctx| {
            Box::pin(no_known_good_alerts(ctx))
        }),
        Case::new("rollback_fails", |ctx| Box::pin(rollback_fails(ctx))),
        Case::new("stuck_times_out", |ctx| Box::pin(stuck_times_out(ctx))),
        Case::new("throttling_and_server_errors", |ctx| {
            Box::pin(throttling_and_server_errors(ctx))
        }),
        Case::new("hung_calls_ridden_out", |ctx| {
            Box::pin(hung_calls_ridden_out(ctx))
        }),
        Case::new("invalid_input", |ctx| Box::pin(invalid_input(ctx))),
        Case::new("non_object_input", |ctx| Box::pin(non_object_input(ctx))),
        Case::new("scheduler_latest", |ctx| Box::pin(scheduler_latest(ctx))),
        Case::new("access_denied", |ctx| Box::pin(access_denied(ctx))),
        Case::new("concurrent_executions", |ctx| {
            Box::pin(concurrent_executions(ctx))
        }),
        Case::new("bake_passes", |ctx| Box::pin(bake_passes(ctx))),
        Case::new("bake_fails_rolls_back", |ctx| {
            Box::pin(bake_fails_rolls_back(ctx))
        }),
        Case::new("bake_fails_alerts", |ctx| Box::pin(bake_fails_alerts(ctx))),
        Case::new("bake_alarm_firing_blocks", |ctx| {
            Box::pin(bake_alarm_firing_blocks(ctx))
        }),
        Case::new("bake_missing_alarm", |ctx| {
            Box::pin(bake_missing_alarm(ctx))
        }),
        Case::new("dry_run_ready", |ctx| Box::pin(dry_run_ready(ctx))),
        Case::new("dry_run_blocked", |ctx| Box::pin(dry_run_blocked(ctx))),
        Case::new("wave_promotes", |ctx| Box::pin(wave_promotes(ctx))),
        Case::new("wave_stops_at_failing_stage", |ctx| {
            Box::pin(wave_stops_at_failing_stage(ctx))
        }),
        Case::new("wave_blocked_at_busy_stage", |ctx| {
            Box::pin(wave_blocked_at_busy_stage(ctx))
        }),
        // Last: reads what every earlier case logged and published.
        Case::new("no_secrets_or_panics", |ctx| {
            Box::pin(no_secrets_or_panics(ctx))
        }),
    ]
}

type Outcome = Result<(), String>;

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// The gate never called StartStageDeployment, and prod has no new deployment.
fn nothing_started(ctx: &Ctx, case: &str) -> Outcome {
    let calls = ctx.requests("StartStageDeployment")?;
    check!(
        calls == 0,
        "{case}: StartStageDeployment was called {calls} time(s)"
    );
    check!(ctx.deploys(PROD)? == 0, "{case}: prod has a new deployment");
    Ok(())
}

fn expect_message(run: &Run, outcome: &str) -> Result<Value, String> {
    check!(
        run.messages.len() == 1,
        "expected exactly one SNS message, got {}: {:?}",
        run.messages.len(),
        run.messages
    );
    let m = &run.messages[0];
    check!(
        m.attribute("outcome") == Some(outcome),
        "outcome attribute {:?}, want {outcome}",
        m.attribute("outcome")
    );
    check!(
        m.attribute("gameName").is_some() && m.attribute("stageName").is_some(),
        "missing name attributes: {m:?}"
    );
    check!(
        m.attribute("dedupId").is_some_and(|d| d.len() == 64),
        "dedupId attribute {:?}",
        m.attribute("dedupId")
    );
    check!(
        m.subject.starts_with(&format!("stagegate {outcome}")),
        "subject {:?}",
        m.subject
    );
    check!(
        m.body["gate"]["executionId"] == json!(run.execution_arn),
        "body names another execution: {}",
        m.body
    );
    Ok(m.body.clone())
}

async fn success(ctx: Arc<Ctx>) -> Outcome {
    let run = ctx.execute("success", input(V11)).await?;
    check!(
        run.status == "SUCCEEDED",
        "status {} ({:?} {:?})",
        run.status,
        run.error,
        run.cause
    );
    check!(
        run.ran(&[
            "Start",
            "Route",
            "Wait",
            "Poll",
            "Route",
            "Notify",
            "Finish",
            "Succeeded"
        ]),
        "states {:?}",
        run.states
    );
    check!(
        !run.entered("Rollback") && !run.entered("NotifyError"),
        "states {:?}",
        run.states
    );
    check!(
        run.output["notification"]["outcome"] == "SUCCEEDED",
        "output {}",
        run.output
    );
    check!(run.output["snapshotId"] == V11, "output {}", run.output);
    let body = expect_message(&run, "SUCCEEDED")?;
    check!(body["deployment"]["resultCode"] == "SUCCESS", "body {body}");
    check!(body["previousSnapshotId"] == V10, "body {body}");
    check!(
        ctx.deploys(PROD)? == 1,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    Ok(())
}

async fn invalid_role_alerts(ctx: Arc<Ctx>) -> Outcome {
    let run = ctx.execute("invalid-role", input(V121)).await?;
    check!(run.status == "FAILED", "status {}", run.status);
    check!(
        run.error.as_deref() == Some("StageGate.FAILED"),
        "error {:?}",
        run.error
    );
    let cause = run.cause.clone().unwrap_or_default();
    check!(
        cause.contains("INVALID_ROLE_FAILURE") && cause.contains("cannot be assumed"),
        "cause {cause}"
    );
    check!(!run.entered("Rollback"), "rolled back: {:?}", run.states);
    check!(
        run.ran(&["Notify", "Finish", "Failed"]),
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "FAILED")?;
    check!(
        run.messages[0].attribute("resultCode") == Some("INVALID_ROLE_FAILURE"),
        "{:?}",
        run.messages[0]
    );
    check!(
        body["gate"]["reason"] == "policy onInvalidRole is alert",
        "body {body}"
    );
    check!(ctx.deploys(PROD)? == 1, "deployments");
    Ok(())
}

async fn unspecified_failure_rolls_back(ctx: Arc<Ctx>) -> Outcome {
    let run = ctx.execute("rollback", input(V12)).await?;
    check!(run.status == "FAILED", "status {}", run.status);
    check!(
        run.error.as_deref() == Some("StageGate.ROLLED_BACK"),
        "error {:?}",
        run.error
    );
    check!(
        run.ran(&["Start", "Poll", "Rollback", "Route", "Wait", "Poll", "Notify", "Failed"]),
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "ROLLED_BACK")?;
    check!(body["rollback"]["snapshotId"] == V10, "body {body}");
    check!(body["rollback"]["outcome"] == "SUCCEEDED", "body {body}");
    check!(
        body["summary"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("Rolled back to {V10}")),
        "body {body}"
    );
    check!(
        body["deployment"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("unexpected error"),
        "body {body}"
    );
    check!(
        ctx.deploys(PROD)? == 2,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    Ok(())
}

async fn no_known_good_alerts(ctx: Arc<Ctx>) -> Outcome {
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({V10: {"result": "UNSPECIFIED_FAILURE"}})),
    )?;
    let run = ctx.execute("no-known-good", input(V10)).await?;
    check!(
        run.error.as_deref() == Some("StageGate.FAILED"),
        "error {:?}",
        run.error
    );
    check!(!run.entered("Rollback"), "states {:?}", run.states);
    let body = expect_message(&run, "FAILED")?;
    check!(body["previousSnapshotId"].is_null(), "body {body}");
    check!(
        body["gate"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("no known-good snapshot"),
        "body {body}"
    );
    Ok(())
}

async fn rollback_fails(ctx: Arc<Ctx>) -> Outcome {
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({V10: {"result": "UNSPECIFIED_FAILURE"}})),
    )?;
    let run = ctx.execute("rollback-fails", input(V12)).await?;
    check!(
        run.error.as_deref() == Some("StageGate.ROLLBACK_FAILED"),
        "error {:?}",
        run.error
    );
    check!(
        run.count("Rollback") == 1,
        "rollback ran {} times: {:?}",
        run.count("Rollback"),
        run.states
    );
    let body = expect_message(&run, "ROLLBACK_FAILED")?;
    check!(
        body["summary"]
            .as_str()
            .unwrap_or("")
            .contains("also failed"),
        "body {body}"
    );
    check!(
        body["rollback"]["resultCode"] == "UNSPECIFIED_FAILURE",
        "body {body}"
    );
    check!(ctx.deploys(PROD)? == 2, "deployments");
    Ok(())
}

async fn stuck_times_out(ctx: Arc<Ctx>) -> Outcome {
    let mut stuck = input(V13);
    stuck["policy"] = json!({"timeoutSeconds": 300});
    let run = ctx.execute("stuck", stuck).await?;
    // GameSparks cannot cancel: a rollback would be refused while the stuck deployment holds the
    // stage, so the gate watches it through the grace window and then alerts, naming it.
    check!(
        run.error.as_deref() == Some("StageGate.TIMED_OUT"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    let body = expect_message(&run, "TIMED_OUT")?;
    check!(body["deployment"]["outcome"] == "TIMED_OUT", "body {body}");
    check!(!run.entered("Rollback"), "states {:?}", run.states);
    check!(run.count("Poll") >= 3, "polls {:?}", run.states);

    ctx.reset()?;
    let mut alert = input(V13);
    alert["policy"] = json!({"timeoutSeconds": 300, "onTimeout": "alert"});
    let run = ctx.execute("stuck-alert", alert).await?;
    check!(
        run.error.as_deref() == Some("StageGate.TIMED_OUT"),
        "error {:?}",
        run.error
    );
    check!(!run.entered("Rollback"), "states {:?}", run.states);
    expect_message(&run, "TIMED_OUT")?;
    Ok(())
}

/// StartStageDeployment commits and never answers, GetStageDeployment hangs once: the functions'
/// SDK timeouts abandon each attempt and retry, and the run ends as without the hangs.
async fn hung_calls_ridden_out(ctx: Arc<Ctx>) -> Outcome {
    ctx.reset()?;
    let faults = json!({"operations": {
        "StartStageDeployment": {"hang": {"count": 1, "afterCommit": true}},
        "GetStageDeployment": {"hang": {"count": 1}}
    }});
    ctx.admin("POST", "/_emulator/faults", Some(&faults))?;
    let run = ctx.execute("hung", input(V11)).await?;
    check!(
        run.status == "SUCCEEDED",
        "status {} {:?} {:?}",
        run.status,
        run.error,
        run.cause
    );
    check!(!run.entered("NotifyError"), "states {:?}", run.states);
    check!(
        ctx.deploys(PROD)? == 1,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    let counters = ctx
        .stack
        .admin("GET", "/_emulator/counters", None)
        .map_err(|e| e.to_string())?;
    check!(
        counters["faultsInjected"]["hang"] == 2,
        "hangs injected: {counters}"
    );
    expect_message(&run, "SUCCEEDED")?;
    Ok(())
}

async fn throttling_and_server_errors(ctx: Arc<Ctx>) -> Outcome {
    let faults =
        json!({"throttleRate": 0.35, "serverErrorRate": 0.15, "serverErrorAfterCommitRate": 0.3});
    for (name, snapshot, status, deploys) in [
        ("faulty-success", V11, "SUCCEEDED", 1),
        ("faulty-rollback", V12, "FAILED", 2),
    ] {
        ctx.reset()?;
        ctx.admin("POST", "/_emulator/faults", Some(&faults))?;
        let run = ctx.execute(name, input(snapshot)).await?;
        check!(
            run.status == status,
            "{name}: status {} {:?} {:?}",
            run.status,
            run.error,
            run.cause
        );
        check!(
            !run.entered("NotifyError"),
            "{name}: states {:?}",
            run.states
        );
        check!(
            ctx.deploys(PROD)? == deploys,
            "{name}: deployments {} want {deploys}",
            ctx.deploys(PROD)?
        );
        let counters = ctx
            .stack
            .admin("GET", "/_emulator/counters", None)
            .map_err(|e| e.to_string())?;
        let injected: u64 = counters["faultsInjected"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        check!(
            injected >= 3,
            "{name}: only {injected} faults injected: {counters}"
        );
        check!(
            run.messages.len() == 1,
            "{name}: {} messages",
            run.messages.len()
        );
    }
    Ok(())
}

async fn invalid_input(ctx: Arc<Ctx>) -> Outcome {
    let run = ctx
        .execute("invalid-input", json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": V11, "polcy": {}}))
        .await?;
    check!(run.status == "FAILED", "status {}", run.status);
    check!(
        run.error.as_deref() == Some("StageGate.ERROR"),
        "error {:?}",
        run.error
    );
    check!(
        run.ran(&["Accept", "Start", "NotifyError", "Failed"]),
        "states {:?}",
        run.states
    );
    check!(
        run.cause.as_deref().unwrap_or("").contains("polcy"),
        "cause {:?}",
        run.cause
    );
    let body = expect_message(&run, "ERROR")?;
    check!(
        body["error"]["error"] == "StageGate.InvalidInput",
        "body {body}"
    );
    check!(ctx.deploys(PROD)? == 0, "deployments");
    Ok(())
}

async fn non_object_input(ctx: Arc<Ctx>) -> Outcome {
    let run = ctx
        .execute("not-an-object", json!("promote latest to prod, please"))
        .await?;
    check!(
        run.error.as_deref() == Some("StageGate.ERROR"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(
        run.cause
            .as_deref()
            .unwrap_or("")
            .contains("must be a JSON object"),
        "cause {:?}",
        run.cause
    );
    let body = expect_message(&run, "ERROR")?;
    check!(
        run.messages[0].attribute("gameName") == Some("UNKNOWN"),
        "{:?}",
        run.messages[0]
    );
    check!(
        body["error"]["error"] == "StageGate.InvalidInput",
        "body {body}"
    );
    Ok(())
}

async fn scheduler_latest(ctx: Arc<Ctx>) -> Outcome {
    let path = stagegate_tests::repo_root().join("events/scheduler-input.json");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let scheduled: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({V13: {"result": "SUCCESS", "neverFinish": false}})),
    )?;
    let run = ctx.execute("scheduled", scheduled).await?;
    check!(
        run.status == "SUCCEEDED",
        "status {} {:?}",
        run.status,
        run.cause
    );
    let body = expect_message(&run, "SUCCEEDED")?;
    check!(
        body["requestedSnapshotId"] == "latest" && body["snapshotId"] == V13,
        "body {body}"
    );
    Ok(())
}

async fn access_denied(ctx: Arc<Ctx>) -> Outcome {
    ctx.admin(
        "POST",
        "/_emulator/faults",
        Some(&json!({"accessDeniedStages": [PROD]})),
    )?;
    let run = ctx.execute("access-denied", input(V11)).await?;
    check!(
        run.error.as_deref() == Some("StageGate.ERROR"),
        "error {:?}",
        run.error
    );
    check!(
        run.count("Start") == 1,
        "access denied must not be retried: {:?}",
        run.states
    );
    let body = expect_message(&run, "ERROR")?;
    check!(
        body["error"]["error"] == "StageGate.AccessDenied",
        "body {body}"
    );
    check!(ctx.deploys(PROD)? == 0, "deployments");
    Ok(())
}

async fn concurrent_executions(ctx: Arc<Ctx>) -> Outcome {
    let (a, b) = tokio::join!(
        ctx.execute_quiet("race-a", input(V11)),
        ctx.execute_quiet("race-b", input(V11))
    );
    let (a, b) = (a?, b?);
    let mut statuses = [a.status.as_str(), b.status.as_str()];
    statuses.sort();
    check!(statuses == ["FAILED", "SUCCEEDED"], "statuses {statuses:?}");
    let loser = if a.status == "FAILED" { &a } else { &b };
    check!(
        loser.error.as_deref() == Some("StageGate.BLOCKED"),
        "loser error {:?} {:?}",
        loser.error,
        loser.cause
    );
    check!(
        loser
            .cause
            .as_deref()
            .unwrap_or("")
            .contains("another deployment holds the stage"),
        "cause {:?}",
        loser.cause
    );
    let messages = ctx.drain_messages().await?;
    let outcomes: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.attribute("outcome"))
        .collect();
    check!(
        outcomes.len() == 2 && outcomes.contains(&"BLOCKED") && outcomes.contains(&"SUCCEEDED"),
        "outcomes {outcomes:?}"
    );
    check!(ctx.deploys(PROD)? == 1, "deployments");
    Ok(())
}

fn ts(value: &Value, what: &str) -> Result<OffsetDateTime, String> {
    value
        .as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .ok_or_else(|| format!("{what} is not an RFC 3339 timestamp: {value}"))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// The newest DEPLOY on a stage, as GameSparks lists it.
async fn latest_deploy(ctx: &Ctx, stage: &str) -> Result<StageDeployment, String> {
    ctx.history("space-raiders", stage)
        .await?
        .into_iter()
        .find(|d| d.action == "DEPLOY")
        .ok_or_else(|| format!("{stage} has no DEPLOY"))
}

/// The DEPLOYs on a stage, newest first.
async fn deploys_on(ctx: &Ctx, stage: &str) -> Result<Vec<StageDeployment>, String> {
    Ok(ctx
        .history("space-raiders", stage)
        .await?
        .into_iter()
        .filter(|d| d.action == "DEPLOY")
        .collect())
}

fn is_success(d: &StageDeployment, snapshot: &str) -> bool {
    d.snapshot_id == snapshot
        && d.state == "COMPLETED"
        && d.result_code.as_deref() == Some("SUCCESS")
}

/// Waits until the gate has seen the deployment succeed and opened the bake window.
async fn wait_for_bake(ctx: &Ctx, arn: &str) -> Result<Value, String> {
    ctx.wait_for_output(arn, "the bake window", Duration::from_secs(90), |o| {
        o["phase"] == "BAKE"
    })
    .await
}

async fn bake_passes(ctx: Arc<Ctx>) -> Outcome {
    const ALARM: &str = "e2e-bake-passes-errors";
    // A composite alarm too: CloudWatch lists those only when asked for by type.
    const COMPOSITE: &str = "e2e-bake-passes-health";
    ctx.put_alarm(ALARM).await?;
    ctx.put_composite_alarm(COMPOSITE, &format!("ALARM(\"{ALARM}\")"))
        .await?;
    let run = ctx
        .execute("bake-passes", baked(V11, 120, 30, &[ALARM, COMPOSITE]))
        .await?;
    check!(
        run.status == "SUCCEEDED",
        "status {} ({:?} {:?})",
        run.status,
        run.error,
        run.cause
    );
    check!(
        run.ran(&["Start", "Poll", "Wait", "Poll", "Notify", "Succeeded"])
            && !run.entered("Rollback"),
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "SUCCEEDED")?;
    let window = &body["bakeWindow"];
    let checks = window["checks"].as_u64().unwrap_or(0);
    check!(checks >= 1, "the alarms were never read: {window}");
    check!(
        run.count("Poll") as u64 > checks,
        "{checks} checks but {} polls: {:?}",
        run.count("Poll"),
        run.states
    );
    let passed = ts(&window["passedAt"], "bakeWindow.passedAt")?;
    let ends = ts(&window["endsAt"], "bakeWindow.endsAt")?;
    let started = ts(&window["startedAt"], "bakeWindow.startedAt")?;
    check!(
        passed >= ends && ends - started == time::Duration::seconds(120),
        "window {window}"
    );
    check!(window["failure"].is_null(), "window {window}");
    check!(
        window["alarms"][0]["name"] == ALARM
            && window["alarms"][0]["state"] == "OK"
            && window["alarms"][1]["name"] == COMPOSITE
            && window["alarms"][1]["state"] == "OK",
        "window {window}"
    );
    check!(
        body["bake"]["alarmNames"] == json!([ALARM, COMPOSITE]),
        "body {body}"
    );
    check!(body["bake"]["seconds"] == 120, "body {body}");
    check!(
        text(&body["summary"]).contains("passed a 120 s bake window"),
        "summary {}",
        body["summary"]
    );
    check!(
        ctx.deploys(PROD)? == 1,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    Ok(())
}

async fn bake_fails_rolls_back(ctx: Arc<Ctx>) -> Outcome {
    const ALARM: &str = "e2e-bake-rollback-errors";
    const REASON: &str = "Threshold Crossed: e2e error rate above 5%";
    ctx.put_alarm(ALARM).await?;
    let arn = ctx
        .start("bake-fails", baked(V11, 600, 10, &[ALARM]))
        .await?;
    let baking = wait_for_bake(&ctx, &arn).await?;
    check!(
        baking["deployment"]["outcome"] == "SUCCEEDED" || baking["outcome"] == "SUCCEEDED",
        "the bake opened before the deployment succeeded: {baking}"
    );
    ctx.set_alarm(ALARM, "ALARM", REASON).await?;
    let run = ctx.finish_and_read(&arn).await?;
    check!(
        run.error.as_deref() == Some("StageGate.ROLLED_BACK"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(
        run.ran(&["Start", "Poll", "Rollback", "Wait", "Poll", "Notify", "Failed"]),
        "states {:?}",
        run.states
    );
    check!(
        run.cause.as_deref().unwrap_or("").contains(ALARM),
        "cause {:?}",
        run.cause
    );
    let body = expect_message(&run, "ROLLED_BACK")?;
    let window = &body["bakeWindow"];
    let failure = &window["failure"];
    check!(failure["alarmName"] == ALARM, "window {window}");
    check!(failure["alarmState"] == "ALARM", "window {window}");
    check!(
        failure["failingAlarms"] == json!([ALARM]),
        "window {window}"
    );
    check!(text(&failure["reason"]).contains(REASON), "window {window}");
    let detected = ts(&failure["detectedAt"], "failure.detectedAt")?;
    check!(
        detected < ts(&window["endsAt"], "bakeWindow.endsAt")?,
        "the failure was not seen during the window: {window}"
    );
    check!(window["passedAt"].is_null(), "window {window}");
    check!(
        window["checks"].as_u64().unwrap_or(0) >= 1,
        "window {window}"
    );
    let summary = text(&body["summary"]);
    check!(
        summary.contains(&format!("alarm {ALARM} was ALARM"))
            && summary.contains(&format!("Rolled back to {V10}")),
        "summary {summary}"
    );
    check!(body["deployment"]["outcome"] == "SUCCEEDED", "body {body}");
    check!(body["rollback"]["snapshotId"] == V10, "body {body}");
    check!(body["rollback"]["outcome"] == "SUCCEEDED", "body {body}");
    check!(
        ctx.deploys(PROD)? == 2,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    let deploys = deploys_on(&ctx, "prod").await?;
    check!(
        deploys.len() >= 2 && is_success(&deploys[0], V10) && is_success(&deploys[1], V11),
        "prod history {deploys:?}"
    );
    check!(
        body["rollback"]["deploymentId"] == json!(deploys[0].deployment_id),
        "body {body} history {deploys:?}"
    );
    Ok(())
}

async fn bake_fails_alerts(ctx: Arc<Ctx>) -> Outcome {
    const ALARM: &str = "e2e-bake-alert-latency";
    ctx.put_alarm(ALARM).await?;
    let mut alert = baked(V11, 600, 10, &[ALARM]);
    alert["policy"] = json!({"onBakeFailure": "alert"});
    let arn = ctx.start("bake-alert", alert).await?;
    wait_for_bake(&ctx, &arn).await?;
    ctx.set_alarm(ALARM, "ALARM", "Threshold Crossed: p99 latency")
        .await?;
    let run = ctx.finish_and_read(&arn).await?;
    check!(
        run.error.as_deref() == Some("StageGate.BAKE_FAILED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(!run.entered("Rollback"), "states {:?}", run.states);
    let body = expect_message(&run, "BAKE_FAILED")?;
    check!(
        body["bakeWindow"]["failure"]["alarmName"] == ALARM,
        "body {body}"
    );
    check!(
        text(&body["summary"]).contains(ALARM)
            && text(&body["summary"]).contains("Not rolled back"),
        "summary {}",
        body["summary"]
    );
    check!(body["rollback"].is_null(), "body {body}");
    check!(
        ctx.deploys(PROD)? == 1,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    check!(
        is_success(&latest_deploy(&ctx, "prod").await?, V11),
        "prod keeps the baked snapshot"
    );
    Ok(())
}

async fn bake_alarm_firing_blocks(ctx: Arc<Ctx>) -> Outcome {
    const ALARM: &str = "e2e-bake-already-firing";
    ctx.put_alarm(ALARM).await?;
    ctx.set_alarm(ALARM, "ALARM", "Threshold Crossed: already broken")
        .await?;
    let run = ctx
        .execute("bake-firing", baked(V11, 300, 30, &[ALARM]))
        .await?;
    check!(
        run.error.as_deref() == Some("StageGate.BLOCKED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(
        !run.entered("Poll") && !run.entered("Rollback"),
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "BLOCKED")?;
    check!(
        text(&body["summary"]).contains(ALARM),
        "summary {}",
        body["summary"]
    );
    nothing_started(&ctx, "a firing alarm")
}

async fn bake_missing_alarm(ctx: Arc<Ctx>) -> Outcome {
    const MISSING: &str = "e2e-no-such-alarm";
    const PRESENT: &str = "e2e-missing-case-present";
    ctx.put_alarm(PRESENT).await?;
    for (name, input, field) in [
        (
            "missing-alarm",
            baked(V11, 300, 30, &[PRESENT, MISSING]),
            "input.bake.alarmNames",
        ),
        (
            "missing-alarm-wave",
            wave(
                V11,
                json!(["dev", {"stageName": "prod", "bake": bake(300, 30, &[MISSING])}]),
            ),
            "input.stages[1].bake.alarmNames",
        ),
    ] {
        let run = ctx.execute(name, input).await?;
        check!(
            run.error.as_deref() == Some("StageGate.ERROR"),
            "{name}: error {:?} {:?}",
            run.error,
            run.cause
        );
        check!(
            run.ran(&["Accept", "Start", "NotifyError", "Failed"]) && !run.entered("Poll"),
            "{name}: states {:?}",
            run.states
        );
        let cause = run.cause.clone().unwrap_or_default();
        check!(
            cause.contains(field) && cause.contains(MISSING) && !cause.contains(PRESENT),
            "{name}: cause {cause}"
        );
        let body = expect_message(&run, "ERROR")?;
        check!(
            body["error"]["error"] == "StageGate.InvalidInput",
            "{name}: body {body}"
        );
        nothing_started(&ctx, name)?;
    }
    Ok(())
}

async fn dry_run_ready(ctx: Arc<Ctx>) -> Outcome {
    const ALARM: &str = "e2e-dry-run-errors";
    ctx.put_alarm(ALARM).await?;
    let mut dry = baked(V11, 300, 30, &[ALARM]);
    dry["dryRun"] = json!(true);
    let run = ctx.execute("dry-run", dry).await?;
    check!(
        run.status == "SUCCEEDED",
        "status {} ({:?} {:?})",
        run.status,
        run.error,
        run.cause
    );
    check!(
        run.ran(&["Start", "Route", "Notify", "Finish", "Succeeded"])
            && !run.entered("Wait")
            && !run.entered("Poll"),
        "states {:?}",
        run.states
    );
    check!(
        run.output["notification"]["outcome"] == "DRY_RUN",
        "output {}",
        run.output
    );
    let body = expect_message(&run, "DRY_RUN")?;
    check!(body["dryRun"] == true, "body {body}");
    check!(body["deployment"].is_null(), "body {body}");
    let plan = &body["plan"];
    check!(plan["ready"] == true, "plan {plan}");
    check!(plan["snapshotId"] == V11, "plan {plan}");
    check!(plan["problems"] == json!([]), "plan {plan}");
    let stage = &plan["stages"][0];
    check!(stage["stageName"] == "prod", "plan {plan}");
    check!(stage["currentSnapshotId"] == V10, "plan {plan}");
    check!(stage["rollbackSnapshotId"] == V10, "plan {plan}");
    check!(stage["inProgressDeploymentId"].is_null(), "plan {plan}");
    check!(stage["problems"] == json!([]), "plan {plan}");
    check!(
        stage["alarms"][0]["name"] == ALARM && stage["alarms"][0]["state"] == "OK",
        "plan {plan}"
    );
    check!(
        text(&body["summary"]).contains("Nothing was started"),
        "summary {}",
        body["summary"]
    );
    nothing_started(&ctx, "a dry run")
}

async fn dry_run_blocked(ctx: Arc<Ctx>) -> Outcome {
    // A snapshot the game does not have.
    let mut dry = input(MISSING_SNAPSHOT);
    dry["dryRun"] = json!(true);
    let run = ctx.execute("dry-run-no-snapshot", dry).await?;
    check!(
        run.error.as_deref() == Some("StageGate.DRY_RUN_BLOCKED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    let body = expect_message(&run, "DRY_RUN_BLOCKED")?;
    check!(body["plan"]["ready"] == false, "body {body}");
    check!(
        body["plan"]["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| text(p).contains("does not exist"))),
        "body {body}"
    );
    nothing_started(&ctx, "a dry run")?;

    // A busy stage: a deployment that never finishes holds prod.
    ctx.reset()?;
    let busy = ctx.start_deployment("space-raiders", "prod", V13).await?;
    let mut dry = wave(V11, json!(["dev", "prod"]));
    dry["dryRun"] = json!(true);
    let run = ctx.execute("dry-run-busy", dry).await?;
    check!(
        run.error.as_deref() == Some("StageGate.DRY_RUN_BLOCKED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(
        run.cause.as_deref().unwrap_or("").contains(&busy),
        "cause {:?}",
        run.cause
    );
    let body = expect_message(&run, "DRY_RUN_BLOCKED")?;
    let plan = &body["plan"];
    check!(plan["ready"] == false, "plan {plan}");
    check!(
        plan["stages"][0]["stageName"] == "dev" && plan["stages"][0]["problems"] == json!([]),
        "plan {plan}"
    );
    check!(
        plan["stages"][1]["inProgressDeploymentId"] == json!(busy),
        "plan {plan}"
    );
    check!(
        ctx.requests("StartStageDeployment")? == 1,
        "the dry run called StartStageDeployment"
    );
    check!(ctx.deploys(DEV)? == 0, "deployments on dev");
    Ok(())
}

async fn wave_promotes(ctx: Arc<Ctx>) -> Outcome {
    const ALARM: &str = "e2e-wave-prod-errors";
    ctx.put_alarm(ALARM).await?;
    let run = ctx
        .execute(
            "wave",
            wave(
                V11,
                json!(["dev", {"stageName": "prod", "bake": bake(60, 20, &[ALARM])}]),
            ),
        )
        .await?;
    check!(
        run.status == "SUCCEEDED",
        "status {} ({:?} {:?})",
        run.status,
        run.error,
        run.cause
    );
    check!(
        run.ran(&[
            "Start",
            "Poll",
            "Advance",
            "Wait",
            "Poll",
            "Notify",
            "Succeeded"
        ]) && run.count("Advance") == 1,
        "states {:?}",
        run.states
    );
    check!(
        ctx.started_on()? == [DEV, PROD],
        "StartStageDeployment on {:?}",
        ctx.started_on()?
    );
    let body = expect_message(&run, "SUCCEEDED")?;
    check!(
        run.messages[0].subject == "stagegate SUCCEEDED: space-raiders/prod (wave 2/2)",
        "subject {:?}",
        run.messages[0].subject
    );
    let w = &body["wave"];
    check!(w["route"] == "dev > prod" && w["index"] == 1, "wave {w}");
    let dev = latest_deploy(&ctx, "dev").await?;
    let prod = latest_deploy(&ctx, "prod").await?;
    check!(
        is_success(&dev, V11) && is_success(&prod, V11),
        "dev {dev:?} prod {prod:?}"
    );
    let stages = &w["stages"];
    check!(
        stages[0]["stageName"] == "dev"
            && stages[0]["status"] == "PASSED"
            && stages[0]["passed"]["snapshotId"] == V11
            && stages[0]["passed"]["deploymentId"] == json!(dev.deployment_id)
            && stages[0]["passed"]["previousSnapshotId"] == V10,
        "wave {w}"
    );
    // The last stage passed too, with its bake.
    check!(
        stages[1]["stageName"] == "prod"
            && stages[1]["status"] == "PASSED"
            && stages[1]["passed"]["deploymentId"] == json!(prod.deployment_id)
            && stages[1]["passed"]["bakedSeconds"]
                .as_u64()
                .is_some_and(|s| s > 0),
        "wave {w}"
    );
    check!(
        body["deployment"]["deploymentId"] == json!(prod.deployment_id),
        "body {body}"
    );
    check!(!body["bakeWindow"]["passedAt"].is_null(), "body {body}");
    check!(
        text(&body["summary"]).contains("every stage of the wave dev > prod"),
        "summary {}",
        body["summary"]
    );
    Ok(())
}

/// The demo scenario with a third stage, `staging`, between dev and prod. Its known-good snapshot
/// is v0.9 (dev and prod serve v1.0.0), so a rollback target taken from another stage's history
/// shows. `busy` also leaves a deployment stuck IN_PROGRESS on it.
fn three_stages(ctx: &Ctx, busy: bool) -> Result<(), String> {
    let mut scenario = ctx.scenario()?;
    let game = scenario["games"]
        .as_array_mut()
        .and_then(|games| games.iter_mut().find(|g| g["name"] == "space-raiders"))
        .ok_or("the scenario has no space-raiders game")?;
    let mut deployments = vec![json!({
        "id": "dep-00000000000f0001",
        "snapshotId": V09,
        "created": "2026-11-01T12:00:00Z",
        "durationSeconds": 90
    })];
    if busy {
        deployments.push(json!({
            "id": "dep-00000000000f0002",
            "snapshotId": V10,
            "state": "IN_PROGRESS",
            "created": "-10m"
        }));
    }
    game["stages"]
        .as_array_mut()
        .ok_or("space-raiders has no stages")?
        .push(json!({
            "name": "staging",
            "role": "arn:aws:iam::123456789012:role/GameSparksSpaceRaidersStaging",
            "created": "2026-09-01T09:07:00Z",
            "deployments": deployments
        }));
    ctx.load_scenario(&scenario)
}

async fn wave_stops_at_failing_stage(ctx: Arc<Ctx>) -> Outcome {
    three_stages(&ctx, false)?;
    // v1.1.0 deploys on dev but fails on staging.
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({format!("{V11}@staging"): {"result": "UNSPECIFIED_FAILURE"}})),
    )?;
    let arn = ctx
        .start("wave-stops", wave(V11, json!(["dev", "staging", "prod"])))
        .await?;
    let run = ctx.finish_and_read(&arn).await?;
    check!(
        run.error.as_deref() == Some("StageGate.ROLLED_BACK"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(
        run.ran(&["Start", "Poll", "Advance", "Poll", "Rollback", "Poll", "Notify", "Failed"])
            && run.count("Advance") == 1,
        "states {:?}",
        run.states
    );
    check!(
        ctx.started_on()? == [DEV, STAGING, STAGING],
        "StartStageDeployment on {:?}",
        ctx.started_on()?
    );
    check!(ctx.deploys(PROD)? == 0, "prod was deployed");
    let body = expect_message(&run, "ROLLED_BACK")?;
    check!(
        run.messages[0].subject == "stagegate ROLLED_BACK: space-raiders/staging (wave 2/3)",
        "subject {:?}",
        run.messages[0].subject
    );
    let w = &body["wave"];
    let statuses: Vec<&str> = w["stages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| text(&s["status"]))
        .collect();
    check!(
        statuses == ["PASSED", "CURRENT", "NOT_STARTED"] && w["index"] == 1,
        "wave {w}"
    );
    check!(
        w["stages"][0]["passed"]["snapshotId"] == V11 && w["stages"][2]["passed"].is_null(),
        "wave {w}"
    );
    check!(
        body["stageName"] == "staging"
            && body["deployment"]["resultCode"] == "UNSPECIFIED_FAILURE"
            && body["rollback"]["snapshotId"] == V09
            && body["previousSnapshotId"] == V09
            && body["rollback"]["outcome"] == "SUCCEEDED",
        "body {body}"
    );
    let summary = text(&body["summary"]);
    check!(
        summary.contains("stopped at staging (2 of 3)")
            && summary.contains("passed (keeping the new snapshot): dev")
            && summary.contains("not started: prod"),
        "summary {summary}"
    );
    // dev keeps v1.1.0; staging failed it and is back on its own v0.9; prod was never touched.
    check!(
        is_success(&latest_deploy(&ctx, "dev").await?, V11),
        "dev {:?}",
        latest_deploy(&ctx, "dev").await?
    );
    let staging = deploys_on(&ctx, "staging").await?;
    check!(
        staging.len() >= 2
            && is_success(&staging[0], V09)
            && staging[1].snapshot_id == V11
            && staging[1].result_code.as_deref() == Some("UNSPECIFIED_FAILURE"),
        "staging history {staging:?}"
    );
    check!(
        is_success(&latest_deploy(&ctx, "prod").await?, V10),
        "prod {:?}",
        latest_deploy(&ctx, "prod").await?
    );
    Ok(())
}

async fn wave_blocked_at_busy_stage(ctx: Arc<Ctx>) -> Outcome {
    three_stages(&ctx, true)?;
    let run = ctx
        .execute("wave-busy", wave(V11, json!(["dev", "staging", "prod"])))
        .await?;
    check!(
        run.error.as_deref() == Some("StageGate.BLOCKED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(
        run.ran(&["Start", "Poll", "Advance", "Notify", "Failed"]) && !run.entered("Rollback"),
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "BLOCKED")?;
    check!(
        run.messages[0].subject == "stagegate BLOCKED: space-raiders/staging (wave 2/3)",
        "subject {:?}",
        run.messages[0].subject
    );
    let statuses: Vec<&str> = body["wave"]["stages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| text(&s["status"]))
        .collect();
    check!(
        statuses == ["PASSED", "CURRENT", "NOT_STARTED"],
        "wave {}",
        body["wave"]
    );
    check!(
        text(&body["summary"]).contains("stopped at staging (2 of 3)"),
        "summary {}",
        body["summary"]
    );
    check!(
        ctx.started_on()? == [DEV],
        "StartStageDeployment on {:?}",
        ctx.started_on()?
    );
    check!(
        ctx.deploys(STAGING)? == 0 && ctx.deploys(PROD)? == 0,
        "later stages were deployed"
    );
    Ok(())
}

async fn no_secrets_or_panics(ctx: Arc<Ctx>) -> Outcome {
    let secrets = [
        stagegate_local::ACCESS_KEY_ID,
        stagegate_local::SECRET_ACCESS_KEY,
    ];
    let logs = ctx.stack.logs();
    check!(logs.len() == 3, "expected three service logs, got {logs:?}");
    let mut lines = 0;
    for log in &logs {
        let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
        lines += text.lines().count();
        for secret in secrets {
            check!(
                !text.contains(secret),
                "{} contains a credential",
                log.display()
            );
        }
        check!(
            !text.contains("panicked"),
            "{} records a panic",
            log.display()
        );
    }
    check!(lines > 100, "the logs look empty ({lines} lines)");
    let delivered = ctx.delivered();
    check!(
        delivered.len() >= 10,
        "only {} notifications seen",
        delivered.len()
    );
    for body in &delivered {
        for secret in secrets {
            check!(
                !body.contains(secret),
                "a notification contains a credential: {body}"
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("e2e: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let selected: Vec<Case> = cases()
            .into_iter()
            .filter(|c| filter.is_empty() || filter.iter().any(|f| c.name.contains(f.as_str())))
            .collect();
        if selected.is_empty() {
            println!("e2e: no case matches {filter:?}");
            return ExitCode::SUCCESS;
        }
        let started = Instant::now();
        let mut options = Options::new(stagegate_tests::repo_root());
        options.time_scale = 60.0;
        options.verbose = true;
        println!("e2e: starting the local stack");
        let stack = tokio::select! {
            stack = Stack::up(options) => stack,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("e2e: interrupted");
                return ExitCode::FAILURE;
            }
        };
        let stack = match stack {
            Ok(stack) => Arc::new(stack),
            Err(e) => {
                eprintln!("e2e: the local stack did not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "e2e: stack up in {:.1} s; logs in {}",
            started.elapsed().as_secs_f64(),
            stack.log_dir.display()
        );
        let ctx = Arc::new(Ctx::new(stack.clone()).await);
        let mut failed = Vec::new();
        for case in &selected {
            let t = Instant::now();
            let result = tokio::select! {
                r = ctx.run_case(case, Duration::from_secs(240)) => r,
                _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
            };
            match result {
                Ok(()) => println!(
                    "test {} ... ok ({:.1} s)",
                    case.name,
                    t.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    println!(
                        "test {} ... FAILED ({:.1} s)\n    {e}",
                        case.name,
                        t.elapsed().as_secs_f64()
                    );
                    failed.push(case.name);
                }
            }
            if failed.last() == Some(&"interrupted") {
                break;
            }
        }
        drop(ctx);
        stack.shutdown();
        println!(
            "\ne2e: {} passed, {} failed in {:.1} s",
            selected.len() - failed.len(),
            failed.len(),
            started.elapsed().as_secs_f64()
        );
        if failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            println!("failed: {failed:?}");
            ExitCode::FAILURE
        }
    })
}
