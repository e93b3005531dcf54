//! The operator commands' decisions, as pure functions of what the history says (so they are
//! tested without the SDK): what an abort does in each phase of a run, and what to do and say
//! when Step Functions refuses an answer because the wait is already over (a colleague answered
//! first, or the timeout fired a moment before). A refused answer must never leave the person
//! with a raw SDK error and a wrong belief: "nothing deployed" while the stage deploys.

use serde_json::Value;
use stagegate::approval::Decision;

use crate::steps::{self, Pending, Step, WaitFate};

/// Why Step Functions refused `SendTaskSuccess` for a wait that was pending when the history was
/// read: each means the wait is over, or never was this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TaskTimedOut,
    TaskDoesNotExist,
    InvalidToken,
}

impl Refusal {
    /// From the service error's code; None for any other error (access denied, throttling...),
    /// which is reported as it is.
    pub fn from_code(code: Option<&str>) -> Option<Self> {
        match code? {
            "TaskTimedOut" => Some(Self::TaskTimedOut),
            "TaskDoesNotExist" => Some(Self::TaskDoesNotExist),
            "InvalidToken" => Some(Self::InvalidToken),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TaskTimedOut => "TaskTimedOut",
            Self::TaskDoesNotExist => "TaskDoesNotExist",
            Self::InvalidToken => "InvalidToken",
        }
    }
}

/// What `stagegate abort` does, from the newest steps of the run's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbortPlan {
    /// The run waits for approval: answer the wait with ABORT (nothing of it deployed).
    AnswerWait(Pending),
    /// The run already rolls back: nothing to request. The text says how it ends.
    RollingBack(String),
    /// The run's outcome is decided (it is notifying or ending): the request would never be read.
    Ending(String),
    /// The run deploys or bakes: write the abort request the poll reads.
    RequestAbort,
}

pub fn abort_plan(steps: &[Step]) -> AbortPlan {
    let (state_name, state) = steps::newest(steps);
    let state_name = state_name.unwrap_or("?");
    if let Some(pending) = steps::pending_approval(steps) {
        return AbortPlan::AnswerWait(pending);
    }
    let phase = state.as_ref().and_then(|s| s["phase"].as_str());
    if state_name == steps::ROLLBACK || phase == Some("ROLLBACK") {
        return AbortPlan::RollingBack(rolling_back(state_name, state.as_ref()));
    }
    if steps::ENDING.contains(&state_name) {
        return AbortPlan::Ending(format!(
            "the run is ending (state {state_name}): its outcome is decided and no poll will read \
             an abort request, so none was written; `stagegate follow` shows how it ended"
        ));
    }
    AbortPlan::RequestAbort
}

fn answer_words(decision: &str, stage: &str) -> String {
    match decision {
        "APPROVE" => "the gate deploys it now".to_owned(),
        "REJECT" => format!("the run ends REJECTED with nothing deployed on {stage}"),
        "ABORT" => format!("the run ends ABORTED with nothing deployed on {stage}"),
        other => format!("the gate reads an answer {other:?}: the run ends ERROR"),
    }
}

/// Who answered and why, as the history recorded it.
fn who(by: Option<&str>, reason: Option<&str>) -> String {
    let by = by.map_or(String::from(" (by an unknown caller)"), |b| {
        format!(" by {b}")
    });
    match reason {
        Some(r) => format!("{by}, reason: {r:?}"),
        None => by,
    }
}

