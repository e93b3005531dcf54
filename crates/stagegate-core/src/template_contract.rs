//! The contract between the core and the SAM template: what the template decides by itself must
//! follow the core's one decision of it, so a new outcome, or an edit on either side, fails here
//! instead of paging people for nothing (or, worse, hiding a failure) once deployed. Checked
//! against the committed `infra/template.yaml`, read with `outline` (no YAML crate).
//!
//! - The failure alarm pages only when a person is needed: failed plus timed-out executions minus
//!   the runs that ended in the Fail state on purpose (`Verdict::is_intended_refusal`), counted by
//!   the StageGate `Runs` metric of this stack's game. Those refusals are on the dashboard.
//! - No function's environment can exceed Lambda's 4 KB for all its variables together, whatever
//!   value a parameter that feeds one is given within its bounds: such a value would fail the
//!   deploy (or the update), not the run.
//! - The fleet digest subscription receives each fleet's summary and the game messages that count
//!   against a budget, and nothing else (`digest`).

mod digest;
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

/// Lambda's limit on a function's environment: all variables together, keys included, 4 KB.
const LAMBDA_ENVIRONMENT_BYTES: usize = 4_096;
/// What a reference to a resource (`!Ref Topic`, `!GetAtt X.Arn`) can be at most: an ARN, whose
/// characters need no JSON escape.
const ARN_MAX_BYTES: usize = 2_048;
/// What `!Ref` of a bucket is: its name, 3-63 lower-case letters, digits, dots and hyphens.
const BUCKET_NAME_MAX_BYTES: usize = 63;
/// The one `AllowedPattern` whose characters are known here: printable ASCII, tab, newline and
/// carriage return: one byte each, and two for those JSON escapes (`"`, `\`, tab, newline, CR).
const PRINTABLE_ASCII: &str = "^[ -~\\t\\n\\r]*$";
/// The endpoint parameter's `AllowedPattern`: characters JSON never escapes, one byte each.
const URL: &str = "^(https?://[a-zA-Z0-9.:/_-]+)?$";

/// The most bytes one character of a parameter's value can take once Lambda has JSON-escaped it:
/// 2 within `PRINTABLE_ASCII`; otherwise 6 (a control character becomes `\u0001`; CloudFormation
/// counts characters, and no character is more than 4 bytes in UTF-8).
fn worst_char_bytes(pattern: Option<&str>) -> usize {
    match pattern {
        Some(PRINTABLE_ASCII) => 2,
        Some(URL) => 1,
        _ => 6,
    }
}

/// The largest a variable's value can be, in bytes as Lambda measures it (JSON-escaped, without
/// its quotes), or why it cannot be bounded.
fn value_bound(doc: &Node, value: &str) -> Result<usize, String> {
    let Some(reference) = value.strip_prefix('!') else {
        let json = serde_json::to_string(value).unwrap_or_default();
        return Ok(json.len().saturating_sub(2));
    };
    match reference.split_once(' ') {
        Some(("Ref", name)) => match doc.path(&["Parameters", name]) {
            Some(parameter) => {
                let max: usize = text(parameter, &["MaxLength"]).parse().map_err(|_| {
                    format!("parameter {name} has no MaxLength: its variable is unbounded")
                })?;
                let pattern = parameter.get("AllowedPattern").and_then(Node::text);
                Ok(max * worst_char_bytes(pattern))
            }
            None if text(doc, &["Resources", name, "Type"]) == "AWS::S3::Bucket" => {
                Ok(BUCKET_NAME_MAX_BYTES)
            }
            None if doc.path(&["Resources", name]).is_some() => Ok(ARN_MAX_BYTES),
            None => Err(format!("!Ref {name} names nothing in the template")),
        },
        Some(("GetAtt", _)) => Ok(ARN_MAX_BYTES),
        // `!If [Condition, a, b]` (a variable set only with an optional resource): the larger.
        Some(("If", rest)) => {
            let inner = rest
                .trim()
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .ok_or_else(|| format!("cannot bound `{value}`: write !If as a flow sequence"))?;
            let parts: Vec<&str> = inner.splitn(3, ',').map(str::trim).collect();
            match parts[..] {
                [_, a, b] => Ok(value_bound(doc, a)?.max(value_bound(doc, b)?)),
                _ => Err(format!("cannot bound `{value}`: !If takes three values")),
            }
        }
        _ => Err(format!(
            "cannot bound `{value}`: add its form to value_bound"
        )),
    }
}

