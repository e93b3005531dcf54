//! The four handlers with the real aws-sdk-gamesparks adapter, against the emulator over HTTP
//! (SigV4, restJson1, ISO timestamps, error headers, SDK retries), one test per route.

use gamesparks_local::scenario::ResultCode;
use gamesparks_local::{FaultConfig, Outcome};
use serde_json::{json, Value};
use stagegate::clock::FixedClock;
use stagegate::verdict::Verdict;
use stagegate_tests::gate::{emulator, run_gate, Emulated};

const V10: &str = gamesparks_local::scenario::demo_snapshots::KNOWN_GOOD;
const V11: &str = gamesparks_local::scenario::demo_snapshots::DEPLOYS;
const V12: &str = gamesparks_local::scenario::demo_snapshots::UNSPECIFIED_FAILURE;
const V121: &str = gamesparks_local::scenario::demo_snapshots::INVALID_ROLE;
const V13: &str = gamesparks_local::scenario::demo_snapshots::NEVER_FINISHES;
const PROD: &str = "space-raiders/prod";

/// 600 virtual seconds per real second: a 60 s deployment takes 0.1 s.
const SCALE: f64 = 600.0;

fn input(snapshot: &str) -> Value {
    json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": snapshot})
}

fn deploys(env: &Emulated, stage: &str) -> u64 {
    env.server
        .counters()
        .deployments_started
        .get(stage)
        .and_then(|c| c.get("DEPLOY"))
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn success_deploys_the_snapshot() {
    let env = emulator(SCALE, 1).await;
    let run = run_gate(&env, "exec-success", input(V11)).await;
    assert_eq!(run.output.outcome, Verdict::Succeeded, "{:?}", run.output);
    assert!(run.output.succeeded);
    let state = run
        .final_state
        .as_ref()
        .unwrap_or_else(|| panic!("no state"));
    assert_eq!(state.previous_snapshot_id.as_deref(), Some(V10));
    assert_eq!(
        state.deployment.result_code,
        Some(stagegate::deployment::ResultCode::Success)
    );
    assert!(run.count("Poll") >= 2, "{:?}", run.tasks);
    assert_eq!(run.count("Rollback"), 0);
    assert_eq!(deploys(&env, PROD), 1);
    let counters = env.server.counters();
    assert_eq!(
        counters.deployments_started[PROD].get("UNDEPLOY"),
        Some(&1),
        "v1.0 replaced"
    );
    let body = run.body().unwrap_or_else(|e| panic!("{e}"));
    let deployment = body.deployment.as_ref().expect("a deployment");
    assert_eq!(deployment.snapshot_id, V11);
    assert!(deployment.finished_at.is_some(), "{deployment:?}");
    assert_eq!(run.notifications.len(), 1);
}

#[tokio::test]
async fn invalid_role_alerts_without_rollback() {
    let env = emulator(SCALE, 2).await;
    let run = run_gate(&env, "exec-role", input(V121)).await;
    assert_eq!(run.output.outcome, Verdict::Failed);
    assert_eq!(run.output.error, "StageGate.FAILED");
    assert!(
        run.output.cause.contains("INVALID_ROLE_FAILURE"),
        "{}",
        run.output.cause
    );
    assert!(
        run.output.cause.contains("cannot be assumed"),
        "GameSparks' message: {}",
        run.output.cause
    );
    assert_eq!(run.count("Rollback"), 0);
    assert_eq!(deploys(&env, PROD), 1);
    assert_eq!(
        run.notifications[0].attributes["resultCode"],
        "INVALID_ROLE_FAILURE"
    );
}

#[tokio::test]
async fn unspecified_failure_rolls_back_to_known_good() {
    let env = emulator(SCALE, 3).await;
    let run = run_gate(&env, "exec-rollback", input(V12)).await;
    assert_eq!(run.output.outcome, Verdict::RolledBack, "{:?}", run.output);
    assert_eq!(run.count("Rollback"), 1);
    let state = run
        .final_state
        .as_ref()
        .unwrap_or_else(|| panic!("no state"));
    let rollback = state
        .rollback
        .as_ref()
        .unwrap_or_else(|| panic!("no rollback"));
    assert_eq!(rollback.snapshot_id, V10);
    assert_eq!(
        rollback.rollback_of.as_deref(),
        Some(state.deployment.deployment_id.as_str())
    );
    assert_eq!(
        rollback.result_code,
        Some(stagegate::deployment::ResultCode::Success)
    );
    assert_eq!(deploys(&env, PROD), 2, "the deployment and its rollback");
    assert!(
        run.output.cause.contains(&format!("Rolled back to {V10}")),
        "{}",
        run.output.cause
    );
    assert!(
        run.output.cause.contains("An unexpected error occurred"),
        "{}",
        run.output.cause
    );
    let body = run.body().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        body.rollback.as_ref().map(|r| r.snapshot_id.as_str()),
        Some(V10)
    );
}

