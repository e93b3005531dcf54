//! The run as a story: each recorded decision in order, the evidence it was taken on, the rule
//! that applied ("INVALID_ROLE_FAILURE -> onInvalidRole: alert"), and what the run did next.
//! `stagegate explain` prints it; `--output json` gives the same lines as data.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::approval::Decision as Answered;
use crate::deployment::ResultCode;
use crate::evidence::{Entry, Evidence};
use crate::policy::{FailureResponse, Phase, Policy};
use crate::starting::StartDecision;
use crate::state::GateState;
use crate::verdict::{verdict, Verdict};

/// One decision, told.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: OffsetDateTime,
    pub stage_name: String,
    pub kind: String,
    /// What the decision was based on.
    pub evidence: String,
    /// The rule that applied.
    pub rule: String,
    /// What the run did next.
    pub then: String,
}

/// The whole story of a run.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Story {
    pub game_name: String,
    pub execution_id: String,
    pub requested_snapshot_id: String,
    pub policy: Policy,
    pub recorded_by: String,
    pub lines: Vec<Line>,
    /// Looks that changed nothing, counted.
    pub quiet_polls: u32,
    pub quiet_bake_checks: u32,
    pub quiet_digest: String,
    pub dropped: u32,
    /// The verdict the state amounts to.
    pub verdict: Verdict,
    pub reason: String,
}

pub fn story(state: &GateState) -> Story {
    let log = &state.decisions;
    Story {
        game_name: state.game_name.clone(),
        execution_id: state.execution_id.clone(),
        requested_snapshot_id: state.requested_snapshot_id.clone(),
        policy: state.policy.clone(),
        recorded_by: log.version.clone(),
        lines: log.entries.iter().map(|e| line(e, state)).collect(),
        quiet_polls: log.quiet.polls,
        quiet_bake_checks: log.quiet.bake_checks,
        quiet_digest: log.quiet.digest.clone(),
        dropped: log.dropped,
        verdict: verdict(Some(state), None),
        reason: state.reason.clone(),
    }
}

/// An alarm's name by its position: the stage that ended the run (a firing alarm, a failed bake)
/// is the state's current one, whose bake keeps the names.
fn alarm_name(state: &GateState, stage: &str, alarm: usize) -> String {
    match &state.bake {
        Some(b) if state.stage_name == stage => b.name(alarm).to_owned(),
        _ => format!("alarm #{alarm}"),
    }
}

