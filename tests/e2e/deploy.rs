//! One stage, one deployment through the gate: every route a single deployment can take. It
//! succeeds; it fails and the policy alerts; it fails and is rolled back (or the rollback fails
//! too, or there is nothing to roll back to); it never finishes and times out. A new route of a
//! plain deployment goes here; GameSparks misbehaving goes in `faults.rs`.

use std::sync::Arc;

use serde_json::json;
use stagegate::classify::Outcome;
use stagegate::deployment::ResultCode;
use stagegate_tests::e2e::Ctx;

use crate::common::{
    deployment, expect_message, expect_succeeded, input, json, rollback, CaseResult, PROD, V10,
    V11, V12, V121, V13,
};

pub async fn success(ctx: Arc<Ctx>) -> CaseResult {
    let run = ctx.execute("success", input(V11)).await?;
    expect_succeeded(&run)?;
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
    check!(
        deployment(&body)?.result_code == Some(ResultCode::Success),
        "body {}",
        json(&body)
    );
    check!(
        body.previous_snapshot_id.as_deref() == Some(V10),
        "body {}",
        json(&body)
    );
    check!(
        ctx.deploys(PROD)? == 1,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    Ok(())
}

pub async fn invalid_role_alerts(ctx: Arc<Ctx>) -> CaseResult {
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
        body.gate.reason.as_deref() == Some("policy onInvalidRole is alert"),
        "body {}",
        json(&body)
    );
    check!(ctx.deploys(PROD)? == 1, "deployments");
    Ok(())
}

pub async fn unspecified_failure_rolls_back(ctx: Arc<Ctx>) -> CaseResult {
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
    let back = rollback(&body)?;
    check!(back.snapshot_id == V10, "body {}", json(&body));
    check!(back.outcome == Outcome::Succeeded, "body {}", json(&body));
    check!(
        body.summary.contains(&format!("Rolled back to {V10}")),
        "body {}",
        json(&body)
    );
    check!(
        deployment(&body)?
            .message
            .as_deref()
            .unwrap_or("")
            .contains("unexpected error"),
        "body {}",
        json(&body)
    );
    check!(
        ctx.deploys(PROD)? == 2,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    Ok(())
}

pub async fn no_known_good_alerts(ctx: Arc<Ctx>) -> CaseResult {
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
    check!(body.previous_snapshot_id.is_none(), "body {}", json(&body));
    check!(
        body.gate
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("no known-good snapshot"),
        "body {}",
        json(&body)
    );
    Ok(())
}

pub async fn rollback_fails(ctx: Arc<Ctx>) -> CaseResult {
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
    check!(body.summary.contains("also failed"), "body {}", json(&body));
    check!(
        rollback(&body)?.result_code == Some(ResultCode::UnspecifiedFailure),
        "body {}",
        json(&body)
    );
    check!(ctx.deploys(PROD)? == 2, "deployments");
    Ok(())
}

pub async fn stuck_times_out(ctx: Arc<Ctx>) -> CaseResult {
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
    check!(
        deployment(&body)?.outcome == Outcome::TimedOut,
        "body {}",
        json(&body)
    );
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
