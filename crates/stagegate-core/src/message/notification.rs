//! The SNS message a gate run ends with: subject, JSON body and filterable attributes.
//!
//! Every value that came from the input is treated as hostile: names reach the subject only as
//! printable ASCII, and the body is built with a JSON serializer, never by string pasting.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::bake::NamedFailure;
use crate::bake::NamedWindow;
use crate::classify::Outcome;
use crate::message::{
    DeploymentReport, ErrorReport, GateReport, Message, PlanReport, PlanStageReport, WaveReport,
    WaveStageReport,
};
use crate::metrics::{self, Ending};
use crate::state::{GateState, Watch};
use crate::timefmt::rfc3339;

use crate::verdict::{CaughtError, Verdict};
use crate::wave::Wave;

/// SNS: "must be less than 100 characters long".
pub const MAX_SUBJECT_CHARS: usize = 99;
const MAX_ATTRIBUTE_CHARS: usize = 256;
const MAX_NAME_CHARS: usize = 64;
/// The message a run publishes: rendered here, sent by a `Notifier` port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub subject: String,
    /// One paragraph saying what happened, what the gate did and why (also the body's `summary`).
    pub summary: String,
    /// JSON document.
    pub message: String,
    /// String attributes: `outcome`, `resultCode`, `gameName`, `stageName`, `dedupId`,
    /// `needsPerson` (`Verdict::needs_person`, "true" or "false") and `countsAgainstBudget`
    /// (`budget::counts_as_failure`, the same).
    pub attributes: BTreeMap<String, String>,
    /// Used only by FIFO topics: the same run never publishes its outcome twice.
    pub deduplication_id: String,
    pub group_id: String,
}

const UNKNOWN: &str = "UNKNOWN";

/// Everything known about a run when it ends.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub verdict: Verdict,
    pub state: Option<&'a GateState>,
    pub error: Option<&'a CaughtError>,
    /// Game and stage names when there is no valid state (e.g. the input was rejected).
    pub fallback_game: Option<String>,
    pub fallback_stage: Option<String>,
    pub execution_id: String,
    pub now: OffsetDateTime,
}

pub fn render(report: &Report<'_>) -> Notification {
    render_with_body(report).0
}

