//! What must hold after every simulated run, computed from what the world recorded: GameSparks'
//! deployments (who created each, when, how it ended), the SNS log, the abort requests, the
//! answers delivered, and the execution's own ending. Never from the gate's state alone: a gate
//! that lies consistently in its state and its message is still caught by what GameSparks did.

use std::collections::BTreeSet;

use serde_json::Value;
use stagegate::deployment::{Deployment, DeploymentAction, DeploymentState, ResultCode};
use stagegate::evidence::Evidence;
use stagegate::message::Message;
use stagegate::replay::replay;
use stagegate::starting::StartDecision;
use stagegate::state::GateState;
use stagegate::verdict::Verdict;
use time::OffsetDateTime;

use crate::run::{Ending, Record};
use crate::scenario::{Answer, Scenario};
use crate::world::{Event, World};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

/// The invariants, by name, with what each says (printed by `cargo xtask sim`).
pub const INVARIANTS: &[(&str, &str)] = &[
    ("ends", "the execution ends through the workflow (no uncaught error, no loop, no workflow timeout)"),
    ("one-ending", "at least one terminal message, all with one verdict, matching how the execution ended; or a loud NotificationLost"),
    ("watched", "every deployment the gate started is named in the run's message (unless the run ended ERROR)"),
    ("true-success", "SUCCEEDED only when the gate's own deployment of the requested snapshot completed on every stage; UNCHANGED only when the stage already served it and nothing was started"),
    ("no-start-in-freeze", "the gate never creates a deployment (other than a rollback) inside a freeze window"),
    ("rollback-target", "a rollback redeploys exactly what served the stage before the gate's deployment there"),
    ("policy-kept", "a failure the policy says to roll back is rolled back when the stage had a known-good snapshot"),
    ("abort-own", "an abort of another or an earlier run never ends this one ABORTED; an abort this run accepted ends it ABORTED (or a rollback it reports), and nothing new is deployed after it"),
    ("approval", "nothing is deployed on a stage that asks for approval without an approval delivered first"),
    ("blocked-truly", "BLOCKED only when another deployment held the stage or a bake alarm fired"),
    ("forged-never-answers", "an answer that did not come through the answer function (unsigned, signed for another run, its claim changed, a timeout before the expiry) never deploys, rejects or times out a stage"),
    ("exit-class", "a failed execution's error names the message's verdict, so the CLI's exit code (read from the error) and the page (the message's needsPerson) come from one class"),
    ("replays", "the run's decision record replays to the same decisions with today's core, and a run that started a deployment recorded the start that did"),
];

/// What the world looked like when the run began.
#[derive(Debug, Clone)]
pub struct Before {
    /// Messages published before the run (an earlier run's).
    pub messages: usize,
}

