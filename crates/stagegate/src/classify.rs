//! How a deployment went, from what GetStageDeployment returned and the gate's deadline.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::deployment::{Deployment, DeploymentState, ResultCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    InProgress,
    Succeeded,
    Failed,
    /// The deadline was reached while GameSparks still reported the deployment as running.
    TimedOut,
    /// GameSparks refused to start the deployment (another one holds the stage).
    Blocked,
    /// `"latest"` named the snapshot the stage already serves: nothing new, nothing started.
    Unchanged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Blocked => "BLOCKED",
            Self::Unchanged => "UNCHANGED",
        }
    }

    pub fn is_terminal(self) -> bool {
        self != Self::InProgress
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub outcome: Outcome,
    /// GameSparks' DeploymentState as reported.
    pub state: String,
    pub result_code: Option<String>,
    pub message: Option<String>,
}

/// Classifies a deployment as seen at `now`. The deadline counts as passed once it is reached.
pub fn classify(
    deployment: &Deployment,
    deadline: OffsetDateTime,
    now: OffsetDateTime,
) -> Classification {
    let code = deployment.result_code.as_ref();
    let result_code = code.map(|c| c.as_str().to_owned());
    let message = deployment.result_message.clone();
    let state = deployment.state.as_str().to_owned();
    let (outcome, message) = match (&deployment.state, code) {
        (DeploymentState::Completed, Some(ResultCode::Success)) => (Outcome::Succeeded, message),
        (DeploymentState::Completed, Some(_)) => (Outcome::Failed, message),
        (DeploymentState::Completed, None) => (
            Outcome::Failed,
            Some(with_note(
                message,
                "GameSparks reported COMPLETED without a ResultCode, so success is not confirmed",
            )),
        ),
        (DeploymentState::Failed, Some(_)) => (Outcome::Failed, message),
        (DeploymentState::Failed, None) => (
            Outcome::Failed,
            Some(with_note(
                message,
                "deployment FAILED and the DeploymentResult was missing",
            )),
        ),
        (running, _) => {
            let note = match running {
                DeploymentState::Unknown(s) => Some(format!(
                    "unrecognised DeploymentState {s:?}, treated as not finished"
                )),
                _ => None,
            };
            if now >= deadline {
                (
                    Outcome::TimedOut,
                    Some(with_note(
                        note,
                        &format!(
                            "deployment still {} at the deadline {}",
                            running.as_str(),
                            crate::state::rfc3339(deadline)
                        ),
                    )),
                )
            } else {
                (Outcome::InProgress, note)
            }
        }
    };
    Classification {
        outcome,
        state,
        result_code,
        message,
    }
}

fn with_note(message: Option<String>, note: &str) -> String {
    match message {
        Some(m) if !m.is_empty() => format!("{m} ({note})"),
        _ => note.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;

    const DEADLINE: OffsetDateTime = datetime!(2026-01-01 00:30:00 UTC);

    fn dep(state: &str, code: Option<&str>, msg: Option<&str>) -> Deployment {
        Deployment {
            id: "dep-1".into(),
            snapshot_id: Some("Snapshot_2026-01-01T00:00:00.000Z".into()),
            action: None,
            state: DeploymentState::parse(state),
            result_code: code.map(ResultCode::parse),
            result_message: msg.map(str::to_owned),
            created: None,
            last_updated: None,
        }
    }

    #[test]
    fn classification_table() {
        let before = DEADLINE - Duration::seconds(1);
        let after = DEADLINE + Duration::seconds(1);
        use Outcome::*;
        let cases: &[(&str, Option<&str>, OffsetDateTime, Outcome)] = &[
            ("PENDING", None, before, InProgress),
            ("IN_PROGRESS", None, before, InProgress),
            ("PENDING", None, DEADLINE, TimedOut), // deadline exactly reached
            ("IN_PROGRESS", None, DEADLINE, TimedOut),
            ("IN_PROGRESS", None, after, TimedOut),
            ("COMPLETED", Some("SUCCESS"), before, Succeeded),
            ("COMPLETED", Some("SUCCESS"), after, Succeeded), // terminal beats the deadline
            ("COMPLETED", Some("UNSPECIFIED_FAILURE"), before, Failed),
            ("COMPLETED", Some("INVALID_ROLE_FAILURE"), before, Failed),
            ("COMPLETED", None, before, Failed),
            ("FAILED", Some("UNSPECIFIED_FAILURE"), before, Failed),
            ("FAILED", Some("SUCCESS"), before, Failed),
            ("FAILED", None, after, Failed),
            ("ROLLING", None, before, InProgress),
            ("ROLLING", None, DEADLINE, TimedOut),
        ];
        for (state, code, now, want) in cases {
            let c = classify(&dep(state, *code, None), DEADLINE, *now);
            assert_eq!(c.outcome, *want, "{state} {code:?} at {now}");
            assert_eq!(c.state, *state);
            assert_eq!(c.result_code.as_deref(), *code);
        }
    }

    #[test]
    fn failed_without_result_says_it_was_missing() {
        let c = classify(&dep("FAILED", None, None), DEADLINE, DEADLINE);
        assert_eq!(c.outcome, Outcome::Failed);
        assert_eq!(c.result_code, None);
        assert!(c
            .message
            .as_deref()
            .unwrap_or("")
            .contains("DeploymentResult was missing"));
    }

    #[test]
    fn completed_with_failure_code_keeps_the_service_message() {
        let c = classify(
            &dep(
                "COMPLETED",
                Some("INVALID_ROLE_FAILURE"),
                Some("role cannot be assumed"),
            ),
            DEADLINE,
            DEADLINE - Duration::minutes(5),
        );
        assert_eq!(c.outcome, Outcome::Failed);
        assert_eq!(c.message.as_deref(), Some("role cannot be assumed"));
    }

    #[test]
    fn timeout_message_names_state_and_deadline() {
        let c = classify(&dep("IN_PROGRESS", None, None), DEADLINE, DEADLINE);
        assert_eq!(
            c.message.as_deref(),
            Some("deployment still IN_PROGRESS at the deadline 2026-01-01T00:30:00Z")
        );
    }

    #[test]
    fn unknown_state_is_reported() {
        let c = classify(
            &dep("ROLLING", None, None),
            DEADLINE,
            DEADLINE - Duration::seconds(5),
        );
        assert!(c.message.as_deref().unwrap_or("").contains("ROLLING"));
    }
}