/// `render`, with the body as the typed `Message` too (for the run's metrics record).
pub fn render_with_body(report: &Report<'_>) -> (Notification, Message) {
    let state = report.state;
    let game = state
        .map(|s| s.game_name.clone())
        .or_else(|| report.fallback_game.clone())
        .map(|g| clean(&g, MAX_NAME_CHARS));
    let stage = state
        .map(|s| s.stage_name.clone())
        .or_else(|| report.fallback_stage.clone())
        .map(|s| clean(&s, MAX_NAME_CHARS));
    let game_shown = game.as_deref().unwrap_or(UNKNOWN);
    let stage_shown = stage.as_deref().unwrap_or(UNKNOWN);

    let mut summary = summary(report, game_shown, stage_shown);
    if let Some(why) = state.and_then(|s| s.abort_unreadable.as_deref()) {
        summary.push_str(&format!(
            " Abort requests could not be read during the run ({why}); an abort asked for then was not seen."
        ));
    }
    let body = Message {
        outcome: report.verdict,
        summary: summary.clone(),
        game_name: game.clone(),
        stage_name: stage.clone(),
        requested_snapshot_id: state.map(|s| s.requested_snapshot_id.clone()),
        snapshot_id: state.map(|s| s.deployment.snapshot_id.clone()),
        previous_snapshot_id: state.and_then(|s| s.previous_snapshot_id.clone()),
        // A dry run started nothing; its `plan` says what would be deployed.
        deployment: state
            .filter(|s| !s.dry_run)
            .map(|s| report_of(&s.deployment)),
        rollback: state.and_then(|s| s.rollback.as_ref()).map(report_of),
        gate: GateReport {
            action: state.map(|s| s.action),
            reason: state.map(|s| s.reason.clone()),
            policy: state.map(|s| s.policy.clone()),
            execution_id: report.execution_id.clone(),
            started_at: state.map(|s| s.execution_started_at),
            finished_at: report.now,
            duration_seconds: state
                .map(|s| (report.now - s.execution_started_at).whole_seconds().max(0)),
        },
        error: report.error.map(|e| ErrorReport {
            error: e.error.clone(),
            cause: e.cause.clone(),
        }),
        bake: state.and_then(|s| s.bake.clone()),
        bake_window: state.and_then(named_window),
        wave: state.and_then(wave_report),
        dry_run: state.is_some_and(|s| s.dry_run),
        plan: state.and_then(plan_report),
        approval: state.and_then(|s| s.approval.clone()),
        abort: state.and_then(|s| s.abort.clone()),
        frozen: state.and_then(|s| s.frozen.clone()),
        cost: (report.verdict != Verdict::AwaitingApproval).then(|| {
            let ending = if report.error.is_some() {
                Ending::NotifyError
            } else {
                Ending::Notify
            };
            metrics::run_cost(state, ending)
        }),
        // Written by notify-result's handler once the record is stored (`with_record`).
        record: None,
        record_error: None,
    };

    let result_code = state
        .and_then(|s| s.deployment.result_code.as_ref())
        .map_or_else(|| "NONE".to_owned(), |c| c.as_str().to_owned());
    // One per execution and outcome: delivery is at least once (a Notify retried after a
    // publish that did succeed sends the message again), so subscribers drop repeats by it.
    // A wave may ask for approval of each stage: those requests differ by stage.
    let deduplication_id = match report.verdict {
        Verdict::AwaitingApproval => hex_digest(&format!(
            "{}\0{}\0{stage_shown}",
            report.execution_id,
            report.verdict.as_str()
        )),
        _ => hex_digest(&format!(
            "{}\0{}",
            report.execution_id,
            report.verdict.as_str()
        )),
    };
    let attributes = [
        ("outcome", report.verdict.as_str().to_owned()),
        ("resultCode", result_code),
        ("gameName", game_shown.to_owned()),
        ("stageName", stage_shown.to_owned()),
        ("dedupId", deduplication_id.clone()),
        // For subscription filter policies: page on "true" without listing outcomes, so a new
        // outcome is routed by the core's one decision, not by each subscriber's copy of it.
        ("needsPerson", report.verdict.needs_person().to_string()),
        // For a fleet's subscribers (docs/fleet.md): the summary and the games that count against
        // its budget, by the core's one decision of what counts.
        (
            "countsAgainstBudget",
            crate::budget::counts_as_failure(report.verdict).to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), attribute_value(&v)))
    .collect();

    // A wave's subject says how far it got: `prod (wave 3/3)`.
    let subject_stage = match state.filter(|s| !s.dry_run).and_then(|s| s.wave.as_ref()) {
        Some(w) => format!("{stage_shown} (wave {}/{})", w.index + 1, w.stages.len()),
        None => stage_shown.to_owned(),
    };
    let notification = Notification {
        subject: subject(report.verdict, game_shown, &subject_stage),
        summary,
        message: serde_json::to_string(&body).unwrap_or_default(),
        attributes,
        deduplication_id,
        group_id: attribute_value(&format!("{game_shown}/{stage_shown}"))
            .chars()
            .take(128)
            .collect(),
    };
    (notification, body)
}

/// `stagegate SUCCEEDED: game/stage`, printable ASCII, under SNS's 100-character limit.
pub fn subject(verdict: Verdict, game: &str, stage: &str) -> String {
    bounded_subject(&format!("stagegate {}: {game}/{stage}", verdict.as_str()))
}

/// A subject SNS takes: printable ASCII, under 100 characters.
pub(crate) fn bounded_subject(raw: &str) -> String {
    let printable: String = raw
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if printable.chars().count() <= MAX_SUBJECT_CHARS {
        printable
    } else {
        let mut cut: String = printable.chars().take(MAX_SUBJECT_CHARS - 3).collect();
        cut.push_str("...");
        cut
    }
}

