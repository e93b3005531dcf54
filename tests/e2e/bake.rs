//! The bake window: after the deployment succeeds the gate watches CloudWatch alarms (moto's)
//! for a while before calling the run a success. The window passes; an alarm fires during it and
//! the gate rolls back or alerts; an alarm already firing blocks the run before anything starts;
//! an alarm that does not exist is refused as input. A new bake case goes here (a bake inside a
//! wave goes in `wave.rs`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use stagegate::classify::Outcome;
use stagegate::policy::Phase;
use stagegate::state::GateState;
use stagegate_tests::e2e::Ctx;

use crate::common::{
    bake, baked, deployment, deploys_on, error_name, expect_message, expect_succeeded, is_success,
    json, latest_deploy, nothing_started, rollback, wave, CaseResult, PROD, V10, V11,
};

/// Waits until the gate has seen the deployment succeed and opened the bake window.
async fn wait_for_bake(ctx: &Ctx, arn: &str) -> Result<GateState, String> {
    ctx.wait_for_state(arn, "the bake window", Duration::from_secs(90), |s| {
        s.phase == Phase::Bake
    })
    .await
}

pub async fn bake_passes(ctx: Arc<Ctx>) -> CaseResult {
    const ALARM: &str = "e2e-bake-passes-errors";
    // A composite alarm too: CloudWatch lists those only when asked for by type.
    const COMPOSITE: &str = "e2e-bake-passes-health";
    ctx.put_alarm(ALARM).await?;
    ctx.put_composite_alarm(COMPOSITE, &format!("ALARM(\"{ALARM}\")"))
        .await?;
    let run = ctx
        .execute("bake-passes", baked(V11, 120, 30, &[ALARM, COMPOSITE]))
        .await?;
    expect_succeeded(&run)?;
    check!(
        run.ran(&["Start", "Poll", "Wait", "Poll", "Notify", "Succeeded"])
            && !run.entered("Rollback"),
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "SUCCEEDED")?;
    let window = body.bake_window.as_ref().ok_or_else(|| {
        format!(
            "the alarms were never read: no bakeWindow in {}",
            json(&body)
        )
    })?;
    let checks = u64::from(window.checks);
    check!(checks >= 1, "the alarms were never read: {}", json(window));
    check!(
        run.count("Poll") as u64 > checks,
        "{checks} checks but {} polls: {:?}",
        run.count("Poll"),
        run.states
    );
    let passed = window
        .passed_at
        .ok_or_else(|| format!("bakeWindow.passedAt is null: {}", json(window)))?;
    check!(
        passed >= window.ends_at
            && window.ends_at - window.started_at == time::Duration::seconds(120),
        "window {}",
        json(window)
    );
    check!(window.failure.is_none(), "window {}", json(window));
    check!(
        matches!(&window.alarms[..], [a, b, ..]
            if a.name == ALARM && a.state == "OK" && b.name == COMPOSITE && b.state == "OK"),
        "window {}",
        json(window)
    );
    check!(
        body.bake
            .as_ref()
            .is_some_and(|b| b.alarm_names == [ALARM, COMPOSITE]),
        "body {}",
        json(&body)
    );
    check!(
        body.bake.as_ref().is_some_and(|b| b.seconds == 120),
        "body {}",
        json(&body)
    );
    check!(
        body.summary.contains("passed a 120 s bake window"),
        "summary {}",
        body.summary
    );
    check!(
        ctx.deploys(PROD)? == 1,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    Ok(())
}

pub async fn bake_fails_rolls_back(ctx: Arc<Ctx>) -> CaseResult {
    const ALARM: &str = "e2e-bake-rollback-errors";
    const REASON: &str = "Threshold Crossed: e2e error rate above 5%";
    ctx.put_alarm(ALARM).await?;
    let arn = ctx
        .start("bake-fails", baked(V11, 600, 10, &[ALARM]))
        .await?;
    let baking = wait_for_bake(&ctx, &arn).await?;
    check!(
        baking.deployment.outcome == Outcome::Succeeded,
        "the bake opened before the deployment succeeded: {}",
        json(&baking)
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
    let window = body
        .bake_window
        .as_ref()
        .ok_or_else(|| format!("no bakeWindow: {}", json(&body)))?;
    let failure = window
        .failure
        .as_ref()
        .ok_or_else(|| format!("window {}", json(window)))?;
    check!(
        failure.alarm_name.as_deref() == Some(ALARM),
        "window {}",
        json(window)
    );
    check!(
        failure.alarm_state.as_deref() == Some("ALARM"),
        "window {}",
        json(window)
    );
    check!(failure.failing_alarms == [ALARM], "window {}", json(window));
    check!(failure.reason.contains(REASON), "window {}", json(window));
    check!(
        failure.detected_at < window.ends_at,
        "the failure was not seen during the window: {}",
        json(window)
    );
    check!(window.passed_at.is_none(), "window {}", json(window));
    check!(window.checks >= 1, "window {}", json(window));
    check!(
        body.summary.contains(&format!("alarm {ALARM} was ALARM"))
            && body.summary.contains(&format!("Rolled back to {V10}")),
        "summary {}",
        body.summary
    );
    check!(
        deployment(&body)?.outcome == Outcome::Succeeded,
        "body {}",
        json(&body)
    );
    let back = rollback(&body)?;
    check!(back.snapshot_id == V10, "body {}", json(&body));
    check!(back.outcome == Outcome::Succeeded, "body {}", json(&body));
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
        back.deployment_id.as_deref() == Some(deploys[0].deployment_id.as_str()),
        "body {} history {deploys:?}",
        json(&body)
    );
    Ok(())
}

pub async fn bake_fails_alerts(ctx: Arc<Ctx>) -> CaseResult {
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
        body.bake_window
            .as_ref()
            .and_then(|w| w.failure.as_ref())
            .and_then(|f| f.alarm_name.as_deref())
            == Some(ALARM),
        "body {}",
        json(&body)
    );
    check!(
        body.summary.contains(ALARM) && body.summary.contains("Not rolled back"),
        "summary {}",
        body.summary
    );
    check!(body.rollback.is_none(), "body {}", json(&body));
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

pub async fn bake_alarm_firing_blocks(ctx: Arc<Ctx>) -> CaseResult {
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
    check!(body.summary.contains(ALARM), "summary {}", body.summary);
    nothing_started(&ctx, "a firing alarm")
}

pub async fn bake_missing_alarm(ctx: Arc<Ctx>) -> CaseResult {
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
            error_name(&body) == Some("StageGate.InvalidInput"),
            "{name}: body {}",
            json(&body)
        );
        nothing_started(&ctx, name)?;
    }
    Ok(())
}
