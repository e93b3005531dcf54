//! The decision log the handlers keep in the state: each decision with its evidence, what
//! replay re-decides and explain tells, and its size against the payload limit.

use super::safety::{bake, minutes, poll_at, quiet_alarms, start_with, with_input};
use super::*;
use crate::evidence::{Entry, Evidence, Seen, MAX_ENTRIES, MAX_TEXT_BYTES};
use crate::fakes::FakeAlarms;
use crate::policy::FailureResponse;
use crate::replay::replay;
use crate::starting::{AlarmsSeen, FiringAlarm, OwnDeployment, StartDecision, StartFacts};
use crate::story::story;

/// S4 started on prod (serving S2) and failed with INVALID_ROLE_FAILURE, polled twice while it
/// ran and once when it ended: the record of a run the default policy only alerts on.
async fn invalid_role_run() -> GateState {
    let gs = stage();
    let s = started(&gs, S4).await;
    let s = polled(&gs, &s, T0 + Duration::seconds(30)).await;
    let s = polled(&gs, &s, T0 + Duration::seconds(90)).await;
    finish(
        &gs,
        "dep-1",
        DeploymentState::Failed,
        Some(ResultCode::InvalidRoleFailure),
        "role not assumable",
    );
    polled(&gs, &s, T0 + Duration::minutes(4)).await
}