fn summary(report: &Report<'_>, game: &str, stage: &str) -> String {
    let target = format!("{game}/{stage}");
    let Some(state) = report.state else {
        return match (report.verdict, report.error) {
            (Verdict::Blocked, Some(e)) => {
                format!(
                    "Nothing was deployed on {target}: another deployment holds the stage ({}).",
                    e.cause
                )
            }
            (_, Some(e)) => format!(
                "The gate stopped before deploying anything on {target}: {}: {}",
                e.error, e.cause
            ),
            (_, None) => format!("The gate stopped before deploying anything on {target}."),
        };
    };
    let d = &state.deployment;
    let bake_failure = state.bake_window.as_ref().and_then(|w| w.failure.as_ref());
    let failure = match (bake_failure, &state.bake, &state.abort) {
        (Some(f), Some(spec), _) => describe_bake_failure(&f.named(spec)),
        (Some(f), None, _) => format!("completed, but the bake window failed: {}", f.reason),
        // It did not fail: `stagegate abort` asked to undo it.
        (None, _, Some(a)) if d.outcome == Outcome::Succeeded => format!(
            "completed and was aborted by {} ({})",
            a.by.as_deref().unwrap_or("an unnamed caller"),
            a.reason.trim_end_matches('.')
        ),
        (None, _, _) => describe_failure(d),
    };
    let text = match report.verdict {
        Verdict::Succeeded => {
            let baked = match (&state.bake, &state.bake_window) {
                (Some(b), Some(w)) => format!(
                    " and passed a {} s bake window watching {} alarm(s) ({} checks)",
                    b.seconds,
                    b.alarm_names.len(),
                    w.checks
                ),
                _ => String::new(),
            };
            match &state.wave {
                Some(w) => format!(
                    "{} is deployed on every stage of the wave {} of {game}; the last, {stage}, as deployment {}{baked}.",
                    d.snapshot_id,
                    w.route(),
                    d.deployment_id
                ),
                None => format!(
                    "{} is deployed on {target} (deployment {}){baked}.",
                    d.snapshot_id, d.deployment_id
                ),
            }
        }
        Verdict::DryRun | Verdict::DryRunBlocked => return dry_run_summary(state, &target),
        Verdict::BakeFailed => format!(
            "Deployment {} of {} on {target} {failure}. Not rolled back: {}.",
            d.deployment_id, d.snapshot_id, state.reason
        ),
        Verdict::Failed | Verdict::TimedOut => format!(
            "Deployment {} of {} on {target} {failure}. Not rolled back: {}.",
            d.deployment_id, d.snapshot_id, state.reason
        ),
        Verdict::RolledBack => format!(
            "Deployment {} of {} on {target} {failure}. Rolled back to {} (deployment {}).",
            d.deployment_id,
            d.snapshot_id,
            state.previous_snapshot_id.as_deref().unwrap_or(UNKNOWN),
            state
                .rollback
                .as_ref()
                .map_or(UNKNOWN, |r| r.deployment_id.as_str()),
        ),
        Verdict::RollbackFailed => {
            let rollback = state.rollback.as_ref();
            format!(
                "Deployment {} of {} on {target} {failure}. The rollback to {} also failed: {}; the stage needs attention.",
                d.deployment_id,
                d.snapshot_id,
                state.previous_snapshot_id.as_deref().unwrap_or(UNKNOWN),
                rollback.map_or_else(|| "it never started".to_owned(), describe_failure),
            )
        }
        Verdict::Unchanged => format!(
            "Nothing new to deploy on {target}: it already serves {}, the newest snapshot, so nothing was started.",
            d.snapshot_id
        ),
        Verdict::Blocked => format!(
            "Nothing was deployed on {target}: {}.",
            d.message
                .as_deref()
                .map_or("another deployment holds the stage", |m| m
                    .trim_end_matches('.'))
        ),
        Verdict::AwaitingApproval => {
            let approval = state.approval.as_ref();
            format!(
                "{} awaits approval for {target} until {} (it serves {} now); nothing of this stage is deployed until then. {} Answer with `stagegate approve --execution-arn {}` or `stagegate reject --execution-arn {} --reason ...`; without an answer the run ends APPROVAL_TIMED_OUT.",
                d.snapshot_id,
                approval.map_or_else(|| UNKNOWN.to_owned(), |a| rfc3339(a.expires_at)),
                approval
                    .and_then(|a| a.serving_snapshot_id.as_deref())
                    .unwrap_or("no snapshot"),
                approval_plan(state),
                state.execution_id,
                state.execution_id,
            )
        }
        Verdict::Rejected | Verdict::ApprovalTimedOut => {
            let answer = state.approval.as_ref().and_then(|a| a.answer.as_ref());
            let why = match (report.verdict, answer) {
                (Verdict::Rejected, Some(a)) => format!(
                    "rejected by {}{}",
                    a.by.as_deref().unwrap_or("an unnamed caller"),
                    a.reason
                        .as_deref()
                        .map_or_else(String::new, |r| format!(" ({})", r.trim_end_matches('.')))
                ),
                _ => format!(
                    "nobody answered the approval within {} s",
                    state.approval.as_ref().map_or(0, |a| a.timeout_seconds)
                ),
            };
            format!(
                "{} was not deployed on {target}: {why}.",
                d.snapshot_id
            )
        }
        Verdict::Aborted => aborted_summary(state, &target),
        Verdict::Frozen => {
            let f = state.frozen.as_ref();
            format!(
                "{} was not deployed on {target}: {}freeze{} is active until {}{}; nothing of this stage was started.",
                d.snapshot_id,
                if f.is_some_and(|f| f.name.is_some()) { "the " } else { "a " },
                f.and_then(|f| f.name.as_deref())
                    .map_or_else(String::new, |n| format!(" \"{n}\"")),
                if f.is_some_and(|f| f.open_ended) { "at least " } else { "" },
                f.map_or_else(|| UNKNOWN.to_owned(), |f| rfc3339(f.until)),
            )
        }
        Verdict::Error => {
            let cause = report.error.map_or_else(
                || state.reason.clone(),
                |e| format!("{}: {}", e.error, e.cause),
            );
            let watched = state.watched();
            format!(
                "The gate stopped while deployment {} of {} on {target} was {}: {cause}. Check the stage in GameSparks.",
                watched.deployment_id, watched.snapshot_id, watched.deployment_state
            )
        }
    };
    match (&state.wave, report.verdict) {
        (Some(w), v)
            if !matches!(
                v,
                Verdict::Succeeded | Verdict::Unchanged | Verdict::AwaitingApproval
            ) =>
        {
            format!("{text} {}", wave_stop(w))
        }
        _ => text,
    }
}

