//! Peer comparison: the Rust poll-deployment and the Python peer answer the same event, and on
//! the fields the workflow acts on they must agree. Both answers are gate states, read as
//! `stagegate::state::GateState`: an answer that is not one is an error, not a "DIFFERENT".

use stagegate::state::GateState;

use crate::error::{Context, Result};
use crate::results::{Parity, ParityFields};

/// The routed-on fields of one answer: the action and wait, and the requested deployment's
/// (top-level) progress.
fn fields(state: &GateState) -> ParityFields {
    let d = &state.deployment;
    ParityFields {
        action: state.action,
        attempt: d.attempt,
        deployment_state: d.deployment_state.clone(),
        outcome: d.outcome,
        result_code: d.result_code.clone(),
        wait_seconds: state.wait_seconds,
    }
}

/// Compares the two answers (response bodies).
pub fn compare(rust: &[u8], peer: &[u8]) -> Result<Parity> {
    let rust: GateState = serde_json::from_slice(rust)
        .context("poll-deployment's answer to its cold-start event is not a gate state")?;
    let peer: GateState = serde_json::from_slice(peer)
        .context("the Python peer's answer to the poll event is not a gate state")?;
    let (rust, peer) = (fields(&rust), fields(&peer));
    Ok(Parity {
        equal: rust == peer,
        fields: ParityFields::NAMES.map(str::to_owned).to_vec(),
        rust,
        peer,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn answer(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/poll-deployment.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn same_answers_are_equal_and_differences_show() {
        let p = compare(&answer(|_| {}), &answer(|_| {})).unwrap();
        assert!(p.equal);
        assert_eq!(p.rust.wait_seconds, 10);
        assert_eq!(p.fields.len(), 6);
        let p = compare(&answer(|_| {}), &answer(|v| v["waitSeconds"] = 12.into())).unwrap();
        assert!(!p.equal);
        assert_eq!(p.peer.wait_seconds, 12);
    }

    #[test]
    fn an_answer_that_is_not_a_gate_state_is_an_error() {
        let err = compare(&answer(|_| {}), br#"{"action": "wait"}"#).unwrap_err();
        assert!(err.to_string().contains("Python peer"), "{err}");
    }
}
