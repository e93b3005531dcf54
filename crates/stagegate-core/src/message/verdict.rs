//! The gate's final outcome: what one run of the gate amounted to, for the notification and for
//! the execution's Fail state.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::approval::Decision;
use crate::classify::Outcome;
use crate::errortype as types;
use crate::policy::{Action, Phase};
use crate::state::GateState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// The requested snapshot is deployed: the only successful ending.
    Succeeded,
    /// The deployment failed and the gate alerted (policy, or nothing to roll back to).
    Failed,
    /// The deployment did not finish by its deadline and the gate alerted.
    TimedOut,
    /// The deployment failed or timed out, and the last known-good snapshot was redeployed.
    RolledBack,
    /// The rollback failed, timed out, or could not start.
    RollbackFailed,
    /// Another deployment held the stage, so this one never started.
    Blocked,
    /// `"latest"` was already serving the stage: nothing new to deploy, nothing started. A
    /// nightly schedule on a night without a new snapshot ends here, successfully.
    Unchanged,
    /// The deployment succeeded, an alarm fired (or could not be read) during the bake window,
    /// and the gate alerted (policy, or nothing to roll back to).
    BakeFailed,
    /// A dry run found nothing that would stop the run; nothing was started.
    DryRun,
    /// A dry run found something that would stop the run; nothing was started.
    DryRunBlocked,
    /// The gate itself could not finish (invalid input, access denied, ...).
    Error,
    /// A person rejected the stage awaiting approval: it was not deployed.
    Rejected,
    /// Nobody answered the approval in time: the stage was not deployed.
    ApprovalTimedOut,
    /// `stagegate abort`: the stage being deployed or baked was rolled back (or, awaiting
    /// approval, never deployed).
    Aborted,
    /// Not an ending: the message asking for approval while the run waits.
    AwaitingApproval,
    /// A freeze window was active: the stage was not started (earlier stages of a wave keep
    /// theirs).
    Frozen,
}