/// What an approval sets going, so the approver need not read the execution input: the stages
/// still to deploy with their bakes (alarms counted, not named: fifty names would bury the
/// sentence; the message's plan fields hold them) and where a failure would roll back to.
fn approval_plan(state: &GateState) -> String {
    let describe = |name: &str, bake: Option<&crate::bake::BakeSpec>, approval: bool| {
        let mut notes = Vec::new();
        if approval {
            notes.push("asks approval first".to_owned());
        }
        if let Some(b) = bake {
            notes.push(format!(
                "bake {} s, {} alarm{}",
                b.seconds,
                b.alarm_names.len(),
                if b.alarm_names.len() == 1 { "" } else { "s" }
            ));
        }
        if notes.is_empty() {
            name.to_owned()
        } else {
            format!("{name} ({})", notes.join("; "))
        }
    };
    let stages: Vec<String> = match &state.wave {
        Some(w) => w
            .stages
            .iter()
            .enumerate()
            .skip(w.index)
            .map(|(i, st)| {
                let bake = if i == w.index {
                    state.bake.as_ref()
                } else {
                    st.bake.as_ref()
                };
                describe(&st.stage_name, bake, i > w.index && st.approval.is_some())
            })
            .collect(),
        None if state.bake.is_none() => vec![format!("{} (no bake)", state.stage_name)],
        None => vec![describe(&state.stage_name, state.bake.as_ref(), false)],
    };
    let later = if state.wave.is_some() {
        " (a later stage to its own last known-good)"
    } else {
        ""
    };
    let p = &state.policy;
    let never_rolls_back = [
        p.on_invalid_role,
        p.on_unspecified_failure,
        p.on_timeout,
        p.on_bake_failure,
    ]
    .iter()
    .all(|r| *r == crate::policy::FailureResponse::Alert);
    let failure = match &state.previous_snapshot_id {
        _ if never_rolls_back => "a failure alerts (the policy never rolls back)".to_owned(),
        Some(p) => format!(
            "a failure on {} rolls back to {p} where the policy says rollback{later}",
            state.stage_name
        ),
        None => format!(
            "{} has no known-good snapshot to roll back to, so a failure there alerts",
            state.stage_name
        ),
    };
    format!(
        "If approved: deploy to {}; {failure}.",
        stages.join(", then ")
    )
}

