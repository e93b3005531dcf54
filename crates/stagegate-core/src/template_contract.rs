//! The contract between the core and the SAM template: what the template decides by itself must
//! follow the core's one decision of it, so a new outcome, or an edit on either side, fails here
//! instead of paging people for nothing (or, worse, hiding a failure) once deployed. Checked
//! against the committed `infra/template.yaml`, read with `outline` (no YAML crate).
//!
//! - The failure alarm pages only when a person is needed: failed plus timed-out executions minus
//!   the runs that ended in the Fail state on purpose (`Verdict::is_intended_refusal`), counted by
//!   the StageGate `Runs` metric of this stack's game. Those refusals are on the dashboard.

mod outline;

use std::collections::BTreeSet;

use outline::Node;

use crate::verdict::Verdict;

const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

/// The outcomes the alarm must subtract: the core's decision.
fn refusals() -> BTreeSet<String> {
    Verdict::ALL
        .into_iter()
        .filter(|v| !v.is_success() && !v.needs_person() && *v != Verdict::AwaitingApproval)
        .map(|v| v.as_str().to_owned())
        .collect()
}

/// The identifiers inside `FILL(id, 0)` terms of an alarm expression.
fn filled(expression: &str) -> BTreeSet<String> {
    expression
        .split("FILL(")
        .skip(1)
        .filter_map(|rest| rest.split(',').next())
        .map(|id| id.trim().to_owned())
        .collect()
}

fn text<'a>(node: &'a Node, keys: &[&str]) -> &'a str {
    node.path(keys).and_then(Node::text).unwrap_or_default()
}

/// What is wrong with the failure alarm of `template`, for a person to read (empty: nothing).
fn alarm_findings(template: &str) -> Vec<String> {
    let doc = outline::parse(template);
    let Some(alarm) = doc.path(&["Resources", "GateFailedAlarm", "Properties"]) else {
        return vec!["no Resources.GateFailedAlarm.Properties".into()];
    };
    let metrics = alarm.get("Metrics").map(Node::items).unwrap_or_default();
    let mut findings = Vec::new();
    let mut executions = BTreeSet::new();
    let mut runs = BTreeSet::new();
    let mut outcomes = BTreeSet::new();
    for m in metrics {
        let id = text(m, &["Id"]).to_owned();
        let metric = m.path(&["MetricStat", "Metric"]);
        let Some(metric) = metric else { continue };
        let dimension = |name: &str| {
            metric
                .get("Dimensions")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .find(|d| text(d, &["Name"]) == name)
                .map(|d| text(d, &["Value"]).to_owned())
        };
        match (text(metric, &["Namespace"]), text(metric, &["MetricName"])) {
            ("AWS/States", "ExecutionsFailed" | "ExecutionsTimedOut") => {
                executions.insert(id);
            }
            ("StageGate", "Runs") => {
                let outcome = dimension("Outcome").unwrap_or_default();
                if dimension("GameName").as_deref() != Some("!Ref GameName") {
                    findings.push(format!(
                        "metric {id} ({outcome}) is not this stack's game's: it needs the \
                         dimension GameName = !Ref GameName, or another game's refusals hide \
                         this game's failures"
                    ));
                }
                if text(m, &["MetricStat", "Stat"]) != "Sum" {
                    findings.push(format!("metric {id} ({outcome}) must be the Sum of Runs"));
                }
                runs.insert(id);
                outcomes.insert(outcome);
            }
            _ => {}
        }
    }
    if executions.len() != 2 {
        findings.push(format!(
            "the alarm must read AWS/States ExecutionsFailed and ExecutionsTimedOut, found {executions:?}"
        ));
    }
    let want = refusals();
    for missing in want.difference(&outcomes) {
        findings.push(format!(
            "{missing} ends in the Fail state and needs no person (Verdict::needs_person), but \
             the alarm does not subtract its Runs: it would page"
        ));
    }
    for extra in outcomes.difference(&want) {
        findings.push(format!(
            "the alarm subtracts the Runs of {extra}, which is not an intended refusal: it could \
             hide a run that needs a person"
        ));
    }
    // One expression subtracts the refusals from the executions, another guards it at 0 and is
    // what the alarm watches.
    let expressions: Vec<(&str, &str, bool)> = metrics
        .iter()
        .filter(|m| m.get("Expression").is_some())
        .map(|m| {
            (
                text(m, &["Id"]),
                text(m, &["Expression"]),
                text(m, &["ReturnData"]) == "true",
            )
        })
        .collect();
    let difference = expressions.iter().find(|(_, e, _)| e.contains(" - ("));
    match difference {
        Some((id, expression, _)) => {
            let (added, subtracted) = expression.split_once(" - (").unwrap_or_default();
            if filled(added) != executions {
                findings.push(format!(
                    "{id} must add FILL(x, 0) of the executions {executions:?}: {expression}"
                ));
            }
            if filled(subtracted) != runs {
                findings.push(format!(
                    "{id} must subtract FILL(x, 0) of every Runs metric {runs:?}: {expression}"
                ));
            }
            let guard = format!("IF({id} > 0, {id}, 0)");
            if !expressions.iter().any(|(_, e, r)| *r && *e == guard) {
                findings.push(format!(
                    "the alarm must watch {guard} (ReturnData true): a refusal counted in one \
                     period and its execution in the next must not go negative"
                ));
            }
        }
        None => findings.push("no expression subtracts the refusals: `... - (...)`".into()),
    }
    let description = text(alarm, &["AlarmDescription"]);
    for outcome in want.iter().chain(["NotificationLost".to_owned()].iter()) {
        if !description.contains(outcome.as_str()) {
            findings.push(format!("AlarmDescription does not name {outcome}"));
        }
    }
    let dashboard = text(
        &doc,
        &["Resources", "Dashboard", "Properties", "DashboardBody"],
    );
    for outcome in &want {
        if !dashboard.contains(&format!("\"Outcome\", \"{outcome}\"")) {
            findings.push(format!(
                "the dashboard does not show the Runs of {outcome} (\"Outcome\", \"{outcome}\")"
            ));
        }
    }
    findings
}