fn line(entry: &Entry, state: &GateState) -> Line {
    let policy = &state.policy;
    let (evidence, rule) = match &entry.evidence {
        Evidence::Start { facts, decision } => {
            let mut seen = vec![format!(
                "snapshot {}{}",
                facts.snapshot_id,
                if facts.requested_latest {
                    " (latest)"
                } else {
                    ""
                }
            )];
            seen.push(format!(
                "serving {}",
                facts.serving.as_deref().unwrap_or("nothing")
            ));
            if let Some(own) = &facts.own {
                seen.push(format!(
                    "this run's own deployment {} is {}",
                    own.deployment_id, own.state
                ));
            }
            if let Some(a) = &facts.alarms {
                let states: Vec<String> =
                    a.states.iter().map(|(s, n)| format!("{n} {s}")).collect();
                seen.push(match &a.unreadable {
                    Some(e) => format!("alarms unreadable: {e}"),
                    None => format!("alarms {}", states.join(", ")),
                });
            }
            let rule = match decision {
                StartDecision::Frozen { freeze } => format!(
                    "freeze{}: no start until {}{}",
                    freeze
                        .name
                        .as_deref()
                        .map_or_else(String::new, |n| format!(" {n}")),
                    if freeze.open_ended { "at least " } else { "" },
                    crate::timefmt::rfc3339(freeze.until)
                ),
                StartDecision::AlarmFiring { alarm } => format!(
                    "bake alarm {} is {}: no deployment while a bake alarm fires",
                    alarm_name(state, &entry.stage_name, alarm.alarm),
                    alarm.state
                ),
                StartDecision::Aborted { by } => format!("aborted by {by} before the start"),
                StartDecision::Unchanged => "latest already serves: nothing to deploy".into(),
                StartDecision::Reattach => {
                    "this run's own deployment ended already: watch it".into()
                }
                StartDecision::AlarmsUnreadable { error } => {
                    format!("alarms unreadable ({error}): no start without evidence")
                }
                StartDecision::AskApproval => "the stage asks for approval first".into(),
                StartDecision::Deploy => "every check passed: deploy".into(),
            };
            (seen.join("; "), rule)
        }
        Evidence::Answer { answer, aborted_by } => {
            let by = answer.by.as_deref().unwrap_or("an unnamed caller");
            let mut seen = format!(
                "{} by {by} at {}",
                answer.decision.as_str(),
                crate::timefmt::rfc3339(answer.at)
            );
            if let Some(r) = &answer.reason {
                seen.push_str(&format!(": {r}"));
            }
            let rule = match (answer.decision, aborted_by) {
                (_, Some(a)) if answer.decision != Answered::Approve => {
                    format!("aborted by {a}: nothing of the stage is deployed")
                }
                (Answered::Approve, _) => "approved: the stage starts".into(),
                (d, _) => format!("{}: nothing of the stage is deployed", d.as_str()),
            };
            (seen, rule)
        }
        Evidence::Refused {
            decision,
            claimed_by,
            why,
        } => (
            format!(
                "{} claimed by {}",
                decision.as_str(),
                claimed_by.as_deref().unwrap_or("nobody")
            ),
            format!("refused ({why}): only answers the answer function signed count"),
        ),
        Evidence::Poll {
            phase,
            seen,
            aborted_by,
            outcome,
            ..
        } => {
            let code = seen
                .result_code
                .as_ref()
                .map_or("no result code", ResultCode::as_str);
            let what = if *phase == Phase::Rollback {
                "rollback"
            } else {
                "deployment"
            };
            let evidence = format!(
                "{what} {} {} ({code}){}",
                seen.deployment_id,
                seen.state,
                seen.message
                    .as_deref()
                    .map_or_else(String::new, |m| format!(": {m}"))
            );
            let ended = !seen.state.is_active();
            let rule = match (
                aborted_by,
                rule_of(*phase, seen.result_code.as_ref(), *outcome, ended, policy),
            ) {
                (Some(by), _) => format!("aborted by {by}: undo the stage"),
                (None, Some((name, response))) => format!(
                    "{} -> {name}: {}",
                    seen.result_code
                        .as_ref()
                        .map_or(outcome.as_str(), ResultCode::as_str),
                    response.as_str()
                ),
                (None, None) => format!("{} {}", what, outcome.as_str()),
            };
            (evidence, rule)
        }
        Evidence::Bake {
            checks,
            failure,
            aborted_by,
            ..
        } => {
            let evidence = match failure {
                Some(f) => format!(
                    "after {checks} check(s): {} {} ({}){}",
                    f.alarm.map_or_else(
                        || "alarms".to_owned(),
                        |i| alarm_name(state, &entry.stage_name, i)
                    ),
                    f.alarm_state.as_deref().unwrap_or("unreadable"),
                    f.reason,
                    if f.failing > 1 {
                        format!("; {} alarms failing", f.failing)
                    } else {
                        String::new()
                    }
                ),
                None => format!("{checks} check(s), every alarm quiet"),
            };
            let rule = match (aborted_by, failure) {
                (Some(by), _) => format!("aborted by {by} while baking: undo the stage"),
                (None, Some(_)) => format!(
                    "bake failed -> onBakeFailure: {}",
                    policy.on_bake_failure.as_str()
                ),
                (None, None) => "the bake passed".into(),
            };
            (evidence, rule)
        }
    };
    Line {
        at: entry.at,
        stage_name: entry.stage_name.clone(),
        kind: entry.evidence.kind().to_owned(),
        evidence,
        rule,
        then: format!("{}: {}", entry.decided.as_str(), entry.reason),
    }
}

/// The failure policy's rule that applies to a deployment's ending, if one does.
fn rule_of(
    phase: Phase,
    code: Option<&ResultCode>,
    outcome: crate::classify::Outcome,
    ended: bool,
    policy: &Policy,
) -> Option<(&'static str, FailureResponse)> {
    use crate::classify::Outcome;
    if phase == Phase::Rollback {
        return None;
    }
    match outcome {
        Outcome::Failed => Some(match code {
            Some(ResultCode::InvalidRoleFailure) => ("onInvalidRole", policy.on_invalid_role),
            _ => ("onUnspecifiedFailure", policy.on_unspecified_failure),
        }),
        // Ended after its deadline, either way (still running at the grace end needs a person).
        Outcome::TimedOut if ended => Some(("onTimeout", policy.on_timeout)),
        _ => None,
    }
}