fn aborted_summary(state: &GateState, target: &str) -> String {
    let d = &state.deployment;
    let (by, reason) = match (
        &state.abort,
        state.approval.as_ref().and_then(|a| a.answer.as_ref()),
    ) {
        (Some(a), _) => (a.by.clone(), Some(a.reason.clone())),
        (None, Some(a)) => (a.by.clone(), a.reason.clone()),
        (None, None) => (None, None),
    };
    let who = format!(
        "Aborted by {}{}",
        by.as_deref().unwrap_or("an unnamed caller"),
        reason
            .as_deref()
            .map_or_else(String::new, |r| format!(" ({})", r.trim_end_matches('.')))
    );
    if state.phase == crate::policy::Phase::Approval {
        return format!(
            "{who} while it awaited approval: {} was not deployed on {target}.",
            d.snapshot_id
        );
    }
    match &state.rollback {
        Some(r) => format!(
            "{who}: deployment {} of {} on {target} was rolled back to {} (deployment {}).",
            d.deployment_id,
            d.snapshot_id,
            state.previous_snapshot_id.as_deref().unwrap_or(UNKNOWN),
            r.deployment_id
        ),
        None => format!(
            "{who}: deployment {} of {} on {target} was not rolled back: {}.",
            d.deployment_id, d.snapshot_id, state.reason
        ),
    }
}

/// "The wave dev > staging > prod stopped at staging (2 of 3); passed: dev; not started: prod."
fn wave_stop(w: &Wave) -> String {
    let names = |status| {
        let list: Vec<&str> = w
            .stages
            .iter()
            .enumerate()
            .filter(|(i, _)| w.status(*i) == status)
            .map(|(_, s)| s.stage_name.as_str())
            .collect();
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    };
    let at = w
        .stages
        .get(w.index)
        .map_or(UNKNOWN, |s| s.stage_name.as_str());
    format!(
        "The wave {} stopped at {at} ({} of {}); passed (keeping the new snapshot): {}; not started: {}.",
        w.route(),
        w.index + 1,
        w.stages.len(),
        names(crate::wave::StageStatus::Passed),
        names(crate::wave::StageStatus::NotStarted),
    )
}

fn dry_run_summary(state: &GateState, target: &str) -> String {
    let Some(plan) = &state.plan else {
        return format!("Dry run on {target}: no plan was made.");
    };
    let snapshot = plan.snapshot_id.as_deref().unwrap_or(UNKNOWN);
    let stages: Vec<String> = plan
        .stages
        .iter()
        .map(|s| {
            format!(
                "{} ({} -> {snapshot}, rollback to {})",
                s.stage_name,
                s.current_snapshot_id.as_deref().unwrap_or("nothing"),
                s.rollback_snapshot_id
                    .as_deref()
                    .unwrap_or("none: would alert"),
            )
        })
        .collect();
    let game = &state.game_name;
    if plan.ready {
        format!(
            "Dry run for {game}: would deploy {snapshot} on {}. Nothing was started.",
            stages.join(", then ")
        )
    } else {
        format!(
            "Dry run for {game}: the run would not go ahead: {}. Nothing was started.",
            plan.all_problems().join("; ")
        )
    }
}

fn describe_bake_failure(f: &NamedFailure) -> String {
    let reason = f.reason.trim_end_matches('.');
    match (&f.alarm_name, &f.alarm_state) {
        (Some(name), Some(state)) => {
            let others = f.failing_alarms.len().saturating_sub(1);
            let more = if others > 0 {
                format!(" (and {others} more)")
            } else {
                String::new()
            };
            format!(
                "completed, but alarm {name} was {state} since {} during the bake window{more}: {reason}",
                rfc3339(f.at)
            )
        }
        _ => format!("completed, but the bake window failed: {reason}"),
    }
}

/// The gate state keeps each alarm name once, in the bake's `alarmNames`; the message names the
/// alarms in place, as subscribers read them.
fn named_window(s: &GateState) -> Option<NamedWindow> {
    let window = s.bake_window.as_ref()?;
    let spec = s.bake.as_ref()?;
    Some(window.named(spec))
}

/// The plan with each stage's bake and its alarms named (the state keeps the bake once, in the
/// stage's place in the wave or as the current stage's `bake`).
fn plan_report(s: &GateState) -> Option<PlanReport> {
    let plan = s.plan.as_ref()?;
    Some(PlanReport {
        ready: plan.ready,
        snapshot_id: plan.snapshot_id.clone(),
        problems: plan.problems.clone(),
        stages: plan
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let bake = s.stage_bake(i);
                PlanStageReport {
                    stage_name: stage.stage_name.clone(),
                    current_snapshot_id: stage.current_snapshot_id.clone(),
                    rollback_snapshot_id: stage.rollback_snapshot_id.clone(),
                    in_progress_deployment_id: stage.in_progress_deployment_id.clone(),
                    bake: bake.cloned(),
                    alarms: bake.map(|b| b.named(&stage.alarms)).unwrap_or_default(),
                    problems: stage.problems.clone(),
                    notes: stage.notes.clone(),
                }
            })
            .collect(),
    })
}

