//! How a deployment went, from what GetStageDeployment returned and the gate's deadline.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::deployment::{Deployment, DeploymentState, ResultCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Every outcome, for tables that must cover them all (a new variant fails to compile in
    /// `listed` until it is added here).
    pub const ALL: [Self; 6] = [
        Self::InProgress,
        Self::Succeeded,
        Self::Failed,
        Self::TimedOut,
        Self::Blocked,
        Self::Unchanged,
    ];

    #[allow(dead_code)]
    const fn listed(self) {
        match self {
            Self::InProgress
            | Self::Succeeded
            | Self::Failed
            | Self::TimedOut
            | Self::Blocked
            | Self::Unchanged => {}
        }
    }

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
    pub state: DeploymentState,
    pub result_code: Option<ResultCode>,
    pub message: Option<String>,
    /// It finished (either way) after the deadline: the failure policy's `onTimeout` applies.
    pub late: bool,
}

/// Classifies a deployment as seen at `now`.
///
/// Past the deadline a deployment GameSparks still runs is watched on until `grace_end`: a
/// rollback now would be refused while it holds the stage, and it may still go live later, so
/// the gate waits for its real ending. Only a deployment still running at `grace_end` (reached
/// counts as passed) is TIMED_OUT; one that ends after the deadline keeps its outcome and is
/// marked `late`.
pub fn classify(
    deployment: &Deployment,
    deadline: OffsetDateTime,
    grace_end: OffsetDateTime,
    now: OffsetDateTime,
) -> Classification {
    let code = deployment.result_code.as_ref();
    let result_code = deployment.result_code.clone();
    let message = deployment.result_message.clone();
    let state = deployment.state.clone();
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
            if now >= grace_end.max(deadline) {
                (
                    Outcome::TimedOut,
                    Some(with_note(
                        note,
                        &format!(
                            "deployment {} still {} at the end of its grace window {} (deadline {})",
                            deployment.id,
                            running.as_str(),
                            crate::timefmt::rfc3339(grace_end.max(deadline)),
                            crate::timefmt::rfc3339(deadline)
                        ),
                    )),
                )
            } else {
                (Outcome::InProgress, note)
            }
        }
    };
    let finished_at = deployment.last_updated.unwrap_or(now);
    let late = outcome.is_terminal() && outcome != Outcome::TimedOut && finished_at > deadline;
    let message = if late {
        Some(with_note(
            message,
            &format!(
                "ended {} at {}, after the deadline {}",
                code.map_or(state.as_str(), ResultCode::as_str),
                crate::timefmt::rfc3339(finished_at),
                crate::timefmt::rfc3339(deadline)
            ),
        ))
    } else {
        message
    };
    Classification {
        outcome,
        state,
        result_code,
        message,
        late,
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
    const GRACE_END: OffsetDateTime = datetime!(2026-01-01 01:00:00 UTC);

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
        let (grace, past) = (GRACE_END, GRACE_END + Duration::seconds(1));
        use Outcome::*;
        // (state, code, now, outcome, late); `dep` has no LastUpdatedTime, so a terminal
        // deployment counts as finishing when it is seen.
        let cases: &[(&str, Option<&str>, OffsetDateTime, Outcome, bool)] = &[
            ("PENDING", None, before, InProgress, false),
            ("IN_PROGRESS", None, before, InProgress, false),
            // Past the deadline it is watched on through the grace window...
            ("PENDING", None, DEADLINE, InProgress, false),
            ("IN_PROGRESS", None, after, InProgress, false),
            // ... and times out when the grace end is reached.
            ("PENDING", None, grace, TimedOut, false),
            ("IN_PROGRESS", None, past, TimedOut, false),
            ("COMPLETED", Some("SUCCESS"), before, Succeeded, false),
            ("COMPLETED", Some("SUCCESS"), DEADLINE, Succeeded, false),
            ("COMPLETED", Some("SUCCESS"), after, Succeeded, true),
            ("COMPLETED", Some("SUCCESS"), past, Succeeded, true),
            (
                "COMPLETED",
                Some("UNSPECIFIED_FAILURE"),
                before,
                Failed,
                false,
            ),
            (
                "COMPLETED",
                Some("INVALID_ROLE_FAILURE"),
                before,
                Failed,
                false,
            ),
            ("COMPLETED", None, before, Failed, false),
            ("FAILED", Some("UNSPECIFIED_FAILURE"), before, Failed, false),
            ("FAILED", Some("SUCCESS"), before, Failed, false),
            ("FAILED", None, after, Failed, true),
            ("ROLLING", None, before, InProgress, false),
            ("ROLLING", None, DEADLINE, InProgress, false),
            ("ROLLING", None, grace, TimedOut, false),
        ];
        for (state, code, now, want, late) in cases {
            let c = classify(&dep(state, *code, None), DEADLINE, GRACE_END, *now);
            assert_eq!(c.outcome, *want, "{state} {code:?} at {now}");
            assert_eq!(c.late, *late, "{state} {code:?} at {now}");
            assert_eq!(c.state.as_str(), *state);
            assert_eq!(c.result_code.as_ref().map(ResultCode::as_str), *code);
        }
        // A deployment that finished before the deadline is not late, however late it is seen.
        let mut on_time = dep("COMPLETED", Some("SUCCESS"), None);
        on_time.last_updated = Some(before);
        assert!(!classify(&on_time, DEADLINE, GRACE_END, past).late);
    }

    #[test]
    fn failed_without_result_says_it_was_missing() {
        let c = classify(&dep("FAILED", None, None), DEADLINE, GRACE_END, DEADLINE);
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
            GRACE_END,
            DEADLINE - Duration::minutes(5),
        );
        assert_eq!(c.outcome, Outcome::Failed);
        assert_eq!(c.message.as_deref(), Some("role cannot be assumed"));
    }

    #[test]
    fn timeout_message_names_the_deployment_state_and_times() {
        let c = classify(
            &dep("IN_PROGRESS", None, None),
            DEADLINE,
            GRACE_END,
            GRACE_END,
        );
        assert_eq!(
            c.message.as_deref(),
            Some("deployment dep-1 still IN_PROGRESS at the end of its grace window 2026-01-01T01:00:00Z (deadline 2026-01-01T00:30:00Z)")
        );
        let late = classify(
            &dep("COMPLETED", Some("SUCCESS"), None),
            DEADLINE,
            GRACE_END,
            DEADLINE + Duration::minutes(1),
        );
        assert_eq!(
            late.message.as_deref(),
            Some("ended SUCCESS at 2026-01-01T00:31:00Z, after the deadline 2026-01-01T00:30:00Z")
        );
    }

    #[test]
    fn unknown_state_is_reported() {
        let c = classify(
            &dep("ROLLING", None, None),
            DEADLINE,
            GRACE_END,
            DEADLINE - Duration::seconds(5),
        );
        assert!(c.message.as_deref().unwrap_or("").contains("ROLLING"));
    }

    #[test]
    fn outcome_names_are_their_serialized_form() {
        // The state, the message and the metrics all carry the name `as_str` gives.
        for o in Outcome::ALL {
            assert_eq!(
                serde_json::to_value(o).ok(),
                Some(serde_json::Value::from(o.as_str())),
                "{o:?}"
            );
        }
    }

    #[test]
    fn a_note_keeps_what_gamesparks_said_before_it() {
        let c = classify(
            &dep("FAILED", None, Some("stage role missing")),
            DEADLINE,
            GRACE_END,
            DEADLINE,
        );
        assert_eq!(
            c.message.as_deref(),
            Some("stage role missing (deployment FAILED and the DeploymentResult was missing)")
        );
        // An empty message says nothing: the note stands alone.
        let c = classify(
            &dep("FAILED", None, Some("")),
            DEADLINE,
            GRACE_END,
            DEADLINE,
        );
        assert_eq!(
            c.message.as_deref(),
            Some("deployment FAILED and the DeploymentResult was missing")
        );
    }
}
