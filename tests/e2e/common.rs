//! What the e2e cases share: the `check!` macro, the demo's snapshots and stages, the inputs
//! they build, and the reads every case makes of a run (its one notification, read as the
//! published `Message`; a stage's GameSparks history). A helper two feature files need goes
//! here; one only a feature needs stays in its file.

use std::time::Duration;

use stagegate::message::{DeploymentReport, Message};
use stagegate::policy::{Action, Phase};
use stagegate::state::GateState;
use stagegate::verdict::Verdict;
use stagegate_tests::e2e::{Ctx, Run, StageDeployment};

use serde_json::{json, Value};

/// Fails the case with the message unless the condition holds.
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

pub type CaseResult = Result<(), String>;

pub const V09: &str = gamesparks_local::scenario::demo_snapshots::OLDER;
pub const V10: &str = gamesparks_local::scenario::demo_snapshots::KNOWN_GOOD;
pub const V11: &str = gamesparks_local::scenario::demo_snapshots::DEPLOYS;
pub const V12: &str = gamesparks_local::scenario::demo_snapshots::UNSPECIFIED_FAILURE;
pub const V121: &str = gamesparks_local::scenario::demo_snapshots::INVALID_ROLE;
pub const V13: &str = gamesparks_local::scenario::demo_snapshots::NEVER_FINISHES;
pub const PROD: &str = "space-raiders/prod";
pub const DEV: &str = "space-raiders/dev";
pub const STAGING: &str = "space-raiders/staging";
/// A valid snapshot id the game does not have.
pub const MISSING_SNAPSHOT: &str = "Snapshot_2030-01-01T00:00:00.000Z";

pub fn input(snapshot: &str) -> Value {
    json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": snapshot})
}

/// `input` with a bake window watching `alarms`.
pub fn baked(snapshot: &str, seconds: u64, interval: u64, alarms: &[&str]) -> Value {
    let mut i = input(snapshot);
    i["bake"] = bake(seconds, interval, alarms);
    i
}

pub fn bake(seconds: u64, interval: u64, alarms: &[&str]) -> Value {
    json!({"seconds": seconds, "checkIntervalSeconds": interval, "alarmNames": alarms})
}

pub fn wave(snapshot: &str, stages: Value) -> Value {
    json!({"gameName": "space-raiders", "stages": stages, "snapshotId": snapshot})
}

/// A part of the message as the JSON a subscriber received, for failure texts.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("(not serializable: {e})"))
}

/// The gate never called StartStageDeployment, and prod has no new deployment.
pub fn nothing_started(ctx: &Ctx, case: &str) -> CaseResult {
    let calls = ctx.requests("StartStageDeployment")?;
    check!(
        calls == 0,
        "{case}: StartStageDeployment was called {calls} time(s)"
    );
    check!(ctx.deploys(PROD)? == 0, "{case}: prod has a new deployment");
    Ok(())
}

/// The execution SUCCEEDED; otherwise the case fails naming its status, error and cause.
pub fn expect_succeeded(run: &Run) -> CaseResult {
    check!(
        run.status == "SUCCEEDED",
        "status {} ({:?} {:?})",
        run.status,
        run.error,
        run.cause
    );
    Ok(())
}

/// The run's one notification: its attributes, its subject and the execution it names; returns
/// its body.
pub fn expect_message(run: &Run, outcome: &str) -> Result<Message, String> {
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
        m.envelope
            .subject
            .starts_with(&format!("stagegate {outcome}")),
        "subject {:?}",
        m.envelope.subject
    );
    check!(
        m.body.gate.execution_id == run.execution_arn,
        "body names another execution: {}",
        json(&m.body)
    );
    Ok(m.body.clone())
}

/// The deployment the message reports (a case that reads it fails when there is none).
pub fn deployment(body: &Message) -> Result<&DeploymentReport, String> {
    body.deployment
        .as_ref()
        .ok_or_else(|| format!("the message has no deployment: {}", json(body)))
}

/// The rollback the message reports (a case that reads it fails when there is none).
pub fn rollback(body: &Message) -> Result<&DeploymentReport, String> {
    body.rollback
        .as_ref()
        .ok_or_else(|| format!("the message has no rollback: {}", json(body)))
}

/// The error the run ended on, as the message reports it (`error.error`), if any.
pub fn error_name(body: &Message) -> Option<&str> {
    body.error.as_ref().map(|e| e.error.as_str())
}

/// The newest DEPLOY on a stage, as GameSparks lists it.
pub async fn latest_deploy(ctx: &Ctx, stage: &str) -> Result<StageDeployment, String> {
    ctx.history("space-raiders", stage)
        .await?
        .into_iter()
        .find(|d| d.action == "DEPLOY")
        .ok_or_else(|| format!("{stage} has no DEPLOY"))
}

/// The DEPLOYs on a stage, newest first.
pub async fn deploys_on(ctx: &Ctx, stage: &str) -> Result<Vec<StageDeployment>, String> {
    Ok(ctx
        .history("space-raiders", stage)
        .await?
        .into_iter()
        .filter(|d| d.action == "DEPLOY")
        .collect())
}

pub fn is_success(d: &StageDeployment, snapshot: &str) -> bool {
    d.snapshot_id == snapshot
        && d.state == "COMPLETED"
        && d.result_code.as_deref() == Some("SUCCESS")
}

/// Waits until the run asks for approval, and takes what was published meanwhile: exactly one
/// AWAITING_APPROVAL message (published by the wait's own task, just after Route exits).
pub async fn approval_request(ctx: &Ctx, arn: &str) -> Result<(GateState, Message), String> {
    let state = ctx
        .wait_for_state(arn, "the approval request", Duration::from_secs(60), |s| {
            s.phase == Phase::Approval && s.action == Action::Approve
        })
        .await?;
    for _ in 0..50 {
        let mut request = ctx.drain_messages().await?;
        if !request.is_empty() {
            check!(
                request.len() == 1
                    && request[0].attribute("outcome") == Some(Verdict::AwaitingApproval.as_str()),
                "expected one AWAITING_APPROVAL message, got {:?}",
                request
                    .iter()
                    .map(|m| &m.envelope.subject)
                    .collect::<Vec<_>>()
            );
            return Ok((state, request.remove(0).body));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{arn}: no approval request published"))
}
