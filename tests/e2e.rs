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
use stagegate_tests::e2e::{Case, Ctx, Run};

const V10: &str = "Snapshot_2026-11-01T09:00:00.000Z";
const V11: &str = "Snapshot_2026-11-10T14:30:00.000Z";
const V12: &str = "Snapshot_2026-11-18T11:15:00.000Z";
const V121: &str = "Snapshot_2026-11-20T16:45:00.000Z";
const V13: &str = "Snapshot_2026-11-24T08:00:00.000Z";
const PROD: &str = "space-raiders/prod";

fn input(snapshot: &str) -> Value {
    json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": snapshot})
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
        Case::new("invalid_input", |ctx| Box::pin(invalid_input(ctx))),
        Case::new("non_object_input", |ctx| Box::pin(non_object_input(ctx))),
        Case::new("scheduler_latest", |ctx| Box::pin(scheduler_latest(ctx))),
        Case::new("access_denied", |ctx| Box::pin(access_denied(ctx))),
        Case::new("concurrent_executions", |ctx| {
            Box::pin(concurrent_executions(ctx))
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
    // Default policy rolls back; GameSparks cannot cancel, so the stuck deployment blocks it.
    check!(
        run.error.as_deref() == Some("StageGate.ROLLBACK_FAILED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    let body = expect_message(&run, "ROLLBACK_FAILED")?;
    check!(body["deployment"]["outcome"] == "TIMED_OUT", "body {body}");
    check!(body["rollback"]["outcome"] == "BLOCKED", "body {body}");
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
