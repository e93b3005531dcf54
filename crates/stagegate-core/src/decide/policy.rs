//! The failure policy: what the gate does next once it knows how a deployment went.

use serde::{Deserialize, Serialize};

use crate::classify::{Classification, Outcome};
use crate::deployment::ResultCode;

pub const DEFAULT_TIMEOUT_SECONDS: u64 = 1800;
/// Below a minute GameSparks has barely moved a deployment out of PENDING.
pub const MIN_TIMEOUT_SECONDS: u64 = 60;
/// Two hours per phase keeps the longest run far below Step Functions' 25,000-event history
/// (see `backoff::most_polls`).
pub const MAX_TIMEOUT_SECONDS: u64 = 7200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum FailureResponse {
    Alert,
    Rollback,
}

impl FailureResponse {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alert => "alert",
            Self::Rollback => "rollback",
        }
    }
}

/// Resolved policy of one execution (defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub on_invalid_role: FailureResponse,
    pub on_unspecified_failure: FailureResponse,
    pub on_timeout: FailureResponse,
    /// An alarm fired (or could not be read) during the bake window.
    #[serde(default = "rollback")]
    pub on_bake_failure: FailureResponse,
    pub timeout_seconds: u64,
    /// How long past the deadline a deployment GameSparks still runs is watched for its real
    /// ending (default: `timeoutSeconds`). A state from before this field had none: 0.
    #[serde(default)]
    pub timeout_grace_seconds: u64,
}

fn rollback() -> FailureResponse {
    FailureResponse::Rollback
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            // Redeploying cannot fix a stage role GameSparks is unable to assume.
            on_invalid_role: FailureResponse::Alert,
            on_unspecified_failure: FailureResponse::Rollback,
            on_timeout: FailureResponse::Rollback,
            // The alarms say the new snapshot hurts players: undo it, as CodeDeploy does.
            on_bake_failure: FailureResponse::Rollback,
            timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
            timeout_grace_seconds: DEFAULT_TIMEOUT_SECONDS,
        }
    }
}

/// Which deployment the gate is watching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    /// Waiting for a person to approve the current stage; nothing of it is deployed or baking.
    Approval,
    Deploy,
    /// The deployment succeeded; its alarms are watched until the bake window ends.
    Bake,
    Rollback,
}

/// The workflow's next step; the state machine routes on nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Wait,
    Succeed,
    Rollback,
    Alert,
    /// This stage of a promotion wave passed; start the next one.
    Advance,
    /// Ask for approval of the current stage and wait for the answer (or its timeout).
    Approve,
}

