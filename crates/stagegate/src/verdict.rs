//! The gate's final outcome: what one run of the gate amounted to, for the notification and for
//! the execution's Fail state.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::classify::Outcome;
use crate::error::types;
use crate::policy::{Action, Phase};
use crate::state::GateState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl Verdict {
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
        }
    }

    /// Whether the execution ends in Succeeded: the requested snapshot is deployed (and baked),
    /// already served the stage, or a dry run found the way clear.
    pub fn is_success(self) -> bool {
        matches!(self, Self::Succeeded | Self::Unchanged | Self::DryRun)
    }

    /// The `Error` of the execution's Fail state (Step Functions error names are free text).
    pub fn fail_error(self) -> String {
        format!("StageGate.{}", self.as_str())
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
    // Success of one stage while a wave still has stages to go would end the run early (an
    // unchanged first stage ends the whole wave: nothing new was asked for).
    let unchanged = state.deployment.outcome == Outcome::Unchanged;
    if state.action == Action::Succeed && state.next_stage().is_some() && !unchanged {
        return Verdict::Error;
    }
    let bake_failed = state
        .bake_window
        .as_ref()
        .is_some_and(|w| w.failure.is_some());
    match (state.phase, &state.rollback) {
        (Phase::Rollback, Some(rollback)) => match rollback.outcome {
            Outcome::Succeeded => Verdict::RolledBack,
            Outcome::InProgress => Verdict::Error,
            Outcome::Failed | Outcome::TimedOut | Outcome::Blocked => Verdict::RollbackFailed,
            Outcome::Unchanged => Verdict::Error,
        },
        (Phase::Rollback, None) => Verdict::Error,
        (Phase::Deploy, None) => match (state.deployment.outcome, state.action) {
            (Outcome::Succeeded, Action::Succeed) => Verdict::Succeeded,
            (Outcome::Failed, Action::Alert) => Verdict::Failed,
            (Outcome::TimedOut, Action::Alert) => Verdict::TimedOut,
            (Outcome::Blocked, _) => Verdict::Blocked,
            (Outcome::Unchanged, Action::Succeed) => Verdict::Unchanged,
            // Asked to report a run that is still going or about to roll back: a workflow bug.
            _ => Verdict::Error,
        },
        (Phase::Bake, None) => match (state.action, bake_failed) {
            (Action::Succeed, false) => Verdict::Succeeded,
            (Action::Alert, true) => Verdict::BakeFailed,
            _ => Verdict::Error,
        },
        (Phase::Deploy | Phase::Bake, Some(_)) => Verdict::Error,
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
}