pub fn check(
    scenario: &Scenario,
    world: &World,
    record: &Record,
    before: &Before,
) -> Vec<Violation> {
    let mut v = vec![];
    let mut fail =
        |invariant: &'static str, detail: String| v.push(Violation { invariant, detail });
    let all = world.gs.all_deployments();
    let others = world.others();
    let invoked = world.created_by_invocation();
    // The gate's deployments in this run: created by its calls, since the run began.
    let gate: Vec<(String, Deployment)> = all
        .iter()
        .filter(|(_, d)| {
            d.action == Some(DeploymentAction::Deploy)
                && d.created.is_some_and(|c| c >= scenario.start)
                && !others.contains_key(&d.id)
                && invoked.contains_key(&d.id)
        })
        .cloned()
        .collect();
    let is_rollback = |d: &Deployment| d.snapshot_id.as_deref() != Some(scenario.resolved.as_str());
    let messages: Vec<Message> = world
        .sns
        .published()
        .iter()
        .skip(before.messages)
        .filter_map(|n| serde_json::from_str::<Message>(&n.message).ok())
        .filter(|m| m.gate.execution_id == scenario.execution_arn)
        .collect();
    let terminal: Vec<&Message> = messages
        .iter()
        .filter(|m| m.outcome != Verdict::AwaitingApproval)
        .collect();

    // ends
    let lost = matches!(&record.ending, Ending::Failed { error, .. } if error == "StageGate.NotificationFailed");
    match &record.ending {
        Ending::Succeeded | Ending::Failed { .. } => {}
        other => fail("ends", format!("{other:?}")),
    }
    // one-ending
    let outcome = terminal.first().map(|m| m.outcome);
    if !lost {
        match outcome {
            None if matches!(record.ending, Ending::Succeeded | Ending::Failed { .. }) => {
                fail("one-ending", "no terminal message was published".into())
            }
            Some(o) => {
                if let Some(m) = terminal.iter().find(|m| m.outcome != o) {
                    fail(
                        "one-ending",
                        format!(
                            "two verdicts for one run: {} and {}",
                            o.as_str(),
                            m.outcome.as_str()
                        ),
                    );
                }
                let succeeded = record.ending == Ending::Succeeded;
                if succeeded != o.is_success() {
                    fail(
                        "one-ending",
                        format!(
                            "the message says {} but the execution ended {:?}",
                            o.as_str(),
                            record.ending
                        ),
                    );
                }
            }
            None => {}
        }
    }
    let Some(outcome) = outcome else { return v };
    let Some(message) = terminal.first().copied() else {
        return v;
    };
    // exit-class: `stagegate follow` classes a failed run by the Fail state's error
    // (`Verdict::from_name`), the pager by the message; both must be the same verdict.
    if let (Ending::Failed { error, .. }, false) = (&record.ending, lost) {
        match Verdict::from_name(error) {
            Some(read) if read == outcome => {}
            read => fail(
                "exit-class",
                format!(
                    "the execution failed with {error} (the CLI reads {}) but the message says {}",
                    read.map_or("no verdict", Verdict::as_str),
                    outcome.as_str()
                ),
            ),
        }
    }
    // replays: `stagegate replay` re-decides the run from its own record alone.
    if let Some(state) = record
        .final_state
        .as_ref()
        .and_then(|s| serde_json::from_value::<GateState>(s.clone()).ok())
    {
        let replayed = replay(&state, None);
        for d in &replayed.differences {
            fail(
                "replays",
                format!(
                    "decision {} ({} on {}) was {} but replays as {}: {}",
                    d.index, d.kind, d.stage_name, d.recorded, d.replayed, d.replayed_reason
                ),
            );
        }
        let started = state.decisions.entries.iter().any(|e| {
            matches!(
                &e.evidence,
                Evidence::Start {
                    decision: StartDecision::Deploy | StartDecision::Reattach,
                    ..
                }
            )
        });
        if !gate.is_empty() && outcome != Verdict::Error && !started {
            fail(
                "replays",
                format!(
                    "the gate started {} deployment(s) but its record holds no start that deployed",
                    gate.len()
                ),
            );
        }
    }
    // watched
    if outcome != Verdict::Error {
        let named = named_ids(message);
        for (stage, d) in &gate {
            if !named.contains(&d.id) {
                fail(
                    "watched",
                    format!(
                        "{} ({} on {stage}, {}) was started by the gate but its {} message does not name it",
                        d.id,
                        d.snapshot_id.as_deref().unwrap_or("?"),
                        d.state,
                        outcome.as_str()
                    ),
                );
            }
        }
    }
    // true-success
    match outcome {
        Verdict::Succeeded => {
            for s in &scenario.stages {
                let done = gate.iter().any(|(stage, d)| {
                    stage == &s.name
                        && !is_rollback(d)
                        && d.state == DeploymentState::Completed
                        && d.result_code == Some(ResultCode::Success)
                });
                if !done {
                    fail(
                        "true-success",
                        format!(
                            "SUCCEEDED, but no deployment of the gate completed {} on {}",
                            scenario.resolved, s.name
                        ),
                    );
                }
            }
        }
        Verdict::Unchanged => {
            let first = scenario
                .stages
                .first()
                .map(|s| s.name.as_str())
                .unwrap_or("prod");
            let served = serving_before(&all, first, scenario.start);
            if served.as_deref() != Some(scenario.resolved.as_str()) || !gate.is_empty() {
                fail(
                    "true-success",
                    format!(
                        "UNCHANGED, but {first} served {} before the run and the gate started {} deployment(s)",
                        served.as_deref().unwrap_or("nothing"),
                        gate.len()
                    ),
                );
            }
        }
        _ => {}
    }
    // no-start-in-freeze, rollback-target
    for (stage, d) in &gate {
        let created = d.created.unwrap_or(scenario.start);
        if is_rollback(d) {
            let first = first_deploy_on(&gate, stage, &scenario.resolved);
            let before = first
                .map(|t| serving_before(&all, stage, t))
                .unwrap_or(None);
            if before.as_deref() != d.snapshot_id.as_deref() {
                fail(
                    "rollback-target",
                    format!(
                        "rollback {} redeployed {} on {stage}, but {} served it before the gate deployed there",
                        d.id,
                        d.snapshot_id.as_deref().unwrap_or("?"),
                        before.as_deref().unwrap_or("nothing")
                    ),
                );
            }
        } else if let Some((from, to)) = scenario
            .freezes
            .iter()
            .find(|(from, to)| *from <= created && created < *to)
        {
            fail(
                "no-start-in-freeze",
                format!(
                    "{} was created on {stage} at {} inside the freeze [{}, {})",
                    d.id,
                    stagegate::timefmt::rfc3339(created),
                    stagegate::timefmt::rfc3339(*from),
                    stagegate::timefmt::rfc3339(*to)
                ),
            );
        }
    }
    // policy-kept
    let stage = message.stage_name.clone().unwrap_or_default();
    let rule = match outcome {
        Verdict::Failed => {
            let code = message
                .deployment
                .as_ref()
                .and_then(|r| r.deployment_id.as_ref())
                .and_then(|id| all.iter().find(|(_, d)| &d.id == id))
                .and_then(|(_, d)| d.result_code.clone());
            Some(match code {
                Some(ResultCode::InvalidRoleFailure) => {
                    ("onInvalidRole", scenario.policy.on_invalid_role)
                }
                _ => (
                    "onUnspecifiedFailure",
                    scenario.policy.on_unspecified_failure,
                ),
            })
        }
        Verdict::BakeFailed => Some(("onBakeFailure", scenario.policy.on_bake_failure)),
        _ => None,
    };
    if let Some((rule, true)) = rule {
        let first = first_deploy_on(&gate, &stage, &scenario.resolved);
        let known_good = first
            .and_then(|t| serving_before(&all, &stage, t))
            .filter(|s| *s != scenario.resolved);
        if let Some(k) = known_good {
            fail(
                "policy-kept",
                format!("ended {} on {stage} though {rule} is rollback and {k} served the stage before the gate's deployment", outcome.as_str()),
            );
        }
    }
    // abort-own
    let own_abort = record.abort_accepted.clone();
    if outcome == Verdict::Aborted && own_abort.is_none() {
        fail(
            "abort-own",
            "ended ABORTED though nobody aborted this run (another's or an earlier run's request)"
                .into(),
        );
    }
    if let Some((at, phase)) = &own_abort {
        let decided_before = record.decided_at.is_some_and(|d| d <= *at);
        let ok = matches!(
            outcome,
            Verdict::Aborted
                | Verdict::RolledBack
                | Verdict::RollbackFailed
                | Verdict::TimedOut
                | Verdict::Error
        ) || (gate.is_empty() && phase != "APPROVAL");
        if !decided_before && !ok {
            fail(
                "abort-own",
                format!(
                    "accepted an abort in phase {phase} at {} but ended {}",
                    stagegate::timefmt::rfc3339(*at),
                    outcome.as_str()
                ),
            );
        }
        for (stage, d) in gate.iter().filter(|(_, d)| !is_rollback(d)) {
            if invoked.get(&d.id).is_some_and(|began| began > at) {
                fail(
                    "abort-own",
                    format!(
                        "{} deployed {} on {stage} after the run's abort was accepted",
                        d.id, scenario.resolved
                    ),
                );
            }
        }
    }
    // approval
    for (stage, d) in gate.iter().filter(|(_, d)| !is_rollback(d)) {
        let asks = scenario
            .stages
            .iter()
            .any(|s| &s.name == stage && s.approval_seconds.is_some());
        if !asks {
            continue;
        }
        let began = invoked.get(&d.id).copied().unwrap_or(scenario.start);
        let approved = record
            .delivered
            .iter()
            .any(|a| &a.stage == stage && a.answer == Answer::Approve && a.at <= began);
        if !approved {
            fail(
                "approval",
                format!(
                    "{} deployed {} on {stage} without an approval",
                    d.id, scenario.resolved
                ),
            );
        }
    }
    // forged-never-answers
    for f in &record.forged {
        let genuine = |want: Answer| {
            record
                .delivered
                .iter()
                .any(|a| a.stage == f.stage && a.answer == want)
        };
        let what = format!(
            "a forged {} of {} at {}",
            f.decision,
            f.stage,
            stagegate::timefmt::rfc3339(f.at)
        );
        match f.decision {
            "APPROVE" => {
                let deployed = gate.iter().any(|(stage, d)| {
                    stage == &f.stage
                        && !is_rollback(d)
                        && invoked.get(&d.id).is_some_and(|began| *began > f.at)
                });
                if deployed && !genuine(Answer::Approve) {
                    fail("forged-never-answers", format!("{what} deployed the stage"));
                }
            }
            // Another stage's genuine rejection may end the run REJECTED.
            "REJECT"
                if outcome == Verdict::Rejected
                    && !record.delivered.iter().any(|a| a.answer == Answer::Reject) =>
            {
                fail(
                    "forged-never-answers",
                    format!("{what} ended the run REJECTED"),
                );
            }
            "TIMED_OUT" if outcome == Verdict::ApprovalTimedOut => {
                // The gate may call a wait with less than its shortest (60 s) left timed out.
                let expires = terminal
                    .first()
                    .and_then(|m| m.approval.as_ref())
                    .map(|a| a.expires_at - time::Duration::seconds(60));
                if let (Some(expires), Some(decided)) = (expires, record.decided_at) {
                    if decided < expires {
                        fail(
                            "forged-never-answers",
                            format!("{what} ended the run APPROVAL_TIMED_OUT before its approval expired"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    // blocked-truly
    if outcome == Verdict::Blocked {
        let until = record.ended_at;
        // A run refused at its first task has no stage in its message: any of its stages.
        let on_stage = |s: &str| {
            if stage.is_empty() {
                scenario.stages.iter().any(|p| p.name == s)
            } else {
                s == stage
            }
        };
        let held = others.iter().any(|(id, (s, _))| {
            on_stage(s)
                && all
                    .iter()
                    .any(|(_, d)| &d.id == id && d.created.is_some_and(|c| c <= until))
        }) || all.iter().any(|(s, d)| {
            s == &stage && d.created.is_some_and(|c| c < scenario.start) && d.state.is_active()
        });
        let fired = scenario.events.iter().any(|(t, e)| {
            matches!(e, Event::Alarm { state: "ALARM", name } if name.split('-').next().is_some_and(on_stage))
                && *t <= until
        });
        if !held && !fired {
            fail(
                "blocked-truly",
                format!("ended BLOCKED on {stage} though no other deployment held it and no bake alarm fired"),
            );
        }
    }
    v
}

/// The deployment ids a message names.
fn named_ids(m: &Message) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for r in [&m.deployment, &m.rollback].into_iter().flatten() {
        if let Some(id) = &r.deployment_id {
            ids.insert(id.clone());
        }
        if let Some(id) = &r.rollback_of {
            ids.insert(id.clone());
        }
    }
    // Stages of a wave that passed carry their deployments.
    if let Ok(Value::Object(body)) = serde_json::to_value(m) {
        if let Some(stages) = body
            .get("wave")
            .and_then(|w| w.get("stages"))
            .and_then(Value::as_array)
        {
            for s in stages {
                if let Some(id) = s
                    .get("passed")
                    .and_then(|p| p.get("deploymentId"))
                    .and_then(Value::as_str)
                {
                    ids.insert(id.to_owned());
                }
            }
        }
    }
    ids
}

/// When the gate first deployed the requested snapshot on `stage`.
fn first_deploy_on(
    gate: &[(String, Deployment)],
    stage: &str,
    requested: &str,
) -> Option<OffsetDateTime> {
    gate.iter()
        .filter(|(s, d)| s == stage && d.snapshot_id.as_deref() == Some(requested))
        .filter_map(|(_, d)| d.created)
        .min()
}

/// What served `stage` just before `at`: the newest successful DEPLOY that ended before it. Read
/// from GameSparks' history directly (not with the core's reader the gate uses).
pub fn serving_before(
    all: &[(String, Deployment)],
    stage: &str,
    at: OffsetDateTime,
) -> Option<String> {
    all.iter()
        .filter(|(s, d)| {
            s == stage
                && d.action == Some(DeploymentAction::Deploy)
                && d.state == DeploymentState::Completed
                && d.result_code == Some(ResultCode::Success)
                && d.last_updated.is_some_and(|t| t < at)
        })
        .max_by_key(|(_, d)| d.last_updated)
        .and_then(|(_, d)| d.snapshot_id.clone())
}