/// `approve` / `reject` refused: the error the person reads, saying what happened instead.
pub fn answer_refused(
    decision: Decision,
    pending: &Pending,
    refusal: Refusal,
    fate: &WaitFate,
) -> String {
    let verb = match decision {
        Decision::Approve => "approve",
        Decision::Reject => "reject",
        Decision::Abort => "abort",
        Decision::TimedOut => "answer",
    };
    let (snapshot, stage) = (&pending.snapshot_id, &pending.stage_name);
    let what = match fate {
        WaitFate::Answered {
            decision: d,
            by,
            reason,
        } => format!(
            "the approval was already answered: {d}{}; {}",
            who(by.as_deref(), reason.as_deref()),
            answer_words(d, stage)
        ),
        WaitFate::TimedOut => format!(
            "the wait for approval timed out{} before your answer arrived: the run ends \
             APPROVAL_TIMED_OUT with nothing deployed on {stage}; start a new run to deploy it",
            pending
                .expires_at
                .as_deref()
                .map_or(String::new(), |at| format!(" at {at}"))
        ),
        WaitFate::Failed(error) => format!(
            "the wait for approval failed ({error}): the run ends ERROR with nothing deployed on \
             {stage}"
        ),
        WaitFate::Waiting | WaitFate::Unknown => format!(
            "Step Functions refused the answer ({}) and the history does not show how the wait \
             ended; see `stagegate status` or `stagegate follow`",
            refusal.as_str()
        ),
    };
    format!("could not {verb} {snapshot} on {stage}: {what}")
}

/// What `abort` does once its answer to the wait was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortFallback {
    /// Whether the run may deploy the stage after all, so the abort request must be written.
    pub write_parameter: bool,
    pub text: String,
}

/// `abort` of a waiting run refused: write the abort request unless the history shows the run
/// ends with nothing of the stage deployed. `parameter` is where the request goes.
pub fn abort_refused(
    pending: &Pending,
    refusal: Refusal,
    fate: &WaitFate,
    parameter: &str,
) -> AbortFallback {
    let (snapshot, stage) = (&pending.snapshot_id, &pending.stage_name);
    let requested = format!(
        "abort requested instead ({parameter}): at its next poll the gate rolls back what it \
         deploys or bakes (once a running deployment ends) and the run ends ABORTED"
    );
    let (write_parameter, text) = match fate {
        WaitFate::Answered {
            decision,
            by,
            reason,
        } if decision == "APPROVE" => (
            true,
            format!(
                "{snapshot} on {stage} was approved before the abort arrived{}; {requested}",
                who(by.as_deref(), reason.as_deref())
            ),
        ),
        WaitFate::Answered {
            decision,
            by,
            reason,
        } => (
            false,
            format!(
                "the approval of {snapshot} on {stage} was already answered: {decision}{}; {}; \
                 no abort request needed",
                who(by.as_deref(), reason.as_deref()),
                answer_words(decision, stage)
            ),
        ),
        WaitFate::TimedOut => (
            false,
            format!(
                "the wait for approval of {snapshot} on {stage} timed out before the abort \
                 arrived: the run ends APPROVAL_TIMED_OUT with nothing deployed on {stage}; no \
                 abort request needed"
            ),
        ),
        WaitFate::Failed(error) => (
            false,
            format!(
                "the wait for approval of {snapshot} on {stage} failed ({error}): the run ends \
                 ERROR with nothing deployed on {stage}; no abort request needed"
            ),
        ),
        WaitFate::Waiting | WaitFate::Unknown => (
            true,
            format!(
                "Step Functions refused the abort of the wait ({}) and the history does not show \
                 how it ended; in case the run deploys {snapshot} on {stage}, {requested}",
                refusal.as_str()
            ),
        ),
    };
    AbortFallback {
        write_parameter,
        text,
    }
}

/// The text for a run that already rolls back, from its newest gate state.
fn rolling_back(state_name: &str, state: Option<&Value>) -> String {
    let abort = state.map(|s| &s["abort"]).filter(|a| a.is_object());
    match abort {
        Some(a) => format!(
            "the run is already aborted{} and rolling back (state {state_name}): it ends ABORTED \
             (ROLLBACK_FAILED if the rollback fails); no abort request written",
            who(a["by"].as_str(), a["reason"].as_str())
        ),
        None => format!(
            "the run is already rolling back (state {state_name}), which is what an abort asks \
             for: it ends ROLLED_BACK (ROLLBACK_FAILED if the rollback fails), not ABORTED; no \
             abort request written"
        ),
    }
}

#[cfg(test)]
mod tests;