impl Verdict {
    /// Every verdict, in declaration order: what a rule over all outcomes (the failure alarm, the
    /// golden messages) iterates, so none is forgotten.
    pub const ALL: [Verdict; 16] = [
        Self::Succeeded,
        Self::Failed,
        Self::TimedOut,
        Self::RolledBack,
        Self::RollbackFailed,
        Self::Blocked,
        Self::Unchanged,
        Self::BakeFailed,
        Self::DryRun,
        Self::DryRunBlocked,
        Self::Error,
        Self::Rejected,
        Self::ApprovalTimedOut,
        Self::Aborted,
        Self::AwaitingApproval,
        Self::Frozen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::RolledBack => "ROLLED_BACK",
            Self::RollbackFailed => "ROLLBACK_FAILED",
            Self::Blocked => "BLOCKED",
            Self::Unchanged => "UNCHANGED",
            Self::BakeFailed => "BAKE_FAILED",
            Self::DryRun => "DRY_RUN",
            Self::DryRunBlocked => "DRY_RUN_BLOCKED",
            Self::Error => "ERROR",
            Self::Rejected => "REJECTED",
            Self::ApprovalTimedOut => "APPROVAL_TIMED_OUT",
            Self::Aborted => "ABORTED",
            Self::AwaitingApproval => "AWAITING_APPROVAL",
            Self::Frozen => "FROZEN",
        }
    }

    /// Whether the execution ends in Succeeded: the requested snapshot is deployed (and baked),
    /// already served the stage, or a dry run found the way clear.
    pub fn is_success(self) -> bool {
        matches!(self, Self::Succeeded | Self::Unchanged | Self::DryRun)
    }

    /// Whether the ending needs a person to look: the one decision behind paging (the template's
    /// failure alarm), the message's `needsPerson` attribute, and later the CLI's exit codes and
    /// a fleet's failure budget. An intended refusal (the gate did what someone configured or
    /// asked for) ends in the Fail state too, but paging for it teaches people to ignore pages.
    pub fn needs_person(self) -> bool {
        match self {
            // The requested snapshot is not serving, and nobody asked for that.
            Self::Failed => true,
            // GameSparks did not finish in time: the deployment may still be running unwatched.
            Self::TimedOut => true,
            // Players saw a broken snapshot until the rollback; someone must find out why.
            Self::RolledBack => true,
            // The stage may be serving a broken snapshot right now: act now.
            Self::RollbackFailed => true,
            // Someone else's deployment held the stage: find out whose, then run again.
            Self::Blocked => true,
            // The alarms said the new snapshot hurts players and the policy only alerted.
            Self::BakeFailed => true,
            // The gate itself could not finish (input, permissions, a bug): nobody knows what
            // the stage serves until someone looks.
            Self::Error => true,
            // The requested snapshot serves the stage: nothing to do.
            Self::Succeeded => false,
            // It already served the stage (a nightly run without a new snapshot).
            Self::Unchanged => false,
            // A plan, with nothing in its way; nothing was started.
            Self::DryRun => false,
            // A plan that names its problems to whoever asked for it; nothing was started.
            Self::DryRunBlocked => false,
            // A person said no: the answer is the intended outcome.
            Self::Rejected => false,
            // Nobody approved, so nothing was deployed: the gate kept its promise. Whoever
            // asked for the approval gets the message.
            Self::ApprovalTimedOut => false,
            // A person asked for it; the stage was rolled back (a failed rollback is
            // ROLLBACK_FAILED, a deployment that never ended TIMED_OUT, both paged).
            Self::Aborted => false,
            // A freeze someone configured refused the start: a nightly schedule during a weekly
            // freeze would page every night.
            Self::Frozen => false,
            // Not an ending: the request asks for an answer, which is not a page.
            Self::AwaitingApproval => false,
        }
    }

    /// An ending in the Fail state that needs no person: what the failure alarm subtracts from
    /// the failed executions (`infra/template.yaml`, held to this by a test).
    pub fn is_intended_refusal(self) -> bool {
        !self.is_success() && !self.needs_person() && self != Self::AwaitingApproval
    }

    /// The `Error` of the execution's Fail state (Step Functions error names are free text).
    pub fn fail_error(self) -> String {
        format!("StageGate.{}", self.as_str())
    }

    /// The verdict a Fail state's `Error` names (`fail_error`), or the name alone.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.strip_prefix("StageGate.").unwrap_or(name);
        Self::ALL.into_iter().find(|v| v.as_str() == name)
    }

    /// What the ending means to whoever started the run: the CLI's exit codes and a fleet's
    /// failure budget read this, derived from the two decisions above so that paging, exit
    /// codes and budgets cannot disagree about an outcome.
    pub fn ending(self) -> Ending {
        if self == Self::AwaitingApproval {
            Ending::Pending
        } else if self.is_success() {
            Ending::Succeeded
        } else if !self.needs_person() {
            Ending::Refused
        } else if self == Self::RolledBack {
            Ending::RolledBack
        } else {
            Ending::NeedsPerson
        }
    }
}

/// The classes of ending a script acts on differently (`Verdict::ending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ending {
    /// The requested snapshot serves the stage (deployed now or already), or a plan found the
    /// way clear.
    Succeeded,
    /// Stopped as configured or asked (a freeze, a rejection, an unanswered approval, an abort,
    /// a plan with problems): nothing of this run serves, and nobody needs to look.
    Refused,
    /// The deployment failed and the stage is back on its last known-good snapshot: players are
    /// safe, and someone must find out why.
    RolledBack,
    /// Someone must act: the stage may serve a broken snapshot, or nobody knows what it serves.
    NeedsPerson,
    /// Not an ending: the run waits for an answer.
    Pending,
}

impl Ending {
    pub const ALL: [Self; 5] = [
        Self::Succeeded,
        Self::Refused,
        Self::RolledBack,
        Self::NeedsPerson,
        Self::Pending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Refused => "REFUSED",
            Self::RolledBack => "ROLLED_BACK",
            Self::NeedsPerson => "NEEDS_PERSON",
            Self::Pending => "PENDING",
        }
    }
}

/// A Step Functions Catch result (`{"Error": ..., "Cause": ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaughtError {
    pub error: String,
    /// The cause as a person reads it: the Lambda's errorMessage when the cause is a Lambda error
    /// document, else the cause text.
    pub cause: String,
}

