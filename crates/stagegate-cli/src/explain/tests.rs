//! The story as printed: header, one block per decision with its rule, the quiet looks, the
//! verdict and what was published; the document mirrors the core's `Story` member for member.

use serde_json::Value;

use super::*;
use crate::saved::fixture;

fn explained(history: &SavedHistory) -> Explained {
    explain(history, fixture::ARN).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn each_decision_is_told_with_its_evidence_rule_and_what_followed() {
    let text = render(&explained(&fixture::recorded()));
    for expected in [
        "space-raiders run arn:x:run-1",
        "  snapshot:    v2",
        "onInvalidRole: alert, onUnspecifiedFailure: rollback",
        "  recorded by: 0.1.0",
        "  ended:       FAILED StageGate.FAILED",
        "2026-12-07T03:05:00Z  prod  poll",
        "  evidence: deployment d-1 FAILED (INVALID_ROLE_FAILURE): cannot assume role",
        "  rule:     INVALID_ROLE_FAILURE -> onInvalidRole: alert",
        "  then:     alert: onInvalidRole: alert",
        "quiet: 3 poll(s) of a running deployment, 0 bake check(s) with every alarm quiet \
         (digest 00ff00ff00ff00ff)",
        "published: FAILED \"space-raiders prod: FAILED\" (message m-1)",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

#[test]
fn a_run_without_a_record_or_a_state_says_so() {
    let old = render(&explained(&fixture::unrecorded()));
    assert!(old.contains("(no decision record"), "{old}");
    let refused = render(&explained(&SavedHistory::default()));
    assert!(
        refused.contains("no gate state in the history"),
        "{refused}"
    );
}

#[test]
fn the_document_holds_every_member_of_the_story_with_its_value() {
    let e = explained(&fixture::recorded());
    let story = serde_json::to_value(e.story.as_ref()).unwrap_or_default();
    let document = serde_json::to_value(document(&e)).unwrap_or_default();
    let Value::Object(members) = &story else {
        panic!("{story}")
    };
    assert!(!members.is_empty());
    for (name, value) in members {
        assert_eq!(&document["story"][name], value, "story member {name}");
    }
    assert_eq!(document["notification"]["messageId"], "m-1");
    assert_eq!(document["source"], fixture::ARN);
    assert_eq!(document["exitCode"], 0);
}