fn wave_report(s: &GateState) -> Option<WaveReport> {
    let w = s.wave.as_ref()?;
    Some(WaveReport {
        route: w.route(),
        index: w.index,
        stages: w
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| WaveStageReport {
                stage_name: stage.stage_name.clone(),
                status: w.status(i),
                bake_seconds: s.stage_bake(i).map(|b| b.seconds).or_else(|| {
                    stage
                        .passed
                        .as_ref()
                        .map(|p| p.baked_seconds)
                        .filter(|&b| b > 0)
                }),
                passed: stage.passed.clone(),
            })
            .collect(),
    })
}

fn describe_failure(w: &Watch) -> String {
    let mut text = match (w.outcome, &w.result_code) {
        (Outcome::TimedOut, _) => "did not finish by its deadline".to_owned(),
        (Outcome::Blocked, _) => "could not start (another deployment holds the stage)".to_owned(),
        (_, Some(code)) => format!("failed with {code}"),
        (outcome, None) => format!("ended {}", outcome.as_str()),
    };
    // The summary adds its own full stop.
    if let Some(message) = w
        .message
        .as_deref()
        .map(|m| m.trim_end_matches('.'))
        .filter(|m| !m.is_empty())
    {
        text.push_str(": ");
        text.push_str(message);
    }
    text
}

fn report_of(w: &Watch) -> DeploymentReport {
    DeploymentReport {
        // Empty when the deployment never started (a blocked rollback).
        deployment_id: (!w.deployment_id.is_empty()).then(|| w.deployment_id.clone()),
        snapshot_id: w.snapshot_id.clone(),
        state: w.deployment_state.clone(),
        outcome: w.outcome,
        result_code: w.result_code.clone(),
        message: w.message.clone(),
        started_at: w.started_at,
        deadline: w.deadline,
        finished_at: w.finished_at,
        polls: w.attempt,
        rollback_of: w.rollback_of.clone(),
    }
}

/// Control characters out, length bounded: names and ids come from untrusted input.
fn clean(value: &str, max: usize) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// SNS rejects empty attribute values.
pub(crate) fn attribute_value(value: &str) -> String {
    let cleaned = clean(value, MAX_ATTRIBUTE_CHARS);
    if cleaned.trim().is_empty() {
        UNKNOWN.to_owned()
    } else {
        cleaned
    }
}

fn hex_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_bounded_and_printable() {
        assert_eq!(
            subject(Verdict::Succeeded, "g", "prod"),
            "stagegate SUCCEEDED: g/prod"
        );
        let long = subject(Verdict::RollbackFailed, &"g".repeat(64), &"s".repeat(64));
        assert_eq!(long.chars().count(), MAX_SUBJECT_CHARS);
        assert!(long.ends_with("..."));
        let hostile = subject(Verdict::Error, "a\nb\u{0}c", "é\"x\r\n");
        assert!(
            hostile.chars().all(|c| (' '..='~').contains(&c)),
            "{hostile}"
        );
        assert!(hostile.starts_with("stagegate "));
    }

    #[test]
    fn every_message_says_whether_it_needs_a_person() {
        for verdict in Verdict::ALL {
            let n = render(&Report {
                verdict,
                state: None,
                error: None,
                fallback_game: Some("g".into()),
                fallback_stage: Some("prod".into()),
                execution_id: "arn:aws:states:us-east-1:1:execution:gate:run".into(),
                now: time::macros::datetime!(2026-12-01 10:00 UTC),
            });
            assert_eq!(
                n.attributes.get("needsPerson").map(String::as_str),
                Some(if verdict.needs_person() {
                    "true"
                } else {
                    "false"
                }),
                "{verdict:?}: {:?}",
                n.attributes
            );
        }
    }

    #[test]
    fn attribute_values_are_never_empty() {
        assert_eq!(attribute_value(""), UNKNOWN);
        assert_eq!(attribute_value("\n\t"), UNKNOWN);
        assert_eq!(attribute_value("x").as_str(), "x");
        assert_eq!(
            attribute_value(&"x".repeat(1000)).len(),
            MAX_ATTRIBUTE_CHARS
        );
    }
}