#[tokio::test]
async fn unspecified_failure_without_known_good_alerts() {
    let env = emulator(SCALE, 4).await;
    let failing = Outcome {
        result: Some(ResultCode::UnspecifiedFailure),
        ..Outcome::default()
    };
    env.server
        .set_outcome(V10, &failing)
        .unwrap_or_else(|e| panic!("{e}"));
    // Redeploying v1.0 on prod: the only known-good deployment is the snapshot itself.
    let run = run_gate(&env, "exec-no-good", input(V10)).await;
    assert_eq!(run.output.outcome, Verdict::Failed);
    assert!(
        run.output.cause.contains("no known-good snapshot"),
        "{}",
        run.output.cause
    );
    assert_eq!(run.count("Rollback"), 0);
    assert_eq!(deploys(&env, PROD), 1);
}

#[tokio::test]
async fn stuck_deployment_is_watched_through_its_grace_window_then_alerts() {
    let env = emulator(SCALE, 5).await;
    let mut stuck = input(V13);
    stuck["policy"] = json!({"timeoutSeconds": 300});
    let run = run_gate(&env, "exec-stuck", stuck).await;
    // GameSparks has no cancel: a rollback would be refused while the stuck deployment holds the
    // stage, so the gate watches it through the grace window and then hands it to a person.
    assert_eq!(run.output.outcome, Verdict::TimedOut, "{:?}", run.output);
    let state = run
        .final_state
        .as_ref()
        .unwrap_or_else(|| panic!("no state"));
    assert_eq!(state.deployment.outcome.as_str(), "TIMED_OUT");
    assert!(
        run.output.cause.contains("at the end of its grace window"),
        "{}",
        run.output.cause
    );
    assert_eq!(run.count("Rollback"), 0);
    assert_eq!(deploys(&env, PROD), 1);

    let env = emulator(SCALE, 6).await;
    let mut alert = input(V13);
    alert["policy"] = json!({"timeoutSeconds": 300, "onTimeout": "alert"});
    let run = run_gate(&env, "exec-stuck-alert", alert).await;
    assert_eq!(run.output.outcome, Verdict::TimedOut);
    assert_eq!(run.count("Rollback"), 0);
}