/// Per function with an environment: the largest size Lambda can measure for it. Lambda stores
/// the variables as one JSON object and measures that (its error says "String measured:
/// {\"KEY\":\"value\",...}", quotes in values escaped): `{}`, per variable its quoted key, `:` and
/// its quoted value, and a comma between two. Globals' variables are merged in.
fn environment_bounds(template: &str) -> Vec<(String, Result<usize, String>)> {
    let doc = outline::parse(template);
    let globals = doc
        .path(&["Globals", "Function", "Environment", "Variables"])
        .map(Node::entries)
        .unwrap_or_default();
    let resources = doc.get("Resources").map(Node::entries).unwrap_or_default();
    let mut bounds = Vec::new();
    for (name, resource) in resources {
        if !matches!(
            text(resource, &["Type"]),
            "AWS::Serverless::Function" | "AWS::Lambda::Function"
        ) {
            continue;
        }
        let own = resource
            .path(&["Properties", "Environment", "Variables"])
            .map(Node::entries)
            .unwrap_or_default();
        let mut variables: Vec<&(String, Node)> = globals.iter().collect();
        for entry in own {
            variables.retain(|(k, _)| *k != entry.0);
            variables.push(entry);
        }
        let total = variables.iter().try_fold(
            2 + variables.len().saturating_sub(1),
            |sum, (key, value)| {
                let bound = value_bound(&doc, value.text().unwrap_or_default())
                    .map_err(|e| format!("{key}: {e}"))?;
                Ok(sum + key.len() + 2 + 1 + bound + 2)
            },
        );
        bounds.push((name.clone(), total));
    }
    bounds
}

#[test]
fn no_functions_environment_can_exceed_lambdas_4_kb() {
    let bounds = environment_bounds(TEMPLATE);
    // The one fed by the long parameters, and fleet-step (its bucket, topic and numbers).
    for function in ["StartDeploymentFunction", "FleetStepFunction"] {
        assert!(
            bounds.iter().any(|(name, _)| name == function),
            "{function}: {bounds:?}"
        );
    }
    for (name, bound) in &bounds {
        match bound {
            Ok(bytes) => assert!(
                *bytes <= LAMBDA_ENVIRONMENT_BYTES,
                "{name}: its environment can reach {bytes} bytes as Lambda measures it (over \
                 {LAMBDA_ENVIRONMENT_BYTES}): lower the MaxLength of the parameter that feeds it"
            ),
            Err(why) => panic!("{name}: {why}"),
        }
    }
}

#[test]
fn the_environment_bound_in_numbers() {
    let template = "\
Parameters:
  Windows:
    Type: String
    MaxLength: 100
    AllowedPattern: '^[ -~\\t\\n\\r]*$'
  Loose:
    Type: String
    MaxLength: 100
Globals:
  Function:
    Environment:
      Variables:
        LEVEL: \"in\\\"fo\"
Resources:
  Topic:
    Type: AWS::SNS::Topic
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          W: !Ref Windows
          T: !Ref Topic
  G:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          L: !Ref Loose
  Bucket:
    Type: AWS::S3::Bucket
  H:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          B: !If [On, !Ref Bucket, \"\"]
";
    let bounds = environment_bounds(template);
    // {"LEVEL":"in\"fo","W":"<200>","T":"<2048>"}
    let f = 2 + 2 + (7 + 1 + 8) + (3 + 1 + 202) + (3 + 1 + 2_050);
    // {"LEVEL":"in\"fo","L":"<600>"}
    let g = 2 + 1 + (7 + 1 + 8) + (3 + 1 + 602);
    // {"LEVEL":"in\"fo","B":"<63>"}: a bucket's name, or the empty string
    let h = 2 + 1 + (7 + 1 + 8) + (3 + 1 + 65);
    assert_eq!(
        bounds,
        vec![
            ("F".into(), Ok(f)),
            ("G".into(), Ok(g)),
            ("H".into(), Ok(h))
        ]
    );
    let unbounded = template.replace(
        "    MaxLength: 100\n    AllowedPattern",
        "    AllowedPattern",
    );
    let e = environment_bounds(&unbounded).remove(0).1;
    assert_eq!(
        e,
        Err("W: parameter Windows has no MaxLength: its variable is unbounded".into())
    );
}
