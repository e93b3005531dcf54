//! Promotion waves: one snapshot through several stages in order (`dev > staging > prod`), each
//! stage deployed (and baked) before the next starts. The wave promotes to the end; stops at a
//! failing stage and rolls that one back to its own known-good snapshot, leaving the passed
//! stages and never touching the later ones; is blocked at a stage another deployment holds. A
//! new wave case goes here, with `three_stages` for a scenario of three.

use std::sync::Arc;

use serde_json::json;
use stagegate::classify::Outcome;
use stagegate::deployment::ResultCode;
use stagegate::message::WaveReport;
use stagegate::wave::StageStatus;
use stagegate_tests::e2e::Ctx;

use crate::common::{
    bake, deployment, deploys_on, expect_message, expect_succeeded, is_success, json,
    latest_deploy, rollback, wave, CaseResult, DEV, PROD, STAGING, V09, V10, V11,
};

/// The message's wave (a case that reads it fails when there is none).
fn wave_of(body: &stagegate::message::Message) -> Result<&WaveReport, String> {
    body.wave
        .as_ref()
        .ok_or_else(|| format!("the message has no wave: {}", json(body)))
}

fn statuses(w: &WaveReport) -> Vec<StageStatus> {
    w.stages.iter().map(|s| s.status).collect()
}

pub async fn wave_promotes(ctx: Arc<Ctx>) -> CaseResult {
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
    expect_succeeded(&run)?;
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
        run.messages[0].envelope.subject == "stagegate SUCCEEDED: space-raiders/prod (wave 2/2)",
        "subject {:?}",
        run.messages[0].envelope.subject
    );
    let w = wave_of(&body)?;
    check!(w.route == "dev > prod" && w.index == 1, "wave {}", json(w));
    let dev = latest_deploy(&ctx, "dev").await?;
    let prod = latest_deploy(&ctx, "prod").await?;
    check!(
        is_success(&dev, V11) && is_success(&prod, V11),
        "dev {dev:?} prod {prod:?}"
    );
    check!(
        w.stages.first().is_some_and(|s| s.stage_name == "dev"
            && s.status == StageStatus::Passed
            && s.passed.as_ref().is_some_and(|p| p.snapshot_id == V11
                && p.deployment_id == dev.deployment_id
                && p.previous_snapshot_id.as_deref() == Some(V10))),
        "wave {}",
        json(w)
    );
    // The last stage passed too, with its bake.
    check!(
        w.stages.get(1).is_some_and(|s| s.stage_name == "prod"
            && s.status == StageStatus::Passed
            && s.passed
                .as_ref()
                .is_some_and(|p| p.deployment_id == prod.deployment_id && p.baked_seconds > 0)),
        "wave {}",
        json(w)
    );
    check!(
        deployment(&body)?.deployment_id.as_deref() == Some(prod.deployment_id.as_str()),
        "body {}",
        json(&body)
    );
    check!(
        body.bake_window
            .as_ref()
            .is_some_and(|b| b.passed_at.is_some()),
        "body {}",
        json(&body)
    );
    check!(
        body.summary.contains("every stage of the wave dev > prod"),
        "summary {}",
        body.summary
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

pub async fn wave_stops_at_failing_stage(ctx: Arc<Ctx>) -> CaseResult {
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
        run.messages[0].envelope.subject
            == "stagegate ROLLED_BACK: space-raiders/staging (wave 2/3)",
        "subject {:?}",
        run.messages[0].envelope.subject
    );
    let w = wave_of(&body)?;
    check!(
        statuses(w)
            == [
                StageStatus::Passed,
                StageStatus::Current,
                StageStatus::NotStarted
            ]
            && w.index == 1,
        "wave {}",
        json(w)
    );
    check!(
        w.stages[0]
            .passed
            .as_ref()
            .is_some_and(|p| p.snapshot_id == V11)
            && w.stages[2].passed.is_none(),
        "wave {}",
        json(w)
    );
    let (watched, back) = (deployment(&body)?, rollback(&body)?);
    check!(
        body.stage_name.as_deref() == Some("staging")
            && watched.result_code == Some(ResultCode::UnspecifiedFailure)
            && back.snapshot_id == V09
            && body.previous_snapshot_id.as_deref() == Some(V09)
            && back.outcome == Outcome::Succeeded,
        "body {}",
        json(&body)
    );
    let summary = &body.summary;
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

pub async fn wave_blocked_at_busy_stage(ctx: Arc<Ctx>) -> CaseResult {
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
        run.messages[0].envelope.subject == "stagegate BLOCKED: space-raiders/staging (wave 2/3)",
        "subject {:?}",
        run.messages[0].envelope.subject
    );
    let w = wave_of(&body)?;
    check!(
        statuses(w)
            == [
                StageStatus::Passed,
                StageStatus::Current,
                StageStatus::NotStarted
            ],
        "wave {}",
        json(w)
    );
    check!(
        body.summary.contains("stopped at staging (2 of 3)"),
        "summary {}",
        body.summary
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
