//! Operator control on the real workflow: approvals answered with the CLI's own code through the
//! answer function's URL (the local stack's front stands in for Lambda's IAM check and hands the
//! function the caller; the function finds the token and calls SendTaskSuccess on moto), a forged
//! answer sent with SendTaskSuccess directly and refused, a timeout that fires, aborts
//! through Parameter Store while deploying, baking and waiting, freeze windows that refuse a start
//! but never a rollback, and each run's metrics record read back from the functions' log and
//! checked against the run (its state transitions are the states the history shows entered).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use stagegate::approval::Decision;
use stagegate::message::Message;
use stagegate::policy::Phase;
use stagegate::state::GateState;
use stagegate_cli::operator::Operator;
use stagegate_cli::output::Document;
use stagegate_local::function_url::LOCAL_CALLER_ARN;
use stagegate_tests::e2e::{Ctx, Run};

use crate::common::{
    approval_request, baked, deployment, expect_message, expect_succeeded, input, is_success, json,
    latest_deploy, nothing_started, rollback, CaseResult, V10, V11, V12,
};

fn with(mut input: Value, key: &str, value: Value) -> Value {
    input[key] = value;
    input
}

fn approval(timeout: u64) -> Value {
    with(input(V11), "approval", json!({"timeoutSeconds": timeout}))
}

