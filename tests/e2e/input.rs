//! What the gate is asked to do, and whether it may: input it must refuse (a misspelt field,
//! input that is not an object), the scheduler's `latest`, and a stage its role cannot reach.
//! Each ends with the notification a subscriber acts on. A new input rule or permission case
//! goes here.

use std::sync::Arc;

use serde_json::{json, Value};
use stagegate_tests::e2e::Ctx;

use crate::common::{
    error_name, expect_message, expect_succeeded, input, json, CaseResult, PROD, V11, V13,
};

pub async fn invalid_input(ctx: Arc<Ctx>) -> CaseResult {
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
        error_name(&body) == Some("StageGate.InvalidInput"),
        "body {}",
        json(&body)
    );
    check!(ctx.deploys(PROD)? == 0, "deployments");
    Ok(())
}

pub async fn non_object_input(ctx: Arc<Ctx>) -> CaseResult {
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
        error_name(&body) == Some("StageGate.InvalidInput"),
        "body {}",
        json(&body)
    );
    Ok(())
}

pub async fn scheduler_latest(ctx: Arc<Ctx>) -> CaseResult {
    let path = stagegate_tests::repo_root().join("events/scheduler-input.json");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let scheduled: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({V13: {"result": "SUCCESS", "neverFinish": false}})),
    )?;
    let run = ctx.execute("scheduled", scheduled).await?;
    expect_succeeded(&run)?;
    let body = expect_message(&run, "SUCCEEDED")?;
    check!(
        body.requested_snapshot_id.as_deref() == Some("latest")
            && body.snapshot_id.as_deref() == Some(V13),
        "body {}",
        json(&body)
    );
    Ok(())
}

pub async fn access_denied(ctx: Arc<Ctx>) -> CaseResult {
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
        error_name(&body) == Some("StageGate.AccessDenied"),
        "body {}",
        json(&body)
    );
    check!(ctx.deploys(PROD)? == 0, "deployments");
    Ok(())
}