#[test]
fn the_whole_template_is_read() {
    let doc = outline::parse(TEMPLATE);
    let top: Vec<&str> = doc.entries().iter().map(|(k, _)| k.as_str()).collect();
    for section in ["Parameters", "Globals", "Resources", "Outputs"] {
        assert!(top.contains(&section), "{section} not read: {top:?}");
    }
    assert!(
        doc.path(&["Outputs", "DashboardName", "Value"]).is_some(),
        "the last output not read"
    );
}

#[test]
fn the_failure_alarm_pages_only_when_a_person_is_needed() {
    let findings = alarm_findings(TEMPLATE);
    assert!(findings.is_empty(), "\n{}", findings.join("\n"));
}

#[test]
fn edits_on_either_side_are_caught() {
    let swapped = TEMPLATE.replacen("Value: FROZEN", "Value: ROLLED_BACK", 1);
    let findings = alarm_findings(&swapped).join("\n");
    assert!(
        findings.contains("FROZEN ends in the Fail state"),
        "{findings}"
    );
    assert!(
        findings.contains("subtracts the Runs of ROLLED_BACK"),
        "{findings}"
    );
    let unsubtracted = TEMPLATE.replacen(" + FILL(frozen, 0)", "", 1);
    assert!(
        alarm_findings(&unsubtracted)
            .iter()
            .any(|f| f.contains("must subtract")),
        "{unsubtracted}"
    );
    let unguarded = TEMPLATE.replacen("IF(", "MIN(", 1);
    assert!(alarm_findings(&unguarded)
        .iter()
        .any(|f| f.contains("must watch")));
}
