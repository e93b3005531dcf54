//! Which approval wait is pending, from an execution's history: shared by `stagegate
//! approve|reject|abort` (which read it to decide what to do) and the answer function (which
//! answers it). The history reaches both through different SDK clients; what they conclude from
//! it is decided once, here, on the history reduced to `Step`s.

use serde_json::Value;

/// The state that waits for the answer (infra/statemachine).
pub const AWAIT_APPROVAL: &str = "AwaitApproval";

/// One history event, reduced to what the questions about a run's present need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A state entered, with its input (JSON text; empty when the history left it out).
    Entered {
        name: String,
        input: String,
    },
    /// A state exited, with its output (JSON text).
    Exited {
        name: String,
        output: String,
    },
    /// A task scheduled with these parameters (JSON text).
    Scheduled(String),
    /// A task (the approval wait) timed out.
    TaskTimedOut,
    /// A task failed with this error (after its retries, before a Catch).
    TaskFailed(String),
    /// The execution failed with this error.
    ExecutionFailed(String),
    Other,
}

/// The approval wait still open: its task token and the gate state it was asked with
/// (`approvalRequest`: the run, the stage, the approval). The token is a secret of sorts: it is
/// never logged or returned.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingWait {
    pub token: String,
    pub request: Value,
}

impl std::fmt::Debug for PendingWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingWait")
            .field("token", &"(not shown)")
            .field("request", &self.request)
            .finish()
    }
}

/// A state's input as a gate state: an object with a `phase` (Accept's and Start's inputs, and a
/// run that failed before it had a gate state, have none).
pub fn gate_state(input: &str) -> Option<Value> {
    let value: Value = serde_json::from_str(input).ok()?;
    value.get("phase")?.as_str()?;
    Some(value)
}

/// Enough read for the newest gate state and the pending approval: a state entered with a gate
/// state as its input. While a run waits for approval that is `AwaitApproval` itself, so the
/// wait's scheduled task (newer) has been read too.
pub fn has_gate_state(steps: &[Step]) -> bool {
    steps
        .iter()
        .any(|s| matches!(s, Step::Entered { input, .. } if gate_state(input).is_some()))
}

/// The approval still waiting for an answer: the last `AwaitApproval` task scheduled and not
/// exited since. `steps` in chronological order.
pub fn pending_wait(steps: &[Step]) -> Option<PendingWait> {
    let mut current = "";
    let mut pending = None;
    for s in steps {
        match s {
            Step::Entered { name, .. } => current = name,
            Step::Exited { name, .. } if name == AWAIT_APPROVAL => pending = None,
            Step::Scheduled(parameters) if current == AWAIT_APPROVAL => {
                let p: Value = serde_json::from_str(parameters).unwrap_or_default();
                let payload = &p["Payload"];
                pending = payload["taskToken"].as_str().map(|token| PendingWait {
                    token: token.to_owned(),
                    request: payload["approvalRequest"].clone(),
                });
            }
            _ => {}
        }
    }
    pending
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entered(name: &str, input: Value) -> Step {
        Step::Entered {
            name: name.into(),
            input: input.to_string(),
        }
    }

    fn scheduled(token: &str) -> Step {
        Step::Scheduled(
            json!({"Payload": {"taskToken": token, "approvalRequest": {"stageName": "prod", "phase": "APPROVAL"}}})
                .to_string(),
        )
    }

    #[test]
    fn the_last_wait_scheduled_and_not_exited_is_pending() {
        let state = json!({"phase": "APPROVAL", "stageName": "prod"});
        let waiting = vec![entered(AWAIT_APPROVAL, state.clone()), scheduled("t1")];
        let p = pending_wait(&waiting).unwrap_or_else(|| panic!("pending"));
        assert_eq!(p.token, "t1");
        assert_eq!(p.request["stageName"], "prod");
        assert!(!format!("{p:?}").contains("t1"), "the token is never shown");
        let mut answered = waiting.clone();
        answered.push(Step::Exited {
            name: AWAIT_APPROVAL.into(),
            output: "{}".into(),
        });
        assert_eq!(pending_wait(&answered), None);
        // Asked again (an answer was refused): the newer wait is the pending one.
        answered.extend([entered(AWAIT_APPROVAL, state), scheduled("t2")]);
        assert_eq!(pending_wait(&answered).map(|p| p.token), Some("t2".into()));
        // A task scheduled by another state is not an approval wait.
        let other = vec![entered("Poll", json!({"phase": "DEPLOY"})), scheduled("t3")];
        assert_eq!(pending_wait(&other), None);
        assert!(has_gate_state(&other) && !has_gate_state(&[scheduled("t4")]));
    }
}