impl Action {
    /// As serialized: the value the workflow's Route state compares.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::Succeed => "succeed",
            Self::Rollback => "rollback",
            Self::Alert => "alert",
            Self::Advance => "advance",
            Self::Approve => "approve",
        }
    }

    /// Every action, for the workflow contract test (the match below fails to compile when a
    /// variant is added and this list is not).
    pub const ALL: [Action; 6] = [
        Action::Wait,
        Action::Succeed,
        Action::Rollback,
        Action::Alert,
        Action::Advance,
        Action::Approve,
    ];

    #[allow(dead_code)]
    const fn listed(self) {
        match self {
            Action::Wait
            | Action::Succeed
            | Action::Rollback
            | Action::Alert
            | Action::Advance
            | Action::Approve => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub reason: String,
}

/// Decides the next step after a poll.
///
/// `known_good` is the snapshot a rollback would redeploy, if the stage has one.
pub fn decide(
    phase: Phase,
    classification: &Classification,
    policy: &Policy,
    known_good: Option<&str>,
) -> Decision {
    match (phase, classification.outcome) {
        // Nothing is deployed or watched while a run waits for approval: a poll then is a
        // routing bug, and a bug never deploys or succeeds.
        (Phase::Approval, _) => Decision {
            action: Action::Alert,
            reason: "a deployment was polled while the run awaited approval; nothing of this \
                     stage is deployed"
                .into(),
        },
        (_, Outcome::InProgress) => Decision {
            action: Action::Wait,
            reason: "deployment not finished yet".into(),
        },
        (Phase::Rollback, Outcome::Succeeded) => Decision {
            action: Action::Alert,
            reason: "the rollback completed; the requested snapshot is not deployed".into(),
        },
        // A rollback that fails is never rolled back again: that could loop on a broken stage.
        (Phase::Rollback, _) => Decision {
            action: Action::Alert,
            reason: format!(
                "the rollback itself ended {}; a failed rollback is never retried",
                classification.outcome.as_str()
            ),
        },
        // Still running at the end of the grace window: a rollback would be refused while it
        // holds the stage, and it may yet go live. Only a person can tell what to do.
        (Phase::Deploy | Phase::Bake, Outcome::TimedOut) => Decision {
            action: Action::Alert,
            reason: format!(
                "it is still {} at the end of its grace window, GameSparks refuses another \
                 deployment while it holds the stage, and it may still go live: the stage needs \
                 a person",
                classification.state
            ),
        },
        // Refused at the start: another deployment holds the stage and nothing of this run was
        // deployed, so there is nothing to roll back, and a rollback would be refused as well.
        (Phase::Deploy | Phase::Bake, Outcome::Blocked) => Decision {
            action: Action::Alert,
            reason: "GameSparks refused to start the deployment: another one holds the stage; \
                     nothing of this run was deployed"
                .into(),
        },
        (Phase::Deploy | Phase::Bake, Outcome::Unchanged) => Decision {
            action: Action::Succeed,
            reason: "the stage already serves the requested snapshot; nothing was deployed".into(),
        },
        (Phase::Deploy | Phase::Bake, Outcome::Succeeded) if classification.late => {
            respond("onTimeout", policy.on_timeout, known_good)
        }
        (Phase::Deploy | Phase::Bake, Outcome::Succeeded) => Decision {
            action: Action::Succeed,
            reason: "the requested snapshot is deployed".into(),
        },
        (Phase::Deploy | Phase::Bake, _) => {
            let (rule, response) = if classification.late {
                ("onTimeout", policy.on_timeout)
            } else {
                match classification.result_code {
                    Some(ResultCode::InvalidRoleFailure) => {
                        ("onInvalidRole", policy.on_invalid_role)
                    }
                    // Unknown or missing result codes are treated as unspecified failures.
                    _ => ("onUnspecifiedFailure", policy.on_unspecified_failure),
                }
            };
            respond(rule, response, known_good)
        }
    }
}

/// What follows a poll once the run was aborted (`stagegate abort`): the stage is undone as
/// soon as GameSparks allows, whatever the deployment's own outcome and the failure policy say.
/// A rollback that is already running is not aborted: it is what an abort asks for.
pub fn decide_aborted(
    phase: Phase,
    classification: &Classification,
    policy: &Policy,
    known_good: Option<&str>,
    by: &str,
) -> Decision {
    let alert = |reason: String| Decision {
        action: Action::Alert,
        reason,
    };
    match (phase, classification.outcome) {
        (Phase::Rollback | Phase::Approval, _) => decide(phase, classification, policy, known_good),
        (_, Outcome::InProgress) => Decision {
            action: Action::Wait,
            reason: format!(
                "aborted by {by}; GameSparks refuses another deployment while this one holds the \
                 stage, so the rollback starts once it ends"
            ),
        },
        (_, Outcome::Unchanged | Outcome::Blocked) => alert(format!(
            "aborted by {by}; nothing of this run was deployed on the stage"
        )),
        (_, Outcome::TimedOut) => alert(format!(
            "aborted by {by}, but the deployment is still {} at the end of its grace window and \
             GameSparks refuses a rollback while it holds the stage: the stage needs a person",
            classification.state
        )),
        (_, Outcome::Succeeded | Outcome::Failed) => match known_good {
            Some(snapshot) => Decision {
                action: Action::Rollback,
                reason: format!(
                    "aborted by {by}; rolling back to the last known-good snapshot {snapshot}"
                ),
            },
            None => alert(format!(
                "aborted by {by}, but the stage has no known-good snapshot to roll back to \
                 (before this run it served no other snapshot)"
            )),
        },
    }
}

/// Decides what follows a failed bake (an alarm fired, or the alarms could not be read).
pub fn decide_bake_failure(policy: &Policy, known_good: Option<&str>) -> Decision {
    respond("onBakeFailure", policy.on_bake_failure, known_good)
}

fn respond(rule: &str, response: FailureResponse, known_good: Option<&str>) -> Decision {
    match (response, known_good) {
        (FailureResponse::Alert, _) => Decision {
            action: Action::Alert,
            reason: format!("policy {rule} is alert"),
        },
        (FailureResponse::Rollback, Some(snapshot)) => Decision {
            action: Action::Rollback,
            reason: format!("policy {rule} is rollback; last known-good snapshot is {snapshot}"),
        },
        (FailureResponse::Rollback, None) => Decision {
            action: Action::Alert,
            reason: format!(
                "policy {rule} is rollback, but the stage has no known-good snapshot to roll \
                 back to (before this run it served no other snapshot)"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_their_serialized_form() {
        for action in Action::ALL {
            assert_eq!(
                serde_json::to_value(action).ok(),
                Some(serde_json::Value::from(action.as_str()))
            );
        }
    }
    use crate::deployment::DeploymentState;

    #[test]
    fn failure_responses_are_named_as_the_input_writes_them() {
        // The message shows the policy as the execution input spells it.
        for r in [FailureResponse::Alert, FailureResponse::Rollback] {
            assert_eq!(
                serde_json::to_value(r).ok(),
                Some(serde_json::Value::from(r.as_str()))
            );
        }
    }

    fn classification(outcome: Outcome, code: Option<&str>) -> Classification {
        Classification {
            outcome,
            state: DeploymentState::parse("X"),
            result_code: code.map(ResultCode::parse),
            message: None,
            late: false,
        }
    }

    const GOOD: Option<&str> = Some("Snapshot_2023-01-01T00:00:00.000Z");

    #[test]
    fn default_policy_table() {
        use Action::*;
        use Outcome::*;
        let p = Policy::default();
        type Case<'a> = (Phase, Outcome, Option<&'a str>, Option<&'a str>, Action);
        let cases: &[Case] = &[
            (Phase::Deploy, InProgress, None, GOOD, Wait),
            (Phase::Deploy, Succeeded, Some("SUCCESS"), GOOD, Succeed),
            (
                Phase::Deploy,
                Failed,
                Some("INVALID_ROLE_FAILURE"),
                GOOD,
                Alert,
            ),
            (
                Phase::Deploy,
                Failed,
                Some("UNSPECIFIED_FAILURE"),
                GOOD,
                Rollback,
            ),
            (
                Phase::Deploy,
                Failed,
                Some("UNSPECIFIED_FAILURE"),
                None,
                Alert,
            ),
            (Phase::Deploy, Failed, None, GOOD, Rollback),
            (Phase::Deploy, Failed, Some("NEW_CODE"), GOOD, Rollback),
            // Still running at the end of the grace window: never rolled back into.
            (Phase::Deploy, TimedOut, None, GOOD, Alert),
            (Phase::Deploy, TimedOut, None, None, Alert),
            (Phase::Rollback, InProgress, None, GOOD, Wait),
            (Phase::Rollback, Succeeded, Some("SUCCESS"), GOOD, Alert),
            (
                Phase::Rollback,
                Failed,
                Some("UNSPECIFIED_FAILURE"),
                GOOD,
                Alert,
            ),
            (Phase::Rollback, TimedOut, None, GOOD, Alert),
            (Phase::Rollback, Blocked, None, GOOD, Alert),
            // Refused at the start: nothing of this run is deployed, so nothing to roll back.
            (Phase::Deploy, Blocked, None, GOOD, Alert),
            (Phase::Bake, Blocked, None, GOOD, Alert),
            // "latest" already served the stage: nothing was started, nothing can fail.
            (Phase::Deploy, Unchanged, None, GOOD, Succeed),
            // The bake phase judges the deployment as the deploy phase does.
            (Phase::Bake, InProgress, None, GOOD, Wait),
            (Phase::Bake, Succeeded, Some("SUCCESS"), GOOD, Succeed),
            (
                Phase::Bake,
                Failed,
                Some("INVALID_ROLE_FAILURE"),
                GOOD,
                Alert,
            ),
            (
                Phase::Bake,
                Failed,
                Some("UNSPECIFIED_FAILURE"),
                GOOD,
                Rollback,
            ),
            (
                Phase::Bake,
                Failed,
                Some("UNSPECIFIED_FAILURE"),
                None,
                Alert,
            ),
            (Phase::Bake, TimedOut, None, GOOD, Alert),
        ];
        for (phase, outcome, code, good, want) in cases {
            let d = decide(*phase, &classification(*outcome, *code), &p, *good);
            assert_eq!(d.action, *want, "{phase:?} {outcome:?} {code:?} {good:?}");
        }
        // Ended after the deadline: onTimeout decides, whatever the result; a late rollback is
        // still a rollback.
        let late = |outcome, code| Classification {
            late: true,
            ..classification(outcome, code)
        };
        let late_cases: &[Case] = &[
            (Phase::Deploy, Succeeded, Some("SUCCESS"), GOOD, Rollback),
            (Phase::Deploy, Succeeded, Some("SUCCESS"), None, Alert),
            (
                Phase::Deploy,
                Failed,
                Some("INVALID_ROLE_FAILURE"),
                GOOD,
                Rollback,
            ),
            (Phase::Rollback, Succeeded, Some("SUCCESS"), GOOD, Alert),
        ];
        for (phase, outcome, code, good, want) in late_cases {
            let d = decide(*phase, &late(*outcome, *code), &p, *good);
            assert_eq!(
                d.action, *want,
                "late {phase:?} {outcome:?} {code:?} {good:?}"
            );
            if *phase == Phase::Deploy {
                assert!(d.reason.contains("onTimeout"), "{}", d.reason);
            }
        }
        let alert = Policy {
            on_timeout: FailureResponse::Alert,
            ..Policy::default()
        };
        let d = decide(
            Phase::Deploy,
            &late(Succeeded, Some("SUCCESS")),
            &alert,
            GOOD,
        );
        assert_eq!(d.action, Alert);
    }

    #[test]
    fn every_rule_can_be_flipped() {
        let flipped = Policy {
            on_invalid_role: FailureResponse::Rollback,
            on_unspecified_failure: FailureResponse::Alert,
            on_timeout: FailureResponse::Alert,
            on_bake_failure: FailureResponse::Alert,
            timeout_seconds: 600,
            timeout_grace_seconds: 0,
        };
        assert_eq!(decide_bake_failure(&flipped, GOOD).action, Action::Alert);
        assert_eq!(
            decide_bake_failure(&Policy::default(), GOOD).action,
            Action::Rollback
        );
        assert_eq!(
            decide_bake_failure(&Policy::default(), None).action,
            Action::Alert
        );
        let role = classification(Outcome::Failed, Some("INVALID_ROLE_FAILURE"));
        let unspecified = classification(Outcome::Failed, Some("UNSPECIFIED_FAILURE"));
        let timeout = classification(Outcome::TimedOut, None);
        assert_eq!(
            decide(Phase::Deploy, &role, &flipped, GOOD).action,
            Action::Rollback
        );
        assert_eq!(
            decide(Phase::Deploy, &unspecified, &flipped, GOOD).action,
            Action::Alert
        );
        assert_eq!(
            decide(Phase::Deploy, &timeout, &flipped, GOOD).action,
            Action::Alert
        );
    }

    #[test]
    fn reasons_explain_the_choice() {
        let p = Policy::default();
        let d = decide(
            Phase::Deploy,
            &classification(Outcome::Failed, Some("UNSPECIFIED_FAILURE")),
            &p,
            None,
        );
        assert!(d.reason.contains("no known-good snapshot"), "{}", d.reason);
        let d = decide(
            Phase::Deploy,
            &classification(Outcome::Failed, Some("INVALID_ROLE_FAILURE")),
            &p,
            GOOD,
        );
        assert_eq!(d.reason, "policy onInvalidRole is alert");
        let d = decide(
            Phase::Rollback,
            &classification(Outcome::Failed, None),
            &p,
            GOOD,
        );
        assert!(d.reason.contains("never retried"), "{}", d.reason);
    }

    /// `stagegate abort` after every poll (docs/operator-control.md, "Aborts"), written out from
    /// the docs: the failure policy and the deadline no longer decide, the abort does.
    fn expected_aborted(phase: Phase, outcome: Outcome, known_good: bool) -> Action {
        match (phase, outcome) {
            // "During a rollback: nothing more to do; the rollback is what an abort asks for":
            // watched to its end, then reported.
            (Phase::Rollback, Outcome::InProgress) => Action::Wait,
            (Phase::Rollback, _) => Action::Alert,
            // Nothing is deployed while a run awaits approval: a poll then is a routing bug.
            (Phase::Approval, _) => Action::Alert,
            // "A deployment still running is watched to its end (GameSparks refuses another
            // deployment while one holds the stage)".
            (_, Outcome::InProgress) => Action::Wait,
            // "TIMED_OUT if the deployment never ends": GameSparks would refuse the rollback.
            (_, Outcome::TimedOut) => Action::Alert,
            // Nothing of this run was deployed: nothing to undo.
            (_, Outcome::Unchanged | Outcome::Blocked) => Action::Alert,
            // "then rolled back to the last known-good snapshot, whatever its own outcome; a
            // baking stage is rolled back at once", if the stage has one.
            (_, Outcome::Succeeded | Outcome::Failed) if known_good => Action::Rollback,
            (_, Outcome::Succeeded | Outcome::Failed) => Action::Alert,
        }
    }

    #[test]
    fn abort_table_overrides_the_policy() {
        let outcomes = Outcome::ALL;
        // Whatever the policy says: an abort undoes the stage even where the policy alerts, and
        // never rolls back where the abort says not to.
        let all_alert = Policy {
            on_invalid_role: FailureResponse::Alert,
            on_unspecified_failure: FailureResponse::Alert,
            on_timeout: FailureResponse::Alert,
            on_bake_failure: FailureResponse::Alert,
            ..Policy::default()
        };
        let all_rollback = Policy {
            on_invalid_role: FailureResponse::Rollback,
            ..Policy::default()
        };
        let mut cases = 0;
        for phase in [Phase::Approval, Phase::Deploy, Phase::Bake, Phase::Rollback] {
            for outcome in outcomes {
                for good in [GOOD, None] {
                    for policy in [&all_alert, &all_rollback] {
                        for late in [false, true] {
                            for code in [None, Some("INVALID_ROLE_FAILURE")] {
                                let c = Classification {
                                    late,
                                    ..classification(outcome, code)
                                };
                                let d = decide_aborted(phase, &c, policy, good, "ops");
                                let want = expected_aborted(phase, outcome, good.is_some());
                                let case = format!(
                                    "{phase:?} {outcome:?} good={good:?} late={late} {code:?} \
                                     {policy:?}: {}",
                                    d.reason
                                );
                                assert_eq!(d.action, want, "{case}");
                                // A rollback or an approval is judged as without an abort.
                                if matches!(phase, Phase::Rollback | Phase::Approval) {
                                    assert_eq!(d, decide(phase, &c, policy, good), "{case}");
                                } else {
                                    // The message names who aborted.
                                    assert!(d.reason.starts_with("aborted by ops"), "{case}");
                                }
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 4 * 6 * 2 * 2 * 2 * 2);
    }

    #[test]
    fn abort_reasons_say_why_the_stage_is_not_rolled_back() {
        let p = Policy::default();
        let reason = |outcome, good| {
            decide_aborted(
                Phase::Deploy,
                &classification(outcome, None),
                &p,
                good,
                "ops",
            )
            .reason
        };
        assert_eq!(
            reason(Outcome::Failed, GOOD),
            "aborted by ops; rolling back to the last known-good snapshot \
             Snapshot_2023-01-01T00:00:00.000Z"
        );
        assert!(
            reason(Outcome::Succeeded, None).contains("no known-good snapshot"),
            "{}",
            reason(Outcome::Succeeded, None)
        );
        assert!(
            reason(Outcome::TimedOut, GOOD).contains("still X at the end of its grace window"),
            "{}",
            reason(Outcome::TimedOut, GOOD)
        );
        assert!(
            reason(Outcome::Blocked, GOOD).contains("nothing of this run was deployed"),
            "{}",
            reason(Outcome::Blocked, GOOD)
        );
        assert!(
            reason(Outcome::InProgress, GOOD).contains("the rollback starts once it ends"),
            "{}",
            reason(Outcome::InProgress, GOOD)
        );
    }
}