#[tokio::test]
async fn heavy_throttling_gives_the_same_result_with_one_deployment() {
    for (seed, snapshot, want) in [(7, V11, Verdict::Succeeded), (8, V12, Verdict::RolledBack)] {
        let env = emulator(SCALE, seed).await;
        env.server
            .set_faults(FaultConfig {
                throttle_rate: 0.5,
                server_error_after_commit_rate: 0.3,
                ..FaultConfig::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let run = run_gate(&env, &format!("exec-throttled-{seed}"), input(snapshot)).await;
        assert_eq!(
            run.output.outcome, want,
            "{:?} {:?}",
            run.output, run.caught
        );
        let expected = if want == Verdict::RolledBack { 2 } else { 1 };
        assert_eq!(
            deploys(&env, PROD),
            expected,
            "exactly one deployment per start"
        );
        let counters = env.server.counters();
        assert!(
            counters.faults_injected["ThrottlingException"] > 5,
            "{:?}",
            counters.faults_injected
        );
    }
}

#[tokio::test]
async fn second_gate_on_a_busy_stage_is_blocked() {
    let env = emulator(SCALE, 9).await;
    let mut stuck = input(V13);
    stuck["policy"] = json!({"timeoutSeconds": 7200});
    // Start the first gate's deployment, then run a second gate on the same stage.
    let first = json!({"input": stuck, "execution": {"Id": "exec-first"}});
    stagegate::handlers::start::handle(
        &env.deployments,
        &stagegate::fakes::FakeAlarms::new(),
        &first,
        "r",
        &FixedClock(env.server.virtual_now()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let run = run_gate(&env, "exec-second", input(V11)).await;
    assert_eq!(run.output.outcome, Verdict::Blocked);
    assert_eq!(
        run.caught.as_ref().map(|c| c.0.as_str()),
        Some("StageGate.DeploymentInProgress")
    );
    assert!(
        run.output
            .cause
            .contains("another deployment holds the stage"),
        "{}",
        run.output.cause
    );
    assert_eq!(deploys(&env, PROD), 1);
}

#[tokio::test]
async fn invalid_input_never_reaches_gamesparks() {
    let env = emulator(SCALE, 10).await;
    let run = run_gate(
        &env,
        "exec-invalid",
        json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": "Snapshot_yesterday"}),
    )
    .await;
    assert_eq!(run.output.outcome, Verdict::Error);
    assert_eq!(run.tasks, vec!["Start", "NotifyError"]);
    assert!(
        run.output.cause.contains("input.snapshotId"),
        "{}",
        run.output.cause
    );
    assert_eq!(env.server.counters().requests_total, 0);
    assert_eq!(run.notifications[0].attributes["stageName"], "prod");
}

#[tokio::test]
async fn access_denied_on_the_stage_alerts() {
    let env = emulator(SCALE, 11).await;
    env.server
        .set_faults(FaultConfig {
            access_denied_stages: vec![PROD.into()],
            ..FaultConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let run = run_gate(&env, "exec-denied", input(V11)).await;
    assert_eq!(run.output.outcome, Verdict::Error);
    assert_eq!(
        run.caught.as_ref().map(|c| c.0.as_str()),
        Some("StageGate.AccessDenied")
    );
    assert_eq!(run.count("Start"), 1, "access denied is not retried");
    assert_eq!(deploys(&env, PROD), 0);
}

#[tokio::test]
async fn latest_resolves_to_the_newest_snapshot() {
    let env = emulator(SCALE, 12).await;
    v13_succeeds_after(&env, None);
    let run = run_gate(&env, "exec-latest", input("latest")).await;
    assert_eq!(run.output.outcome, Verdict::Succeeded, "{:?}", run.output);
    let state = run
        .final_state
        .as_ref()
        .unwrap_or_else(|| panic!("no state"));
    assert_eq!(state.deployment.snapshot_id, V13);
    assert_eq!(state.requested_snapshot_id, "latest");
}

#[tokio::test]
async fn a_late_success_is_rolled_back_by_on_timeout() {
    // V13 deploys fine but takes 400 s against a 300 s timeout: the gate watches it through the
    // grace window, sees it go live late, and the default onTimeout (rollback) undoes it.
    let env = emulator(SCALE, 13).await;
    v13_succeeds_after(&env, Some(400.0));
    let mut late = input(V13);
    late["policy"] = json!({"timeoutSeconds": 300});
    let run = run_gate(&env, "exec-late", late).await;
    assert_eq!(run.output.outcome, Verdict::RolledBack, "{:?}", run.output);
    assert!(
        run.output.cause.contains("after the deadline"),
        "{}",
        run.output.cause
    );
    assert_eq!(
        deploys(&env, PROD),
        2,
        "the late deployment and the rollback"
    );
}

#[tokio::test]
async fn latest_already_serving_ends_unchanged() {
    // The first nightly run deploys the newest snapshot; the next night finds nothing new.
    let env = emulator(SCALE, 14).await;
    v13_succeeds_after(&env, None);
    let first = run_gate(&env, "exec-first-latest", input("latest")).await;
    assert_eq!(
        first.output.outcome,
        Verdict::Succeeded,
        "{:?}",
        first.output
    );
    let again = run_gate(&env, "exec-second-latest", input("latest")).await;
    assert_eq!(
        again.output.outcome,
        Verdict::Unchanged,
        "{:?}",
        again.output
    );
    assert!(again.output.succeeded);
    assert_eq!(deploys(&env, PROD), 1, "the second run deployed nothing");
}

#[tokio::test]
async fn hung_calls_are_ridden_out_with_one_deployment() {
    // StartStageDeployment commits and then never answers; GetStageDeployment hangs once too.
    // The SDK's attempt timeout abandons each, its retry replays the ClientToken or reads again,
    // and the run ends as it would have without the hangs, with exactly one deployment.
    let env = emulator(SCALE, 15).await;
    let faults: FaultConfig = serde_json::from_value(json!({"operations": {
        "StartStageDeployment": {"hang": {"count": 1, "afterCommit": true}},
        "GetStageDeployment": {"hang": {"count": 1}}
    }}))
    .unwrap_or_else(|e| panic!("{e}"));
    env.server
        .set_faults(faults)
        .unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let run = run_gate(&env, "exec-hung", input(V11)).await;
    assert_eq!(run.output.outcome, Verdict::Succeeded, "{:?}", run.output);
    assert_eq!(deploys(&env, PROD), 1, "exactly one deployment");
    assert_eq!(env.server.counters().faults_injected["hang"], 2);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "each hang costs one attempt timeout, not a function timeout: {:?}",
        started.elapsed()
    );
}

/// V13 (which never finishes in the demo scenario) succeeds instead, after `seconds` in progress
/// (the emulator's default when None).
fn v13_succeeds_after(env: &Emulated, seconds: Option<f64>) {
    let outcome = Outcome {
        result: Some(ResultCode::Success),
        never_finish: Some(false),
        duration_seconds: seconds,
        ..Outcome::default()
    };
    env.server
        .set_outcome(V13, &outcome)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The demo scenario with `extra` failed deployments of v1.2 on prod after its v1.0, and a page
/// size of 100: what serves prod is only on the last page of its history.
fn long_history(extra: usize) -> gamesparks_local::scenario::Scenario {
    let mut scenario: Value =
        serde_json::from_str(gamesparks_local::scenario::Scenario::demo_json())
            .unwrap_or_else(|e| panic!("demo scenario: {e}"));
    scenario["defaultPageSize"] = json!(100);
    let prod = scenario["games"][0]["stages"]
        .as_array_mut()
        .and_then(|stages| stages.iter_mut().find(|s| s["name"] == "prod"))
        .unwrap_or_else(|| panic!("no prod stage"));
    let deployments = prod["deployments"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("no prod deployments"));
    for i in 0..extra {
        deployments.push(json!({
            "id": format!("dep-000000000a{i:06x}"),
            "snapshotId": V12,
            "action": "DEPLOY",
            "state": "FAILED",
            "result": "UNSPECIFIED_FAILURE",
            "created": format!("2026-11-05T{:02}:{:02}:00Z", i / 60, i % 60),
            "durationSeconds": 30
        }));
    }
    gamesparks_local::scenario::Scenario::from_json_value(scenario)
        .unwrap_or_else(|e| panic!("long history: {e}"))
}

#[tokio::test]
async fn a_history_longer_than_a_page_is_read_to_its_end() {
    // 120 failed attempts since v1.0 went live: v1.0 still serves prod, and the SDK adapter must
    // follow NextToken to the second page to know it.
    let env = gamesparks_local_env(long_history(120)).await;
    let run = run_gate(&env, "exec-long-history", input(V12)).await;
    assert_eq!(run.output.outcome, Verdict::RolledBack, "{:?}", run.output);
    let state = run
        .final_state
        .as_ref()
        .unwrap_or_else(|| panic!("no state"));
    assert_eq!(state.previous_snapshot_id.as_deref(), Some(V10));
    let listings = env
        .server
        .counters()
        .requests_by_operation
        .get("ListStageDeployments")
        .copied()
        .unwrap_or(0);
    assert!(
        listings >= 2,
        "{listings} ListStageDeployments requests: no second page read"
    );
}

async fn gamesparks_local_env(scenario: gamesparks_local::scenario::Scenario) -> Emulated {
    stagegate_tests::gate::emulator_with(scenario, SCALE, 11).await
}

#[tokio::test]
async fn wire_errors_map_to_their_kinds() {
    use stagegate::error::types;
    use stagegate::fakes::{FakeAbortRequests, FakeAlarms};
    use stagegate::handlers::{poll, start};

    // Nothing listens: a refused connection is a transport error, retried by the workflow.
    let refused = stagegate_tests::gate::adapter_at("http://127.0.0.1:9").await;
    let event = json!({"input": input(V11), "execution": {"Id": "exec-refused"}});
    let clock = FixedClock(time::OffsetDateTime::now_utc());
    let err = start::handle(&refused, &FakeAlarms::new(), &event, "r", &clock)
        .await
        .err()
        .unwrap_or_else(|| panic!("started with nothing listening"));
    assert_eq!(err.error_type(), types::RETRYABLE, "{err}");

    // A deployment GameSparks does not know, well after its start: NotFound, not retried.
    let env = emulator(SCALE, 12).await;
    let event = json!({"input": input(V11), "execution": {"Id": "exec-wire"}});
    let now = env.server.virtual_now();
    let mut state = start::handle(
        &env.deployments,
        &FakeAlarms::new(),
        &event,
        "r",
        &FixedClock(now),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    state.deployment.deployment_id = "dep-0000000000ffffff".into();
    state.deployment.started_at = now - time::Duration::minutes(10);
    let value = serde_json::to_value(&state).unwrap_or_default();
    let poll_error = || async {
        poll::handle(
            &env.deployments,
            &FakeAlarms::new(),
            &FakeAbortRequests::default(),
            &value,
            &FixedClock(now),
        )
        .await
        .err()
        .map(|e| (e.error_type(), e.to_string()))
    };
    let err = poll_error().await;
    assert_eq!(err.as_ref().map(|e| e.0), Some(types::NOT_FOUND), "{err:?}");

    // GameSparks failing with 500s past the SDK's retries: retryable for the workflow.
    env.server
        .set_faults(FaultConfig {
            server_error_rate: 1.0,
            ..FaultConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let err = poll_error().await;
    assert_eq!(err.as_ref().map(|e| e.0), Some(types::RETRYABLE), "{err:?}");
}