async fn operator(ctx: &Ctx) -> Operator {
    Operator::from_sdk_config(&ctx.stack.sdk_config().await)
        .with_answer_url(Some(&ctx.stack.answer_url.url()))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until the run asks for approval, and checks what was published meanwhile: one
/// AWAITING_APPROVAL message naming the snapshot, with nothing of the stage started.
async fn awaiting(ctx: &Ctx, arn: &str) -> Result<GateState, String> {
    let (state, request) = approval_request(ctx, arn).await?;
    let body = &request;
    check!(
        body.summary.contains("stagegate approve") && body.summary.contains(V11),
        "request {}",
        body.summary
    );
    check!(
        body.approval.as_ref().is_some_and(|a| a.answer.is_none()),
        "request {}",
        json(body)
    );
    nothing_started(ctx, "while awaiting approval")?;
    Ok(state)
}

/// The run's EMF record, from the functions' log, agrees with the run and its message.
fn metrics_match(ctx: &Ctx, run: &Run, body: &Message) -> CaseResult {
    let records = ctx.emf_records()?;
    let mine: Vec<&Value> = records
        .iter()
        .filter(|r| r["ExecutionId"] == run.execution_arn.as_str())
        .collect();
    check!(
        mine.len() == 1,
        "{} metrics records for {}",
        mine.len(),
        run.execution_arn
    );
    let r = mine[0];
    check!(
        r["Outcome"] == body.outcome.as_str() && r["Runs"] == 1,
        "record {r}"
    );
    // Step Functions bills states entered: the record's count is the history's.
    check!(
        r["StateTransitions"] == run.states.len() as u64,
        "record says {} transitions, the history shows {} states entered: {:?}",
        r["StateTransitions"],
        run.states.len(),
        run.states
    );
    let cost = body
        .cost
        .as_ref()
        .ok_or_else(|| format!("no cost in {}", json(body)))?;
    check!(
        u64::from(cost.state_transitions) == run.states.len() as u64
            && r["EstimatedCostUSD"] == cost.estimated_usd,
        "message cost {} vs record {r}",
        json(cost)
    );
    let rollbacks = u64::from(body.rollback.is_some());
    check!(r["Rollbacks"] == rollbacks, "record {r}");
    Ok(())
}

pub async fn approval_approved(ctx: Arc<Ctx>) -> CaseResult {
    let arn = ctx.start("approve", approval(600)).await?;
    awaiting(&ctx, &arn).await?;
    let said = operator(&ctx)
        .await
        .answer(&arn, Decision::Approve, Some("e2e: QA signed off"))
        .await?;
    check!(said.contains("approved"), "{said}");
    let run = ctx.finish_and_read(&arn).await?;
    expect_succeeded(&run)?;
    check!(
        run.ran(&[
            "Start",
            "AwaitApproval",
            "Answered",
            "Wait",
            "Poll",
            "Notify",
            "Succeeded"
        ]),
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "SUCCEEDED")?;
    let answer = body
        .approval
        .as_ref()
        .and_then(|a| a.answer.as_ref())
        .ok_or_else(|| format!("no answer recorded: {}", json(&body)))?;
    // Who approved is the caller IAM verified, as the answer function signed it.
    check!(
        answer.decision == Decision::Approve
            && answer.by.as_deref() == Some(LOCAL_CALLER_ARN)
            && answer.signature.is_some()
            && answer.reason.as_deref() == Some("e2e: QA signed off"),
        "answer {}",
        json(answer)
    );
    check!(
        is_success(&latest_deploy(&ctx, "prod").await?, V11),
        "prod does not serve {V11}"
    );
    metrics_match(&ctx, &run, &body)
}

pub async fn approval_rejected(ctx: Arc<Ctx>) -> CaseResult {
    let arn = ctx.start("reject", approval(600)).await?;
    awaiting(&ctx, &arn).await?;
    operator(&ctx)
        .await
        .answer(&arn, Decision::Reject, Some("not during the tournament"))
        .await?;
    let run = ctx.finish_and_read(&arn).await?;
    check!(
        run.error.as_deref() == Some("StageGate.REJECTED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    let body = expect_message(&run, "REJECTED")?;
    check!(
        body.summary.contains("not during the tournament"),
        "summary {}",
        body.summary
    );
    nothing_started(&ctx, "rejected")?;
    // Nothing is left to answer.
    let again = operator(&ctx)
        .await
        .answer(&arn, Decision::Approve, None)
        .await;
    check!(
        again.is_err(),
        "a finished run accepted an answer: {again:?}"
    );
    metrics_match(&ctx, &run, &body)
}

/// Someone holding `states:SendTaskSuccess` and the token (it is in the history) answers as
/// someone else, without the answer function: the gate refuses it, nothing is deployed, the run
/// waits again for the time left, and the answer given through the answer function is taken and
/// names the verified caller.
pub async fn forged_answer_is_refused(ctx: Arc<Ctx>) -> CaseResult {
    // An hour on the gate's clock (a minute here): room for the forgery and the real answer.
    let arn = ctx.start("forged-answer", approval(3600)).await?;
    awaiting(&ctx, &arn).await?;
    let sfn = aws_sdk_sfn::Client::new(&ctx.stack.sdk_config().await);
    let steps =
        stagegate_cli::history::recent_steps(&sfn, &arn, stagegate_cli::steps::has_gate_state)
            .await?;
    let pending = stagegate_cli::steps::pending_approval(&steps)
        .ok_or_else(|| format!("{arn}: no pending approval in the history"))?;
    let boss = "arn:aws:iam::123456789012:user/boss";
    let forged = json!({"decision": "APPROVE", "by": boss, "reason": "trust me",
                        "at": "2026-03-01T12:00:00Z"});
    sfn.send_task_success()
        .task_token(&pending.token)
        .output(forged.to_string())
        .send()
        .await
        .map_err(|e| format!("SendTaskSuccess (the forgery): {e:?}"))?;
    let refused = ctx
        .wait_for_state(&arn, "the refusal", Duration::from_secs(60), |s| {
            s.approval.as_ref().is_some_and(|a| !a.refused.is_empty())
        })
        .await?;
    let a = refused.approval.as_ref().ok_or("no approval")?;
    check!(
        refused.action == stagegate::policy::Action::Approve
            && a.answer.is_none()
            && a.refused[0].by.as_deref() == Some(boss)
            && a.wait_seconds < a.timeout_seconds,
        "refused state {}",
        json(&refused)
    );
    // Asked again: a second request, and still nothing deployed.
    approval_request(&ctx, &arn).await?;
    nothing_started(&ctx, "after a forged approval")?;
    operator(&ctx)
        .await
        .answer(&arn, Decision::Approve, Some("e2e: the real approval"))
        .await?;
    let run = ctx.finish_and_read(&arn).await?;
    expect_succeeded(&run)?;
    check!(
        run.count("AwaitApproval") == 2 && run.count("Answered") == 2,
        "states {:?}",
        run.states
    );
    let body = expect_message(&run, "SUCCEEDED")?;
    let approval = body.approval.as_ref().ok_or("no approval in the message")?;
    check!(
        approval.answer.as_ref().and_then(|a| a.by.as_deref()) == Some(LOCAL_CALLER_ARN)
            && approval.refused.len() == 1
            && approval.refused[0].by.as_deref() == Some(boss),
        "message approval {}",
        json(approval)
    );
    check!(
        body.summary.contains(LOCAL_CALLER_ARN) || json(&body).contains(LOCAL_CALLER_ARN),
        "the message does not name the verified caller: {}",
        body.summary
    );
    Ok(())
}

/// The shortest timeout the input allows, 60 s, on Step Functions' own clock (moto does not run
/// the gate's accelerated one): the wait's States.Timeout ends the run, never retried.
pub async fn approval_times_out(ctx: Arc<Ctx>) -> CaseResult {
    let arn = ctx.start("approval-timeout", approval(60)).await?;
    awaiting(&ctx, &arn).await?;
    let run = ctx.finish_and_read(&arn).await?;
    check!(
        run.error.as_deref() == Some("StageGate.APPROVAL_TIMED_OUT"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(
        run.count("AwaitApproval") == 1,
        "asked again: {:?}",
        run.states
    );
    let body = expect_message(&run, "APPROVAL_TIMED_OUT")?;
    nothing_started(&ctx, "approval timed out")?;
    metrics_match(&ctx, &run, &body)
}

pub async fn abort_while_awaiting_approval(ctx: Arc<Ctx>) -> CaseResult {
    let arn = ctx.start("abort-awaiting", approval(600)).await?;
    awaiting(&ctx, &arn).await?;
    operator(&ctx).await.abort(&arn, "wrong build").await?;
    let run = ctx.finish_and_read(&arn).await?;
    check!(
        run.error.as_deref() == Some("StageGate.ABORTED"),
        "error {:?}",
        run.error
    );
    let body = expect_message(&run, "ABORTED")?;
    check!(
        body.summary.contains("wrong build") && body.summary.contains("awaited approval"),
        "summary {}",
        body.summary
    );
    nothing_started(&ctx, "aborted while awaiting approval")
}

/// An aborted run's ending: rolled back to the known-good snapshot, the message naming who and
/// why, prod serving v1.0.0 again.
async fn rolled_back_by_abort(ctx: &Ctx, run: &Run, reason: &str) -> CaseResult {
    check!(
        run.error.as_deref() == Some("StageGate.ABORTED"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    check!(run.entered("Rollback"), "states {:?}", run.states);
    let body = expect_message(run, "ABORTED")?;
    let abort = body
        .abort
        .as_ref()
        .ok_or_else(|| format!("no abort in {}", json(&body)))?;
    check!(
        abort.reason == reason && abort.by.as_deref().is_some_and(|b| b.starts_with("arn:")),
        "abort {}",
        json(abort)
    );
    check!(rollback(&body)?.snapshot_id == V10, "body {}", json(&body));
    check!(
        is_success(&latest_deploy(ctx, "prod").await?, V10),
        "prod does not serve {V10} again"
    );
    metrics_match(ctx, run, &body)
}

pub async fn abort_during_deploy(ctx: Arc<Ctx>) -> CaseResult {
    // A deployment that runs a while (10 virtual minutes, 10 s here) so the abort lands during it.
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({V11: {"result": "SUCCESS", "durationSeconds": 600}})),
    )?;
    let arn = ctx.start("abort-deploy", input(V11)).await?;
    ctx.wait_for_state(&arn, "the deployment", Duration::from_secs(60), |s| {
        s.phase == Phase::Deploy && !s.deployment.deployment_id.is_empty()
    })
    .await?;
    operator(&ctx)
        .await
        .abort(&arn, "players report crashes")
        .await?;
    let run = ctx.finish_and_read(&arn).await?;
    let body_check = rolled_back_by_abort(&ctx, &run, "players report crashes").await;
    // The deployment itself ran to its end before the rollback (GameSparks refuses another).
    let body = expect_message(&run, "ABORTED")?;
    check!(
        deployment(&body)?.finished_at.is_some(),
        "deployment {}",
        json(&body.deployment)
    );
    body_check
}

pub async fn abort_during_bake(ctx: Arc<Ctx>) -> CaseResult {
    const ALARM: &str = "e2e-abort-bake-errors";
    ctx.put_alarm(ALARM).await?;
    let arn = ctx
        .start("abort-bake", baked(V11, 600, 30, &[ALARM]))
        .await?;
    ctx.wait_for_state(&arn, "the bake window", Duration::from_secs(90), |s| {
        s.phase == Phase::Bake
    })
    .await?;
    operator(&ctx).await.abort(&arn, "latency doubled").await?;
    let run = ctx.finish_and_read(&arn).await?;
    rolled_back_by_abort(&ctx, &run, "latency doubled").await
}

/// The emulator's virtual now: the gate's clock runs on the same origin and scale.
fn virtual_now(ctx: &Ctx) -> Result<time::OffsetDateTime, String> {
    let clock = ctx.admin("GET", "/_emulator/clock", None)?;
    let now = clock["now"].as_str().unwrap_or_default();
    time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("emulator clock {clock}: {e}"))
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    stagegate::timefmt::rfc3339(t)
}

pub async fn freeze_refuses_the_start(ctx: Arc<Ctx>) -> CaseResult {
    let now = virtual_now(&ctx)?;
    let end = now + time::Duration::days(30);
    let windows = json!([{"name": "e2e launch week", "start": rfc3339(now - time::Duration::days(1)),
                          "end": rfc3339(end)}]);
    let run = ctx
        .execute("frozen", with(input(V11), "freezeWindows", windows))
        .await?;
    check!(
        run.error.as_deref() == Some("StageGate.FROZEN"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    let body = expect_message(&run, "FROZEN")?;
    let frozen = body
        .frozen
        .as_ref()
        .ok_or_else(|| format!("no freeze in {}", json(&body)))?;
    check!(
        frozen.until == end && frozen.name.as_deref() == Some("e2e launch week"),
        "frozen {}",
        json(frozen)
    );
    nothing_started(&ctx, "frozen")?;
    metrics_match(&ctx, &run, &body)
}

/// A freeze that begins while the deployment runs: the failed deployment is still rolled back.
pub async fn rollback_allowed_in_a_freeze(ctx: Arc<Ctx>) -> CaseResult {
    // v1.2.0 fails after 10 virtual minutes; the freeze begins 4 virtual minutes from now, after
    // the start (a second or so here) and well before the failure.
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({V12: {"result": "UNSPECIFIED_FAILURE", "durationSeconds": 600}})),
    )?;
    let begins = virtual_now(&ctx)? + time::Duration::minutes(4);
    let windows =
        json!([{"start": rfc3339(begins), "end": rfc3339(begins + time::Duration::days(1))}]);
    let run = ctx
        .execute(
            "rollback-in-freeze",
            with(input(V12), "freezeWindows", windows),
        )
        .await?;
    check!(
        run.error.as_deref() == Some("StageGate.ROLLED_BACK"),
        "error {:?} {:?}",
        run.error,
        run.cause
    );
    let body = expect_message(&run, "ROLLED_BACK")?;
    let started = deployment(&body)?.started_at;
    let rolled = rollback(&body)?.started_at;
    check!(
        started < begins && rolled >= begins,
        "deployment started {}, rollback started {}, freeze from {}",
        rfc3339(started),
        rfc3339(rolled),
        rfc3339(begins)
    );
    check!(
        is_success(&latest_deploy(&ctx, "prod").await?, V10),
        "prod does not serve {V10} again"
    );
    Ok(())
}

/// The binary as an operator or a script runs it, with `--output json`, around a run that awaits
/// approval of prod: `run --no-follow` starts it and prints its document; `status` shows prod
/// serving v1.0.0 and the pending approval naming the run to answer; `reject` answers it; and
/// `follow` reports the refused run with exit code 4 (REFUSED) and its document.
pub async fn status_shows_the_pending_approval(ctx: Arc<Ctx>) -> CaseResult {
    let input = approval(600).to_string();
    let (started, code) = cli_json(
        &ctx,
        &["run", "--no-follow", "--input", &input, "--output", "json"],
    )?;
    let arn = match started {
        Document::Run(d) if code == Some(0) && d.status == "RUNNING" && d.exit_class == "DONE" => {
            d.execution_arn
        }
        other => return Err(format!("run --no-follow exited {code:?}: {other:?}")),
    };
    awaiting(&ctx, &arn).await?;
    let (report, code) = cli_json(
        &ctx,
        &[
            "status",
            "--game",
            "space-raiders",
            "--stages",
            "dev,prod",
            "-o",
            "json",
        ],
    )?;
    let report = match report {
        Document::Status(report) if code == Some(0) => report,
        other => return Err(format!("status exited {code:?}: {other:?}")),
    };
    let text = json(&report);
    let prod = report
        .stages
        .iter()
        .find(|s| s.stage_name == "prod")
        .ok_or_else(|| format!("no prod in {text}"))?;
    check!(
        prod.serving_snapshot_id.as_deref() == Some(V10),
        "prod serves {:?}",
        prod.serving_snapshot_id
    );
    check!(
        prod.pending_approval
            .as_ref()
            .is_some_and(|p| p.execution_arn == arn && p.snapshot_id == V11),
        "pending approval {:?}",
        prod.pending_approval
    );
    let (answer, code) = cli_json(
        &ctx,
        &[
            "reject",
            "--execution-arn",
            &arn,
            "--reason",
            "e2e: status checked",
            "-o",
            "json",
        ],
    )?;
    check!(
        code == Some(0)
            && matches!(&answer, Document::Answer(a) if a.decision == "REJECT" && a.execution_arn == arn),
        "reject exited {code:?}: {answer:?}"
    );
    let (followed, code) = cli_json(
        &ctx,
        &[
            "follow",
            "--execution-arn",
            &arn,
            "--poll-interval-ms",
            "200",
            "-o",
            "json",
        ],
    )?;
    check!(
        code == Some(4)
            && matches!(&followed, Document::Run(d) if d.outcome.as_deref() == Some("REJECTED")
                && d.exit_code == 4
                && d.exit_class == "REFUSED"
                && d.status == "FAILED"
                && d.error.as_deref() == Some("StageGate.REJECTED")),
        "follow of a rejected run exited {code:?}: {followed:?}"
    );
    let run = ctx.finish_and_read(&arn).await?;
    expect_message(&run, "REJECTED").map(|_| ())
}

/// `stagegate <args>` against the stack: stdout as the one JSON document it must be, and the
/// exit code.
fn cli_json(ctx: &Ctx, args: &[&str]) -> Result<(Document, Option<i32>), String> {
    let binary = stagegate_local::target_dir(&stagegate_tests::repo_root()).join("debug/stagegate");
    let out = std::process::Command::new(&binary)
        .args(args)
        .env_clear()
        .envs(ctx.stack.environment())
        .output()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let document = serde_json::from_str(&text).map_err(|e| {
        format!(
            "stagegate {} (exit {:?}) printed no single document ({e}): {text}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((document, out.status.code()))
}