/// Caps a cause so a runaway stack trace cannot push the SNS message past its size limit.
const MAX_CAUSE_CHARS: usize = 4_000;

impl CaughtError {
    pub fn from_catch(value: &Value) -> Self {
        let text = |key: &str| match value.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let error = text("Error");
        let raw_cause = text("Cause");
        let cause = serde_json::from_str::<Value>(&raw_cause)
            .ok()
            .and_then(|doc| {
                doc.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or(raw_cause);
        Self {
            error: if error.is_empty() {
                "States.Unknown".into()
            } else {
                error
            },
            cause: cause.chars().take(MAX_CAUSE_CHARS).collect(),
        }
    }
}

/// What the run amounted to. `state` is absent when the gate failed before it had one.
pub fn verdict(state: Option<&GateState>, error: Option<&CaughtError>) -> Verdict {
    if let Some(error) = error {
        return if error.error == types::DEPLOYMENT_IN_PROGRESS {
            Verdict::Blocked
        } else {
            Verdict::Error
        };
    }
    let Some(state) = state else {
        return Verdict::Error;
    };
    if state.dry_run {
        let ready = state.plan.as_ref().is_some_and(|p| p.ready);
        return match (state.action, ready) {
            (Action::Succeed, true) => Verdict::DryRun,
            (Action::Alert, false) => Verdict::DryRunBlocked,
            _ => Verdict::Error,
        };
    }
    if state.frozen.is_some() {
        let nothing_started = state.deployment.deployment_id.is_empty()
            && state.rollback.is_none()
            && state.action == Action::Alert;
        return if nothing_started {
            Verdict::Frozen
        } else {
            Verdict::Error
        };
    }
    if state.phase == Phase::Approval {
        // Aborted through the run's request while it waited (the wait itself was answered
        // otherwise, or timed out): nothing of the stage was deployed.
        if state.abort.is_some() && state.action == Action::Alert {
            return Verdict::Aborted;
        }
        let decision = state
            .approval
            .as_ref()
            .and_then(|a| a.answer.as_ref())
            .map(|a| a.decision);
        return match (state.action, decision) {
            (Action::Alert, Some(Decision::Reject)) => Verdict::Rejected,
            (Action::Alert, Some(Decision::TimedOut)) => Verdict::ApprovalTimedOut,
            (Action::Alert, Some(Decision::Abort)) => Verdict::Aborted,
            _ => Verdict::Error,
        };
    }
    if state.abort.is_some() {
        return match (state.phase, state.action, &state.rollback) {
            (Phase::Rollback, Action::Alert, Some(rollback)) => match rollback.outcome {
                Outcome::Succeeded => Verdict::Aborted,
                Outcome::Failed | Outcome::TimedOut | Outcome::Blocked => Verdict::RollbackFailed,
                Outcome::InProgress | Outcome::Unchanged => Verdict::Error,
            },
            // Still running at the end of its grace window: a person must look, as for any
            // timeout.
            (Phase::Deploy, Action::Alert, None)
                if state.deployment.outcome == Outcome::TimedOut =>
            {
                Verdict::TimedOut
            }
            (Phase::Deploy | Phase::Bake, Action::Alert, None) => Verdict::Aborted,
            _ => Verdict::Error,
        };
    }
    // Success of one stage while a wave still has stages to go would end the run early (an
    // unchanged first stage ends the whole wave: nothing new was asked for).
    let outcome = state.deployment.outcome;
    if state.action == Action::Succeed
        && state.next_stage().is_some()
        && outcome != Outcome::Unchanged
    {
        return Verdict::Error;
    }
    // Every ending is reported by the task that decided it with `succeed` or `alert`; any other
    // action reaching the end, or a combination no task produces, is a workflow bug, and a bug
    // must never read as a success.
    let window = state.bake_window.as_ref();
    match (state.phase, state.action, &state.rollback) {
        (Phase::Rollback, Action::Alert, Some(rollback)) => match rollback.outcome {
            Outcome::Succeeded => Verdict::RolledBack,
            Outcome::Failed | Outcome::TimedOut | Outcome::Blocked => Verdict::RollbackFailed,
            Outcome::InProgress | Outcome::Unchanged => Verdict::Error,
        },
        // No bake window opens before the deployment succeeded, and a stage that asks for a
        // bake cannot succeed without one.
        (Phase::Deploy, action, None) if window.is_none() => match (outcome, action) {
            (Outcome::Succeeded, Action::Succeed) if state.bake.is_none() => Verdict::Succeeded,
            (Outcome::Unchanged, Action::Succeed) => Verdict::Unchanged,
            (Outcome::Failed, Action::Alert) => Verdict::Failed,
            (Outcome::TimedOut, Action::Alert) => Verdict::TimedOut,
            (Outcome::Blocked, Action::Alert) => Verdict::Blocked,
            _ => Verdict::Error,
        },
        (Phase::Bake, action, None) if outcome == Outcome::Succeeded => {
            match (action, window) {
                // Passed: the window ran to its end with no failure.
                (Action::Succeed, Some(w)) if w.passed_at.is_some() && w.failure.is_none() => {
                    Verdict::Succeeded
                }
                (Action::Alert, Some(w)) if w.failure.is_some() => Verdict::BakeFailed,
                _ => Verdict::Error,
            }
        }
        _ => Verdict::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn caught_error_reads_lambda_error_documents() {
        let c = CaughtError::from_catch(&json!({
            "Error": "StageGate.InvalidInput",
            "Cause": "{\"errorType\":\"StageGate.InvalidInput\",\"errorMessage\":\"invalid input: field `gameName`: x\"}"
        }));
        assert_eq!(c.error, "StageGate.InvalidInput");
        assert_eq!(c.cause, "invalid input: field `gameName`: x");
        let c =
            CaughtError::from_catch(&json!({"Error": "States.Timeout", "Cause": "task timed out"}));
        assert_eq!(c.cause, "task timed out");
        let c = CaughtError::from_catch(&json!({"Cause": 5}));
        assert_eq!(c.error, "States.Unknown");
        assert_eq!(c.cause, "5");
        let c = CaughtError::from_catch(&json!({"Error": "E", "Cause": "x".repeat(10_000)}));
        assert_eq!(c.cause.len(), MAX_CAUSE_CHARS);
    }

    #[test]
    fn all_lists_every_verdict_once() {
        let names: std::collections::BTreeSet<&str> =
            Verdict::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(names.len(), Verdict::ALL.len(), "a verdict listed twice");
        // Exhaustive: a verdict added to the enum and not to ALL fails to compile here.
        for v in Verdict::ALL {
            match v {
                Verdict::Succeeded
                | Verdict::Failed
                | Verdict::TimedOut
                | Verdict::RolledBack
                | Verdict::RollbackFailed
                | Verdict::Blocked
                | Verdict::Unchanged
                | Verdict::BakeFailed
                | Verdict::DryRun
                | Verdict::DryRunBlocked
                | Verdict::Error
                | Verdict::Rejected
                | Verdict::ApprovalTimedOut
                | Verdict::Aborted
                | Verdict::AwaitingApproval
                | Verdict::Frozen => {}
            }
        }
    }

    #[test]
    fn endings_follow_success_and_who_needs_a_person() {
        let classes: Vec<(&str, &str)> = Verdict::ALL
            .into_iter()
            .map(|v| (v.as_str(), v.ending().as_str()))
            .collect();
        assert_eq!(
            classes,
            [
                ("SUCCEEDED", "SUCCEEDED"),
                ("FAILED", "NEEDS_PERSON"),
                ("TIMED_OUT", "NEEDS_PERSON"),
                ("ROLLED_BACK", "ROLLED_BACK"),
                ("ROLLBACK_FAILED", "NEEDS_PERSON"),
                ("BLOCKED", "NEEDS_PERSON"),
                ("UNCHANGED", "SUCCEEDED"),
                ("BAKE_FAILED", "NEEDS_PERSON"),
                ("DRY_RUN", "SUCCEEDED"),
                ("DRY_RUN_BLOCKED", "REFUSED"),
                ("ERROR", "NEEDS_PERSON"),
                ("REJECTED", "REFUSED"),
                ("APPROVAL_TIMED_OUT", "REFUSED"),
                ("ABORTED", "REFUSED"),
                ("AWAITING_APPROVAL", "PENDING"),
                ("FROZEN", "REFUSED"),
            ]
        );
        // Every class is some verdict's, and every verdict is found again by its Fail error.
        for ending in Ending::ALL {
            assert!(
                Verdict::ALL.iter().any(|v| v.ending() == ending),
                "{ending:?}"
            );
        }
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_name(&v.fail_error()), Some(v));
            assert_eq!(Verdict::from_name(v.as_str()), Some(v));
        }
        assert_eq!(Verdict::from_name("StageGate.NOPE"), None);
        assert_eq!(Verdict::from_name("States.TaskFailed"), None);
    }

    #[test]
    fn who_needs_a_person() {
        let paged: Vec<&str> = Verdict::ALL
            .into_iter()
            .filter(|v| v.needs_person())
            .map(Verdict::as_str)
            .collect();
        assert_eq!(
            paged,
            [
                "FAILED",
                "TIMED_OUT",
                "ROLLED_BACK",
                "ROLLBACK_FAILED",
                "BLOCKED",
                "BAKE_FAILED",
                "ERROR"
            ]
        );
        // No success needs a person, and the intended refusals are what remains of the Fail
        // state's endings: what the failure alarm subtracts (template_contract).
        assert!(Verdict::ALL
            .iter()
            .all(|v| !(v.is_success() && v.needs_person())));
        let refusals: Vec<&str> = Verdict::ALL
            .into_iter()
            .filter(|v| v.is_intended_refusal())
            .map(Verdict::as_str)
            .collect();
        assert_eq!(
            refusals,
            [
                "DRY_RUN_BLOCKED",
                "REJECTED",
                "APPROVAL_TIMED_OUT",
                "ABORTED",
                "FROZEN"
            ]
        );
    }

    #[test]
    fn errors_decide_before_state() {
        let in_progress = CaughtError {
            error: types::DEPLOYMENT_IN_PROGRESS.into(),
            cause: String::new(),
        };
        let other = CaughtError {
            error: types::ACCESS_DENIED.into(),
            cause: String::new(),
        };
        assert_eq!(verdict(None, Some(&in_progress)), Verdict::Blocked);
        assert_eq!(verdict(None, Some(&other)), Verdict::Error);
        assert_eq!(verdict(None, None), Verdict::Error);
        assert_eq!(Verdict::RolledBack.fail_error(), "StageGate.ROLLED_BACK");
    }

    /// Where a run is in a promotion wave.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum WavePos {
        None,
        /// The first of two stages: a stage is still to go.
        First,
        Last,
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Bake {
        None,
        /// The stage asks for a bake; no window was opened.
        SpecOnly,
        Open,
        Passed,
        Failed,
    }

    #[derive(Debug, Clone, Copy)]
    struct Case {
        phase: Phase,
        action: Action,
        outcome: Outcome,
        rollback: Option<Outcome>,
        wave: WavePos,
        /// None: not a dry run; Some(ready).
        dry_run: Option<bool>,
        bake: Bake,
    }

    const PHASES: [Phase; 4] = [Phase::Approval, Phase::Deploy, Phase::Bake, Phase::Rollback];
    const OUTCOMES: [Outcome; 6] = Outcome::ALL;

    /// A table's verdict: no combination judged wrong, a dozen of them shown if some were.
    fn none_wrong(wrong: &[String], cases: usize) {
        assert!(
            wrong.is_empty(),
            "{} of {cases} combinations judged wrong, e.g.:\n{}",
            wrong.len(),
            wrong
                .iter()
                .step_by((wrong.len() / 12).max(1))
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    fn state_for(c: &Case) -> GateState {
        use crate::bake::{self, BakeFailure};
        use crate::wave::{Wave, WaveStage};
        let mut s: GateState = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/poll-deployment.json"
        )))
        .unwrap_or_else(|e| panic!("sample state: {e}"));
        s.phase = c.phase;
        s.action = c.action;
        s.deployment.outcome = c.outcome;
        s.rollback = c.rollback.map(|o| {
            let mut w = s.deployment.clone();
            w.outcome = o;
            w
        });
        let stage = |n: &str| WaveStage {
            stage_name: n.into(),
            bake: None,
            approval: None,
            passed: None,
        };
        s.wave = match c.wave {
            WavePos::None => None,
            WavePos::First => Some(Wave {
                index: 0,
                stages: vec![stage("dev"), stage("prod")],
            }),
            WavePos::Last => Some(Wave {
                index: 1,
                stages: vec![stage("dev"), stage("prod")],
            }),
        };
        s.dry_run = c.dry_run.is_some();
        s.plan = c.dry_run.map(|ready| {
            let problems = if ready { vec![] } else { vec!["x".into()] };
            crate::plan::Plan::new(Some("S".into()), problems, vec![])
        });
        let spec = bake::BakeSpec {
            seconds: 60,
            alarm_names: vec!["a".into()],
            check_interval_seconds: 30,
            fail_on_insufficient_data: false,
            ignore_alarm_read_errors: false,
        };
        let now = s.deployment.started_at;
        let (mut window, _) = bake::open(&spec, now);
        match c.bake {
            Bake::None | Bake::SpecOnly | Bake::Open => {}
            Bake::Passed => window.passed_at = Some(now),
            Bake::Failed => {
                window.failure = Some(BakeFailure {
                    alarm: Some(0),
                    alarm_state: Some(bake::ALARM.into()),
                    reason: "r".into(),
                    at: now,
                    detected_at: now,
                    failing: vec![0],
                })
            }
        }
        (s.bake, s.bake_window) = match c.bake {
            Bake::None => (None, None),
            Bake::SpecOnly => (Some(spec), None),
            _ => (Some(spec), Some(window)),
        };
        s
    }

