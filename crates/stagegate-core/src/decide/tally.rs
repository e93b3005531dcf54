//! A fleet run between its batches: what each game's gate ended as, read from its child
//! execution's result, and the fleet's summary.
//!
//! Each game runs the whole gate as a child execution (`states:startExecution.sync:2`), and the
//! fleet's Map catches a failed child into its item's result instead of failing (a failed Map would
//! stop the children still running, with no message from them). So a result is either the child's
//! output (a gate that succeeded carries its `notification`) or a caught error whose `Cause` is the
//! child's DescribeExecution, with the Fail state's `StageGate.<VERDICT>` as its `Error`. Anything
//! else is read as ERROR: a result nobody can read counts against the budget, never for it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::budget::{counts_as_failure, GameEnding};
use crate::verdict::Verdict;

/// What one child's result says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChildEnding {
    pub verdict: Verdict,
    /// Why, for a gate that did not succeed: its notification's cause, or the caught error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Reads a child's result: `{"output": <the gate's final state>}` or `{"error": {"Error",
/// "Cause"}}` (the Map's Catch).
pub fn child_ending(result: &Value) -> ChildEnding {
    let unreadable = |why: String| ChildEnding {
        verdict: Verdict::Error,
        why: Some(why),
    };
    if let Some(notification) = result.pointer("/output/notification") {
        let verdict = notification
            .get("outcome")
            .and_then(|o| serde_json::from_value::<Verdict>(o.clone()).ok());
        return match verdict {
            Some(verdict) => ChildEnding {
                verdict,
                why: (!verdict.is_success())
                    .then(|| text(notification.get("cause")))
                    .flatten(),
            },
            None => unreadable("the gate's notification names no outcome".into()),
        };
    }
    let Some(error) = result.get("error") else {
        return unreadable("the child's result holds neither an output nor an error".into());
    };
    let name = text(error.get("Error")).unwrap_or_default();
    let cause = text(error.get("Cause")).unwrap_or_default();
    // A failed child: the Cause is its DescribeExecution, whose `error` is the Fail state's.
    let described: Option<Value> = serde_json::from_str(&cause).ok();
    let child_error = described
        .as_ref()
        .and_then(|d| text(d.get("error").or_else(|| d.get("Error"))));
    let child_cause = described
        .as_ref()
        .and_then(|d| text(d.get("cause").or_else(|| d.get("Cause"))));
    match child_error.as_deref().and_then(Verdict::from_name) {
        Some(verdict) => ChildEnding {
            verdict,
            why: child_cause.or(child_error),
        },
        None => unreadable(format!(
            "the child execution did not run to a gate's ending: {name}: {}",
            crate::bake::truncate_bytes(&cause, 256)
        )),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// One game that failed, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FailedGame {
    pub game_name: String,
    pub verdict: Verdict,
    pub why: Option<String>,
}

/// Counts per outcome and the games that failed, from the endings so far (`names`: each item's
/// game name; `whys`: each ended item's reason).
pub fn tally(
    endings: &[GameEnding],
    names: &[String],
    whys: &BTreeMap<usize, String>,
) -> (BTreeMap<String, usize>, Vec<FailedGame>) {
    let mut counts = BTreeMap::new();
    let mut failed = vec![];
    for e in endings {
        *counts.entry(e.verdict.as_str().to_owned()).or_insert(0) += 1;
        if counts_as_failure(e.verdict) {
            failed.push(FailedGame {
                game_name: names.get(e.item).cloned().unwrap_or_default(),
                verdict: e.verdict,
                why: whys.get(&e.item).cloned(),
            });
        }
    }
    (counts, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_succeeded_gate_is_read_from_its_notification() {
        let r = json!({"output": {"gameName": "g", "notification": {"outcome": "SUCCEEDED", "cause": ""}}});
        assert_eq!(
            child_ending(&r),
            ChildEnding {
                verdict: Verdict::Succeeded,
                why: None
            }
        );
        let r = json!({"output": {"notification": {"outcome": "UNCHANGED"}}});
        assert_eq!(child_ending(&r).verdict, Verdict::Unchanged);
    }

    #[test]
    fn a_failed_gate_is_read_from_the_caught_describe_execution() {
        let described = json!({"status": "FAILED", "error": "StageGate.ROLLED_BACK", "cause": "rolled back to S2"});
        let r = json!({"error": {"Error": "States.TaskFailed", "Cause": described.to_string()}});
        assert_eq!(
            child_ending(&r),
            ChildEnding {
                verdict: Verdict::RolledBack,
                why: Some("rolled back to S2".into())
            }
        );
    }

    #[test]
    fn what_cannot_be_read_counts_as_an_error() {
        for r in [
            json!({}),
            json!({"output": {"notification": {"outcome": "MAYBE"}}}),
            json!({"error": {"Error": "StepFunctions.ExecutionAlreadyExistsException", "Cause": "exists"}}),
            json!({"error": {"Error": "States.TaskFailed", "Cause": "{\"error\": \"States.Timeout\"}"}}),
        ] {
            let e = child_ending(&r);
            assert_eq!(e.verdict, Verdict::Error, "{r}");
            assert!(e.why.is_some());
            assert!(counts_as_failure(e.verdict));
        }
    }

    #[test]
    fn the_tally_counts_outcomes_and_names_the_failed_games() {
        let endings = [
            GameEnding {
                item: 0,
                verdict: Verdict::Succeeded,
            },
            GameEnding {
                item: 1,
                verdict: Verdict::Frozen,
            },
            GameEnding {
                item: 2,
                verdict: Verdict::RolledBack,
            },
        ];
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let whys = [(2, "bake alarm".to_owned())].into();
        let (counts, failed) = tally(&endings, &names, &whys);
        assert_eq!(counts.get("SUCCEEDED"), Some(&1));
        assert_eq!(counts.get("FROZEN"), Some(&1));
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].game_name, "c");
        assert_eq!(failed[0].why.as_deref(), Some("bake alarm"));
    }
}