#[tokio::test]
async fn a_run_records_its_start_and_the_poll_that_decided_with_their_evidence() {
    let s = invalid_role_run().await;
    assert_eq!(s.action, Action::Alert);
    let log = &s.decisions;
    assert_eq!(log.entries.len(), 2, "{:#?}", log.entries);
    match &log.entries[0].evidence {
        Evidence::Start { facts, decision } => {
            assert_eq!(decision, &StartDecision::Deploy);
            assert_eq!(facts.serving.as_deref(), Some(S2));
            assert!(facts.abort_read);
        }
        other => panic!("{other:?}"),
    }
    match &log.entries[1].evidence {
        Evidence::Poll {
            seen, known_good, ..
        } => {
            assert_eq!(seen.result_code, Some(ResultCode::InvalidRoleFailure));
            assert_eq!(seen.message.as_deref(), Some("role not assumable"));
            assert_eq!(known_good.as_deref(), Some(S2));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(log.entries[1].decided, Action::Alert);
    // The two looks at a running deployment changed nothing: counted and digested, not kept.
    assert_eq!(log.quiet.polls, 2);
    assert_eq!(log.quiet.digest.len(), 16);
    assert!(!log.version.is_empty());
}

#[tokio::test]
async fn a_run_replays_the_same_and_a_policy_change_names_the_decision_it_changes() {
    let s = invalid_role_run().await;
    assert!(replay(&s, None).same(), "{:?}", replay(&s, None));
    // What if onInvalidRole were rollback? Exactly the poll that saw INVALID_ROLE_FAILURE changes.
    let mut what_if = s.policy.clone();
    what_if.on_invalid_role = FailureResponse::Rollback;
    let r = replay(&s, Some(&what_if));
    assert_eq!(r.differences.len(), 1, "{r:?}");
    let d = &r.differences[0];
    assert_eq!((d.index, d.kind.as_str()), (1, "poll"));
    assert_eq!(
        (d.recorded.as_str(), d.replayed.as_str()),
        ("alert", "rollback")
    );
    assert!(
        d.replayed_reason.contains("onInvalidRole is rollback"),
        "{}",
        d.replayed_reason
    );
    // A change that does not touch the run changes nothing in it.
    let mut other = s.policy.clone();
    other.on_bake_failure = FailureResponse::Alert;
    assert!(replay(&s, Some(&other)).same());
}

#[tokio::test]
async fn the_story_names_the_rule_that_applied() {
    let s = invalid_role_run().await;
    let told = story(&s);
    assert_eq!(told.verdict, Verdict::Failed);
    assert_eq!(told.lines.len(), 2);
    assert_eq!(
        told.lines[1].rule,
        "INVALID_ROLE_FAILURE -> onInvalidRole: alert"
    );
    assert!(told.lines[0].rule.contains("deploy"), "{:?}", told.lines[0]);
    assert_eq!(told.quiet_polls, 2);
}

#[tokio::test]
async fn a_refused_start_records_why_and_replays() {
    // A freeze: the start refused, with the freeze as its evidence; the record alone replays it.
    let gs = stage();
    let event = with_input(json!({"freezeWindows": [
        {"name": "launch", "start": "2026-03-01T11:00:00Z", "end": "2026-03-01T13:00:00Z"}
    ]}));
    let s = start_with(&gs, &quiet_alarms(), &event).await;
    match &s.decisions.entries[..] {
        [Entry {
            evidence:
                Evidence::Start {
                    decision: StartDecision::Frozen { freeze },
                    ..
                },
            decided: Action::Alert,
            ..
        }] => assert_eq!(freeze.name.as_deref(), Some("launch")),
        other => panic!("{other:?}"),
    }
    assert!(replay(&s, None).same());
    // A firing bake alarm: named by its position in alarmNames (each name is stored once).
    let alarms = FakeAlarms::new()
        .with(super::safety::LATENCY, crate::bake::OK, T0)
        .with(super::safety::ERRORS, crate::bake::ALARM, T0);
    let s = start_with(&stage(), &alarms, &with_input(json!({"bake": bake(600)}))).await;
    match &s.decisions.entries[0].evidence {
        Evidence::Start {
            decision: StartDecision::AlarmFiring { alarm },
            facts,
        } => {
            assert_eq!(alarm.alarm, 1);
            assert_eq!(facts.alarms.as_ref().map(|a| a.states.len()), Some(2));
        }
        other => panic!("{other:?}"),
    }
    assert!(replay(&s, None).same());
    assert!(
        story(&s).lines[0].rule.contains(super::safety::ERRORS),
        "{:?}",
        story(&s).lines[0]
    );
}

#[tokio::test]
async fn a_bake_records_its_quiet_checks_as_a_count_and_its_end_in_full() {
    let gs = stage();
    let alarms = quiet_alarms();
    let s = start_with(&gs, &alarms, &with_input(json!({"bake": bake(180)}))).await;
    super::safety::complete(&gs, &s.deployment.deployment_id);
    let mut s = poll_at(&gs, &alarms, &s, minutes(4)).await;
    for m in 5..20 {
        if s.action != Action::Wait {
            break;
        }
        s = poll_at(&gs, &alarms, &s, minutes(m)).await;
    }
    assert_eq!(s.action, Action::Succeed);
    let kinds: Vec<&str> = s
        .decisions
        .entries
        .iter()
        .map(|e| e.evidence.kind())
        .collect();
    assert_eq!(kinds, ["start", "poll", "bake"]);
    assert!(
        s.decisions.quiet.bake_checks >= 2,
        "{:?}",
        s.decisions.quiet
    );
    assert!(replay(&s, None).same());
}

/// The widest record a run can carry: `MAX_ENTRIES` entries, each with every text at its bound in
/// four-byte characters.
fn widest_entry(i: usize) -> Entry {
    let wide = |n: usize| "\u{1F600}".repeat(n / 4);
    let at = T0 + Duration::seconds(i64::try_from(i).unwrap_or(0));
    let evidence = match i % 2 {
        0 => Evidence::Start {
            facts: StartFacts {
                snapshot_id: format!("Snapshot_{}", "9".repeat(120)),
                requested_latest: true,
                later_stage: true,
                approval: true,
                bake: true,
                own: Some(OwnDeployment {
                    deployment_id: "d".repeat(128),
                    state: DeploymentState::Failed,
                }),
                serving: Some(format!("Snapshot_{}", "8".repeat(120))),
                snapshot_deploying: true,
                abort_read: true,
                aborted_by: Some(wide(MAX_TEXT_BYTES)),
                alarms: Some(AlarmsSeen {
                    states: [("OK".to_owned(), 99), ("ALARM".to_owned(), 1)].into(),
                    firing: Some(FiringAlarm {
                        alarm: 99,
                        state: "INSUFFICIENT_DATA".into(),
                        reason: Some(wide(MAX_TEXT_BYTES)),
                    }),
                    unreadable: Some(wide(MAX_TEXT_BYTES)),
                    ignore_read_errors: true,
                }),
            },
            decision: StartDecision::Aborted {
                by: wide(MAX_TEXT_BYTES),
            },
        },
        _ => Evidence::Poll {
            phase: Phase::Deploy,
            seen: Seen {
                deployment_id: "d".repeat(128),
                state: DeploymentState::Failed,
                result_code: Some(ResultCode::UnspecifiedFailure),
                message: Some(wide(MAX_TEXT_BYTES)),
                last_updated: Some(at),
            },
            deadline: at,
            grace_end: at,
            aborted_by: Some(wide(MAX_TEXT_BYTES)),
            known_good: Some(format!("Snapshot_{}", "7".repeat(120))),
            outcome: Outcome::Failed,
        },
    };
    Entry {
        at,
        stage_name: "s".repeat(36),
        evidence,
        decided: Action::Rollback,
        reason: wide(4 * MAX_TEXT_BYTES),
    }
}

#[tokio::test]
async fn the_widest_record_keeps_the_largest_state_within_the_payload_limit() {
    // The largest state the gate builds (one stage baking on 100 alarms with the longest names,
    // all failing, rolled back), with the widest record a run can hold on top, and more pushed
    // than it keeps.
    let names: Vec<String> = (0..100)
        .map(|i| format!("{i:03}{}", "x".repeat(252)))
        .collect();
    let gs = stage();
    let alarms = FakeAlarms::new();
    for n in &names {
        alarms.set(n, crate::bake::OK, T0);
    }
    let s = start_with(
        &gs,
        &alarms,
        &with_input(
            json!({"bake": {"seconds": 600, "alarmNames": names, "checkIntervalSeconds": 60}}),
        ),
    )
    .await;
    super::safety::complete(&gs, &s.deployment.deployment_id);
    let s = poll_at(&gs, &alarms, &s, minutes(4)).await;
    for n in &names {
        alarms.set_with_reason(n, crate::bake::ALARM, minutes(5), &"r".repeat(1023));
    }
    let s = poll_at(&gs, &alarms, &s, minutes(5)).await;
    let mut s = rolled_back(&gs, &s, minutes(5)).await;
    let before = serde_json::to_vec(&s).unwrap_or_default().len();
    for i in 0..MAX_ENTRIES + 10 {
        s.decisions.push(widest_entry(i));
    }
    s.decisions.template_freeze_windows = crate::freeze::parse_windows(
        &json!([{"name": "x".repeat(64), "start": "2026-03-01T11:00:00Z", "end": "2026-03-01T13:00:00Z"}]),
        "w",
    )
    .unwrap_or_default();
    let bytes = serde_json::to_vec(&s).unwrap_or_default().len();
    eprintln!(
        "largest state: {before} B without the record, {bytes} B with the widest record ({} entries kept, {} dropped)",
        s.decisions.entries.len(),
        s.decisions.dropped
    );
    assert_eq!(s.decisions.entries.len(), MAX_ENTRIES);
    assert!(bytes < 256 * 1024 * 3 / 4, "state {bytes} bytes");
    // It still reads back as a state: the workflow's next task can parse it.
    let back: Result<GateState, _> =
        serde_json::from_slice(&serde_json::to_vec(&s).unwrap_or_default());
    assert!(back.is_ok(), "{back:?}");
}
