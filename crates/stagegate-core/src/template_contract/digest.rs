//! The fleet digest subscription (`FleetDigestSubscription` in `infra/template.yaml`) receives
//! exactly each fleet's summary and every game message that counts against a budget: its SNS
//! filter policy, evaluated here on the message attributes the core itself renders, must let
//! through the summary (`fleet_summary::KIND`) and the messages of the verdicts
//! `budget::counts_as_failure` counts, and nothing else. A renamed attribute or value on either
//! side would otherwise go quiet: SNS drops what a filter policy does not match, silently.

use super::outline::{self, Node};
use super::TEMPLATE;
use crate::budget::counts_as_failure;
use crate::fleet_summary;
use crate::notification::{self, Report};
use crate::verdict::Verdict;
use std::collections::BTreeMap;

/// The values of a flow sequence of strings (`[a, "b"]`), as SNS reads them; None for anything
/// else (a filter this evaluator does not know must not pass for a match).
fn strings(node: &Node) -> Option<Vec<String>> {
    let text = node.text()?.trim();
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().trim_matches('"').trim_matches('\'').to_owned())
            .collect(),
    )
}

/// Whether one condition map (every key must match, SNS's AND) matches `attributes`. Only exact
/// string matching: the policy uses nothing else, and anything else does not match here.
fn all_match(condition: &Node, attributes: &BTreeMap<String, String>) -> bool {
    condition.entries().iter().all(|(key, values)| {
        if key == "$or" {
            return values.items().iter().any(|c| all_match(c, attributes));
        }
        match (strings(values), attributes.get(key)) {
            (Some(allowed), Some(value)) => allowed.iter().any(|a| a == value),
            _ => false,
        }
    })
}

/// What is wrong with the digest subscription of `template`, for a person to read.
fn digest_findings(template: &str) -> Vec<String> {
    let doc = outline::parse(template);
    let Some(subscription) = doc.path(&["Resources", "FleetDigestSubscription"]) else {
        return vec!["no Resources.FleetDigestSubscription".into()];
    };
    let mut findings = Vec::new();
    let text = |keys: &[&str]| subscription.path(keys).and_then(Node::text);
    if text(&["Type"]) != Some("AWS::SNS::Subscription") {
        findings.push(format!("Type is {:?}", text(&["Type"])));
    }
    if text(&["Properties", "FilterPolicyScope"]) != Some("MessageAttributes") {
        findings.push(
            "FilterPolicyScope is not MessageAttributes: the policy would be read against the \
             body"
                .into(),
        );
    }
    let Some(policy) = subscription.path(&["Properties", "FilterPolicy"]) else {
        findings.push("no FilterPolicy: the digest would receive every message".into());
        return findings;
    };
    let mut messages: Vec<(String, BTreeMap<String, String>, bool)> = Verdict::ALL
        .into_iter()
        .map(|verdict| {
            let n = notification::render(&Report {
                verdict,
                state: None,
                error: None,
                fallback_game: Some("g".into()),
                fallback_stage: Some("prod".into()),
                execution_id: "arn:aws:states:us-east-1:1:execution:x-gate:run".into(),
                now: time::macros::datetime!(2026-12-08 00:00 UTC),
            });
            (
                format!("a game's {} message", verdict.as_str()),
                n.attributes,
                counts_as_failure(verdict),
            )
        })
        .collect();
    let summary = fleet_summary::render(&fleet_summary::refused("nightly", "nightly-1", "why"));
    messages.push(("the fleet summary".into(), summary.attributes, true));
    for (what, attributes, wanted) in &messages {
        match (all_match(policy, attributes), wanted) {
            (false, true) => findings.push(format!(
                "{what} does not reach the digest (attributes {attributes:?})"
            )),
            (true, false) => findings.push(format!(
                "{what} reaches the digest, though it does not count against a budget"
            )),
            _ => {}
        }
    }
    findings
}

#[test]
fn the_digest_gets_the_summary_and_the_failures_only() {
    let findings = digest_findings(TEMPLATE);
    assert!(findings.is_empty(), "\n{}", findings.join("\n"));
    // The policy lets some game messages through and holds others back: it filters.
    assert!(Verdict::ALL.into_iter().any(counts_as_failure));
    assert!(!Verdict::ALL.into_iter().all(counts_as_failure));
}

#[test]
fn digest_edits_are_caught() {
    let renamed = TEMPLATE.replacen("kind: [fleet-summary]", "kind: [fleet-summaries]", 1);
    assert!(
        digest_findings(&renamed)
            .iter()
            .any(|f| f.starts_with("the fleet summary does not reach")),
        "{:?}",
        digest_findings(&renamed)
    );
    let inverted = TEMPLATE.replacen(
        "countsAgainstBudget: [\"true\"]",
        "countsAgainstBudget: [\"false\"]",
        1,
    );
    let findings = digest_findings(&inverted).join("\n");
    assert!(
        findings.contains("ERROR message does not reach"),
        "{findings}"
    );
    assert!(
        findings.contains("SUCCEEDED message reaches the digest"),
        "{findings}"
    );
    let scoped = TEMPLATE.replacen(
        "FilterPolicyScope: MessageAttributes",
        "FilterPolicyScope: MessageBody",
        1,
    );
    assert!(digest_findings(&scoped)
        .iter()
        .any(|f| f.starts_with("FilterPolicyScope")));
}