    /// The verdict rules written out case by case, independently of `verdict`'s own order: only
    /// the rows below end a run with anything but ERROR.
    fn expected(c: &Case) -> Verdict {
        use Action::{Alert, Succeed};
        if let Some(ready) = c.dry_run {
            return match (c.action, ready) {
                (Succeed, true) => Verdict::DryRun,
                (Alert, false) => Verdict::DryRunBlocked,
                _ => Verdict::Error,
            };
        }
        let stages_to_go = c.wave == WavePos::First;
        // In the deploy phase no bake window is open yet.
        let unbaked = matches!(c.bake, Bake::None | Bake::SpecOnly);
        match (c.phase, c.action, c.outcome, c.rollback, c.bake) {
            // A stage that succeeded with wave stages still to go must advance, not end the run,
            // unless nothing new was asked for (an unchanged "latest" ends the whole wave).
            (Phase::Deploy, Succeed, Outcome::Unchanged, None, _) if unbaked => Verdict::Unchanged,
            (_, Succeed, _, _, _) if stages_to_go => Verdict::Error,
            // Succeeded in the deploy phase only for a stage without a bake: one with a bake
            // succeeds in the bake phase, once its window passed.
            (Phase::Deploy, Succeed, Outcome::Succeeded, None, Bake::None) => Verdict::Succeeded,
            (Phase::Deploy, Alert, Outcome::Failed, None, _) if unbaked => Verdict::Failed,
            (Phase::Deploy, Alert, Outcome::TimedOut, None, _) if unbaked => Verdict::TimedOut,
            (Phase::Deploy, Alert, Outcome::Blocked, None, _) if unbaked => Verdict::Blocked,
            // A bake passes only once its window ran to the end with no failure.
            (Phase::Bake, Succeed, Outcome::Succeeded, None, Bake::Passed) => Verdict::Succeeded,
            (Phase::Bake, Alert, Outcome::Succeeded, None, Bake::Failed) => Verdict::BakeFailed,
            // A finished rollback is reported with Alert, whatever came before it.
            (Phase::Rollback, Alert, _, Some(Outcome::Succeeded), _) => Verdict::RolledBack,
            (
                Phase::Rollback,
                Alert,
                _,
                Some(Outcome::Failed | Outcome::TimedOut | Outcome::Blocked),
                _,
            ) => Verdict::RollbackFailed,
            // Among the rest: the approval phase with no answer (these states carry none: the
            // table below gives the answers), and `approve`, which asks and never ends a run.
            _ => Verdict::Error,
        }
    }

