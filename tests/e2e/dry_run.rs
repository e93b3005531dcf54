//! Dry runs: the gate reads everything a run would need (the snapshot, each stage's current and
//! rollback snapshots, a deployment holding a stage, the bake alarms) and reports a plan, starting
//! nothing. Ready when nothing stands in the way, DRY_RUN_BLOCKED naming what does. A new dry-run
//! finding goes here.

use std::sync::Arc;

use serde_json::json;
use stagegate_tests::e2e::Ctx;

use crate::common::{
    baked, expect_message, expect_succeeded, input, json, nothing_started, wave, CaseResult, DEV,
    MISSING_SNAPSHOT, V10, V11, V13,
};

pub async fn dry_run_ready(ctx: Arc<Ctx>) -> CaseResult {
    const ALARM: &str = "e2e-dry-run-errors";
    ctx.put_alarm(ALARM).await?;
    let mut dry = baked(V11, 300, 30, &[ALARM]);
    dry["dryRun"] = json!(true);
    let run = ctx.execute("dry-run", dry).await?;
    expect_succeeded(&run)?;
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
    check!(body.dry_run, "body {}", json(&body));
    check!(body.deployment.is_none(), "body {}", json(&body));
    let plan = body
        .plan
        .as_ref()
        .ok_or_else(|| format!("no plan: {}", json(&body)))?;
    check!(plan.ready, "plan {}", json(plan));
    check!(
        plan.snapshot_id.as_deref() == Some(V11),
        "plan {}",
        json(plan)
    );
    check!(plan.problems.is_empty(), "plan {}", json(plan));
    let stage = plan
        .stages
        .first()
        .ok_or_else(|| format!("plan {}", json(plan)))?;
    check!(stage.stage_name == "prod", "plan {}", json(plan));
    check!(
        stage.current_snapshot_id.as_deref() == Some(V10),
        "plan {}",
        json(plan)
    );
    check!(
        stage.rollback_snapshot_id.as_deref() == Some(V10),
        "plan {}",
        json(plan)
    );
    check!(
        stage.in_progress_deployment_id.is_none(),
        "plan {}",
        json(plan)
    );
    check!(stage.problems.is_empty(), "plan {}", json(plan));
    check!(
        stage
            .alarms
            .first()
            .is_some_and(|a| a.name == ALARM && a.state == "OK"),
        "plan {}",
        json(plan)
    );
    check!(
        body.summary.contains("Nothing was started"),
        "summary {}",
        body.summary
    );
    nothing_started(&ctx, "a dry run")
}

pub async fn dry_run_blocked(ctx: Arc<Ctx>) -> CaseResult {
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
    let plan = body
        .plan
        .as_ref()
        .ok_or_else(|| format!("no plan: {}", json(&body)))?;
    check!(!plan.ready, "body {}", json(&body));
    check!(
        plan.problems.iter().any(|p| p.contains("does not exist")),
        "body {}",
        json(&body)
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
    let plan = body
        .plan
        .as_ref()
        .ok_or_else(|| format!("no plan: {}", json(&body)))?;
    check!(!plan.ready, "plan {}", json(plan));
    check!(
        plan.stages
            .first()
            .is_some_and(|s| s.stage_name == "dev" && s.problems.is_empty()),
        "plan {}",
        json(plan)
    );
    check!(
        plan.stages
            .get(1)
            .and_then(|s| s.in_progress_deployment_id.as_deref())
            == Some(busy.as_str()),
        "plan {}",
        json(plan)
    );
    check!(
        ctx.requests("StartStageDeployment")? == 1,
        "the dry run called StartStageDeployment"
    );
    check!(ctx.deploys(DEV)? == 0, "deployments on dev");
    Ok(())
}
