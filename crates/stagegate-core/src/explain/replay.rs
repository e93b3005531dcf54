//! Re-decides a run's recorded decisions with today's core.
//!
//! Each entry of the decision record carries the facts its decision was taken on; the same core
//! functions the handlers call (`start::step`, `classify`, `policy::decide`, `decide_aborted`,
//! `decide_bake_failure`) are run on them again, under the run's own policy or a proposed one,
//! and every decision whose action (or, for a start, whose rule) comes out differently is
//! reported. Nothing is read from AWS: a run is replayable as long as its state is.

use serde::{Deserialize, Serialize};

use crate::approval::Decision as Answered;
use crate::classify::classify;
use crate::evidence::{Entry, Evidence};
use crate::freeze::FreezeWindow;
use crate::policy::{decide, decide_aborted, decide_bake_failure, Action, Phase, Policy};
use crate::starting::{self, Step};
use crate::state::GateState;

/// One decision that today's core (or the proposed policy) takes differently.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// Its position in the record's entries.
    pub index: usize,
    pub stage_name: String,
    pub kind: String,
    pub recorded: String,
    pub replayed: String,
    pub recorded_reason: String,
    pub replayed_reason: String,
}

/// What a replay found.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replay {
    pub execution_id: String,
    pub game_name: String,
    /// The version that recorded the decisions, and today's.
    pub recorded_by: String,
    pub replayed_by: String,
    pub decisions: usize,
    pub differences: Vec<Difference>,
}

impl Replay {
    pub fn same(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Re-decides every recorded decision of `state`, under `policy` if given, else the run's own.
pub fn replay(state: &GateState, policy: Option<&Policy>) -> Replay {
    let policy = policy.unwrap_or(&state.policy);
    let windows: Vec<FreezeWindow> = state
        .decisions
        .template_freeze_windows
        .iter()
        .chain(&state.freeze_windows)
        .cloned()
        .collect();
    let differences = state
        .decisions
        .entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| {
            let (replayed, reason) = redecide(entry, policy, &windows);
            let recorded = recorded(entry);
            (replayed != recorded).then(|| Difference {
                index,
                stage_name: entry.stage_name.clone(),
                kind: entry.evidence.kind().to_owned(),
                recorded,
                replayed,
                recorded_reason: entry.reason.clone(),
                replayed_reason: reason,
            })
        })
        .collect();
    Replay {
        execution_id: state.execution_id.clone(),
        game_name: state.game_name.clone(),
        recorded_by: state.decisions.version.clone(),
        replayed_by: crate::evidence::VERSION.to_owned(),
        decisions: state.decisions.entries.len(),
        differences,
    }
}

/// What the record says was decided, in the form `redecide` answers.
fn recorded(entry: &Entry) -> String {
    match &entry.evidence {
        Evidence::Start { decision, .. } => decision.name().to_owned(),
        _ => entry.decided.as_str().to_owned(),
    }
}

/// Today's decision on the entry's facts, and why.
fn redecide(entry: &Entry, policy: &Policy, windows: &[FreezeWindow]) -> (String, String) {
    match &entry.evidence {
        Evidence::Start { facts, .. } => match starting::step(facts, windows, entry.at) {
            Step::Decided(d) => (d.name().to_owned(), format!("start rule {}", d.name())),
            Step::Needs(need) => (
                format!("needs {need:?}"),
                format!("today's start would read {need:?} first, which the record does not hold"),
            ),
        },
        Evidence::Answer { answer, .. } => {
            let action = match answer.decision {
                Answered::Approve => Action::Wait,
                _ => Action::Alert,
            };
            (
                action.as_str().to_owned(),
                format!("answered {}", answer.decision.as_str()),
            )
        }
        Evidence::Refused { why, .. } => (
            entry.decided.as_str().to_owned(),
            format!("refused as recorded: {why}"),
        ),
        Evidence::Poll {
            phase,
            seen,
            deadline,
            grace_end,
            aborted_by,
            known_good,
            ..
        } => {
            let c = classify(&seen.deployment(), *deadline, *grace_end, entry.at);
            let d = match aborted_by {
                Some(by) => decide_aborted(*phase, &c, policy, known_good.as_deref(), by),
                None => decide(*phase, &c, policy, known_good.as_deref()),
            };
            (d.action.as_str().to_owned(), d.reason)
        }
        Evidence::Bake {
            failure,
            aborted_by,
            known_good,
            ..
        } => {
            let d = match (aborted_by, failure) {
                (Some(by), _) => {
                    let c = crate::classify::Classification {
                        outcome: crate::classify::Outcome::Succeeded,
                        state: crate::deployment::DeploymentState::Completed,
                        result_code: None,
                        message: None,
                        late: false,
                    };
                    decide_aborted(Phase::Bake, &c, policy, known_good.as_deref(), by)
                }
                (None, Some(_)) => decide_bake_failure(policy, known_good.as_deref()),
                (None, None) => {
                    return (
                        entry.decided.as_str().to_owned(),
                        "the bake passed".to_owned(),
                    )
                }
            };
            (d.action.as_str().to_owned(), d.reason)
        }
    }
}