    #[test]
    fn verdict_table_over_every_combination() {
        let mut cases = 0;
        let mut successes = 0;
        let mut wrong = vec![];
        for phase in PHASES {
            for action in Action::ALL {
                for outcome in OUTCOMES {
                    for rollback in std::iter::once(None).chain(OUTCOMES.map(Some)) {
                        for wave in [WavePos::None, WavePos::First, WavePos::Last] {
                            for dry_run in [None, Some(true), Some(false)] {
                                for bake in [
                                    Bake::None,
                                    Bake::SpecOnly,
                                    Bake::Open,
                                    Bake::Passed,
                                    Bake::Failed,
                                ] {
                                    let c = Case {
                                        phase,
                                        action,
                                        outcome,
                                        rollback,
                                        wave,
                                        dry_run,
                                        bake,
                                    };
                                    let got = verdict(Some(&state_for(&c)), None);
                                    if got != expected(&c) {
                                        wrong.push(format!(
                                            "{c:?}: {got:?}, want {:?}",
                                            expected(&c)
                                        ));
                                    }
                                    cases += 1;
                                    successes += usize::from(got.is_success());
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 4 * 6 * 6 * 7 * 3 * 3 * 5);
        assert!(successes > 0);
        none_wrong(&wrong, cases);
    }

    /// The operator-control dimensions the table above leaves out: a freeze that refused the
    /// start, the approval phase with each answer, the `approve` action, and `stagegate abort`.
    #[derive(Debug, Clone, Copy)]
    struct OperatorCase {
        phase: Phase,
        action: Action,
        outcome: Outcome,
        rollback: Option<Outcome>,
        /// None: no freeze; Some(started): a freeze, with a deployment id on the stage or not.
        frozen: Option<bool>,
        /// The approval's answer, when the run asked for one.
        answer: Option<Option<Decision>>,
        aborted: bool,
    }

    impl OperatorCase {
        /// The same stage ending without approvals, freezes or aborts: the first table's case.
        fn plain(&self) -> Case {
            Case {
                phase: self.phase,
                action: self.action,
                outcome: self.outcome,
                rollback: self.rollback,
                wave: WavePos::None,
                dry_run: None,
                bake: Bake::None,
            }
        }
    }

    fn operator_state(c: &OperatorCase) -> GateState {
        use crate::approval::{AbortRequest, Answer, Approval};
        use crate::freeze::ActiveFreeze;
        let mut s = state_for(&c.plain());
        let now = s.deployment.started_at;
        if c.frozen == Some(false) {
            s.deployment.deployment_id.clear();
        }
        s.frozen = c.frozen.map(|_| ActiveFreeze {
            name: Some("launch week".into()),
            since: now,
            until: now,
            open_ended: false,
        });
        s.approval = c.answer.map(|answer| Approval {
            stage_name: s.stage_name.clone(),
            timeout_seconds: 3600,
            requested_at: now,
            expires_at: now,
            serving_snapshot_id: None,
            answer: answer.map(|decision| Answer {
                decision,
                by: Some("qa".into()),
                reason: None,
                at: now,
                signature: None,
            }),
            wait_seconds: 3600,
            refused: vec![],
        });
        s.abort = c.aborted.then(|| AbortRequest {
            by: Some("ops".into()),
            reason: "wrong build".into(),
            at: now,
        });
        s
    }

    /// docs/operator-control.md, written out independently of `verdict`'s own order.
    fn expected_operator(c: &OperatorCase) -> Verdict {
        use Action::Alert;
        // "outcome FROZEN, nothing deployed": a freeze refuses the start (the start after an
        // approval too, and before a later stage or an aborted one). A frozen state that shows a
        // deployment, a rollback, or any step but the alert that ends it contradicts that, and a
        // contradiction is an ERROR, never a quiet refusal (workflow.md: a retry inside a freeze
        // once ended FROZEN while its deployment ran).
        if let Some(started) = c.frozen {
            return if !started && c.rollback.is_none() && c.action == Alert {
                Verdict::Frozen
            } else {
                Verdict::Error
            };
        }
        // The approval table: nothing of the stage is deployed while the run waits, so its
        // ending is the answer's (what the deployment fields hold is an earlier stage's). An
        // approval followed by an abort before the stage started ends ABORTED with nothing
        // deployed. An approval (or no answer) does not end a run: it goes on.
        if c.phase == Phase::Approval {
            if c.action != Alert {
                return Verdict::Error;
            }
            if c.aborted {
                return Verdict::Aborted;
            }
            return match c.answer.flatten() {
                Some(Decision::Reject) => Verdict::Rejected,
                Some(Decision::TimedOut) => Verdict::ApprovalTimedOut,
                Some(Decision::Abort) => Verdict::Aborted,
                Some(Decision::Approve) | None => Verdict::Error,
            };
        }
        // Aborted while deployed or baked: rolled back to the last known-good snapshot, "the run
        // ends ABORTED (or ROLLBACK_FAILED if the rollback fails; TIMED_OUT if the deployment
        // never ends)". With nothing to roll back (nothing of the run deployed, no known-good
        // snapshot, or the abort landed before the stage started) it ends ABORTED at once. A
        // rollback still running, or one that deployed nothing, is no ending.
        if c.aborted {
            if c.action != Alert {
                return Verdict::Error;
            }
            return match (c.phase, c.rollback) {
                (Phase::Rollback, Some(Outcome::Succeeded)) => Verdict::Aborted,
                (Phase::Rollback, Some(Outcome::Failed | Outcome::TimedOut | Outcome::Blocked)) => {
                    Verdict::RollbackFailed
                }
                // Only a deployment can "never end": in the bake phase it had succeeded.
                (Phase::Deploy, None) if c.outcome == Outcome::TimedOut => Verdict::TimedOut,
                (Phase::Deploy | Phase::Bake, None) => Verdict::Aborted,
                _ => Verdict::Error,
            };
        }
        // An approval the run asked for and had answered (or that is still pending) does not
        // change how the stage's own deployment ends: the first table's rules.
        expected(&c.plain())
    }

    #[test]
    fn verdict_table_with_approvals_freezes_and_aborts() {
        let answers = [
            None,
            Some(None),
            Some(Some(Decision::Approve)),
            Some(Some(Decision::Reject)),
            Some(Some(Decision::Abort)),
            Some(Some(Decision::TimedOut)),
        ];
        let mut cases = 0;
        let mut wrong = vec![];
        let mut seen = std::collections::BTreeSet::new();
        for phase in [Phase::Approval, Phase::Deploy, Phase::Bake, Phase::Rollback] {
            for action in Action::ALL {
                for outcome in OUTCOMES {
                    for rollback in std::iter::once(None).chain(OUTCOMES.map(Some)) {
                        for frozen in [None, Some(false), Some(true)] {
                            for answer in answers {
                                for aborted in [false, true] {
                                    let c = OperatorCase {
                                        phase,
                                        action,
                                        outcome,
                                        rollback,
                                        frozen,
                                        answer,
                                        aborted,
                                    };
                                    let got = verdict(Some(&operator_state(&c)), None);
                                    let want = expected_operator(&c);
                                    if got != want {
                                        wrong.push(format!("{c:?}: {got:?}, want {want:?}"));
                                    }
                                    seen.insert(got.as_str());
                                    cases += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 4 * 6 * 6 * 7 * 3 * 6 * 2);
        // Every ending `verdict` can reach without a dry run, a wave or a bake came up (a table
        // whose states never reached one would test nothing about it).
        let reached: Vec<&str> = seen.into_iter().collect();
        assert_eq!(
            reached,
            [
                "ABORTED",
                "APPROVAL_TIMED_OUT",
                "BLOCKED",
                "ERROR",
                "FAILED",
                "FROZEN",
                "REJECTED",
                "ROLLBACK_FAILED",
                "ROLLED_BACK",
                "SUCCEEDED",
                "TIMED_OUT",
                "UNCHANGED"
            ]
        );
        none_wrong(&wrong, cases);
    }
}
