//! Every file in `events/` is a valid event for the function its name starts with (or, for
//! `*.invalid.json`, is rejected naming a field), so `cargo lambda invoke <fn> --data-file
//! events/<file>` never starts from a broken sample.

use serde_json::Value;
use stagegate::classify::Outcome;
use stagegate::clock::FixedClock;
use stagegate::deployment::{DeploymentAction, ResultCode};
use stagegate::fakes::{FakeAbortRequests, FakeAlarms, FakeGameSparks, FakeNotifier};
use stagegate::handlers::{self, notify, poll, rollback};
use stagegate::input::parse_start_event;
use stagegate::policy::{Action, Phase};
use stagegate::verdict::Verdict;
use time::OffsetDateTime;

fn events() -> Vec<(String, Value)> {
    let dir = stagegate_tests::repo_root().join("events");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, value));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 9,
        "expected the sample events, found {}",
        out.len()
    );
    out
}

#[tokio::test]
async fn every_sample_event_fits_its_function() {
    let now = OffsetDateTime::now_utc();
    for (name, event) in events() {
        let function = name.split('.').next().unwrap_or_default();
        let invalid = name.contains(".invalid.");
        match function {
            "start-deployment" | "execution-input" | "scheduler-input" => {
                let parsed = parse_start_event(&event);
                if invalid {
                    let err = parsed.err().unwrap_or_else(|| panic!("{name} accepted"));
                    assert!(err.field.starts_with("input."), "{name}: {err}");
                } else if let Err(e) = parsed {
                    panic!("{name}: {e}");
                }
            }
            "poll-deployment" | "rollback-deployment" => {
                let state = handlers::parse_state(&event).unwrap_or_else(|e| panic!("{name}: {e}"));
                let previous = state
                    .previous_snapshot_id
                    .clone()
                    .unwrap_or_else(|| panic!("{name}: a sample with a rollback target"));
                let gs = FakeGameSparks::new()
                    .with_snapshot(&previous, now)
                    .with_snapshot(&state.deployment.snapshot_id, now)
                    .with_history(
                        &state.stage_name,
                        &state.deployment.deployment_id,
                        &state.deployment.snapshot_id,
                        DeploymentAction::Deploy,
                        ResultCode::Success,
                        now,
                    );
                // Not just accepted: each sample does what its function is for.
                if function == "poll-deployment" {
                    let out = poll::handle(
                        &gs,
                        &FakeAlarms::new(),
                        &FakeAbortRequests::default(),
                        &event,
                        &FixedClock(now),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(out.deployment.outcome, Outcome::Succeeded, "{name}");
                    assert_eq!(out.action, Action::Succeed, "{name}: {}", out.reason);
                    assert_eq!(
                        out.deployment.attempt,
                        state.deployment.attempt + 1,
                        "{name}"
                    );
                } else {
                    let out = rollback::handle(&gs, &event, &FixedClock(now))
                        .await
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(out.phase, Phase::Rollback, "{name}");
                    let watch = out
                        .rollback
                        .unwrap_or_else(|| panic!("{name}: no rollback"));
                    assert_eq!(watch.snapshot_id, previous, "{name}");
                    assert_eq!(
                        watch.rollback_of.as_deref(),
                        Some(state.deployment.deployment_id.as_str()),
                        "{name}"
                    );
                    let started = gs.starts();
                    assert_eq!(started.len(), 1, "{name}: {started:?}");
                    assert_eq!(started[0].stage.stage_name, state.stage_name, "{name}");
                }
            }
            "notify-result" => {
                let sns = FakeNotifier::default();
                let out = notify::handle(&sns, &event, now)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                let want = match name.as_str() {
                    "notify-result.succeeded.json" => Verdict::Succeeded,
                    "notify-result.rolled-back.json" => Verdict::RolledBack,
                    "notify-result.caught-error.json" => Verdict::Error,
                    other => panic!("no expectation for {other}"),
                };
                assert_eq!(out.outcome, want, "{name}");
                assert_eq!(sns.published().len(), 1);
            }
            // The fleet workflow's input (`stagegate fleet run --input events/fleet-input.json`):
            // checked by the parser its Plan step and the CLI run, and a fleet of more than one
            // batch after its canaries, so the sample shows what a fleet is for.
            "fleet-input" => {
                let fleet = stagegate::input::fleet::parse_fleet(&event)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!fleet.canaries.is_empty(), "{name}: no canaries");
                assert!(
                    fleet.games.len() > fleet.canaries.len() + 1,
                    "{name}: {} games",
                    fleet.games.len()
                );
            }
            // The fleet workflow's Plan step as its ASL invokes fleet-step: every game known to
            // GameSparks, so it plans (the canary's batch first) and writes one object per batch.
            "fleet-step" => {
                let games = stagegate::fakes::FakeGameCatalog::new(
                    ["puzzle-quest", "space-raiders", "moon-golf", "other"],
                    100,
                );
                let bucket = stagegate::fakes::FakeRecords::new();
                let config = handlers::fleet::FleetConfig {
                    bucket: "fleet-bucket".into(),
                    max_concurrency: 100,
                    start_rate: 10,
                };
                let out = handlers::fleet::handle(
                    &games,
                    &bucket,
                    &FakeNotifier::default(),
                    &config,
                    &event,
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(out["route"], "batch", "{name}: {out}");
                assert!(
                    bucket.objects().len() >= 2,
                    "{name}: the canary's batch and the rest: {:?}",
                    bucket.objects()
                );
            }
            // A function URL request as Lambda delivers it; `.unsigned`: without the IAM
            // identity AuthType AWS_IAM adds, so it is refused before any call.
            "answer-approval" => {
                let waits = stagegate::fakes::FakeApprovalWaits::new();
                let keys = stagegate::fakes::FakeAnswerKeys::new();
                let reply = handlers::answer::handle(
                    &waits,
                    &keys,
                    || Ok([7; 32]),
                    &event,
                    &FixedClock(now),
                )
                .await;
                assert!(name.contains(".unsigned."), "no expectation for {name}");
                assert_eq!(reply.status, 403, "{name}: {reply:?}");
                assert!(waits.sent().is_empty() && keys.value().is_none(), "{name}");
            }
            other => panic!("{name}: no function named {other}"),
        }
    }
}
