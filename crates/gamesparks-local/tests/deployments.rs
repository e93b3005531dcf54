//! Deployment lifecycle, UNDEPLOY recording, conflicts, idempotency and pagination through the
//! real SDK.

mod common;

use std::time::Duration;

use aws_sdk_gamesparks::error::ProvideErrorMetadata;
use aws_sdk_gamesparks::operation::list_stage_deployments::ListStageDeploymentsError;
use aws_sdk_gamesparks::operation::start_stage_deployment::StartStageDeploymentError;
use aws_sdk_gamesparks::types::{DeploymentAction, DeploymentState, ResultCode};
use common::*;
use gamesparks_local::Scenario;
use serde_json::json;
use tokio_stream::StreamExt;

async fn start(gs: &aws_sdk_gamesparks::Client, stage: &str, snapshot: &str) -> String {
    gs.start_stage_deployment()
        .game_name(GAME)
        .stage_name(stage)
        .snapshot_id(snapshot)
        .send()
        .await
        .expect("StartStageDeployment")
        .stage_deployment()
        .and_then(|d| d.deployment_id())
        .expect("DeploymentId")
        .to_string()
}

#[tokio::test]
async fn successful_deployment_completes_and_records_undeploy() {
    // Demo outcome: 5 s pending + 60 s in progress = 65 virtual s = ~0.1 real s at 600x.
    let server = start_demo(600.0).await;
    let gs = client(&server).await;

    let started = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id(SUCCEEDS)
        .send()
        .await
        .expect("StartStageDeployment");
    let d = started.stage_deployment().expect("StageDeployment");
    let id = d.deployment_id().expect("id").to_string();
    assert!(id.starts_with("dep-") && id.len() == 20, "{id}");
    assert_eq!(d.deployment_action(), Some(&DeploymentAction::Deploy));
    assert_eq!(d.deployment_state(), Some(&DeploymentState::Pending));
    assert_eq!(d.snapshot_id(), Some(SUCCEEDS));
    assert!(d.deployment_result().is_none());
    let created = d.created().expect("Created").as_nanos();

    let done = wait_terminal(&gs, "dev", &id, Duration::from_secs(10)).await;
    assert_eq!(done.deployment_state(), Some(&DeploymentState::Completed));
    assert_eq!(
        done.deployment_result().and_then(|r| r.result_code()),
        Some(&ResultCode::Success)
    );
    // LastUpdated is the virtual completion time: exactly 65 s after Created.
    let finished = done.last_updated().expect("LastUpdated").as_nanos();
    assert_eq!(finished - created, 65_000_000_000);

    // Latest deployment without an id is the one just made.
    let latest = gs
        .get_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .send()
        .await
        .expect("GetStageDeployment latest");
    assert_eq!(
        latest.stage_deployment().and_then(|d| d.deployment_id()),
        Some(id.as_str())
    );

    let list = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("dev")
        .send()
        .await
        .expect("ListStageDeployments");
    let items = list.stage_deployments().unwrap_or_default();
    // Newest first: the UNDEPLOY of the replaced runtime, the new DEPLOY, then seeded history.
    assert_eq!(items.len(), 5);
    assert_eq!(
        items[0].deployment_action(),
        Some(&DeploymentAction::Undeploy)
    );
    assert_eq!(items[0].snapshot_id(), Some(KNOWN_GOOD));
    assert_eq!(
        items[0].deployment_state(),
        Some(&DeploymentState::Completed)
    );
    assert_eq!(
        items[0].deployment_result().and_then(|r| r.result_code()),
        Some(&ResultCode::Success)
    );
    assert_eq!(
        items[0].last_updated().map(|t| t.as_nanos()),
        Some(finished)
    );
    assert_eq!(items[1].deployment_id(), Some(id.as_str()));
    assert_eq!(
        items[2].deployment_action(),
        Some(&DeploymentAction::Undeploy)
    );
    assert_eq!(items[3].snapshot_id(), Some(KNOWN_GOOD));

    // A second deployment replaces SUCCEEDS in turn.
    let second = start(&gs, "dev", KNOWN_GOOD).await;
    wait_terminal(&gs, "dev", &second, Duration::from_secs(10)).await;
    let list = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("dev")
        .send()
        .await
        .expect("ListStageDeployments");
    let first = &list.stage_deployments().unwrap_or_default()[0];
    assert_eq!(first.deployment_action(), Some(&DeploymentAction::Undeploy));
    assert_eq!(first.snapshot_id(), Some(SUCCEEDS));

    let counters = server.counters();
    assert_eq!(
        counters.deployments_started["space-raiders/dev"]["DEPLOY"],
        2
    );
    assert_eq!(
        counters.deployments_started["space-raiders/dev"]["UNDEPLOY"],
        2
    );
}

#[tokio::test]
async fn failed_deployments_report_result_codes_and_keep_runtime() {
    let server = start_demo(600.0).await;
    let gs = client(&server).await;

    let dev = start(&gs, "dev", UNSPECIFIED).await;
    let prod = start(&gs, "prod", INVALID_ROLE).await;
    let dev_done = wait_terminal(&gs, "dev", &dev, Duration::from_secs(10)).await;
    let prod_done = wait_terminal(&gs, "prod", &prod, Duration::from_secs(10)).await;

    assert_eq!(dev_done.deployment_state(), Some(&DeploymentState::Failed));
    let r = dev_done.deployment_result().expect("result");
    assert_eq!(r.result_code(), Some(&ResultCode::UnspecifiedFailure));
    assert!(
        r.message()
            .is_some_and(|m| m.contains("unexpected error") && m.contains(UNSPECIFIED)),
        "{r:?}"
    );

    assert_eq!(prod_done.deployment_state(), Some(&DeploymentState::Failed));
    let r = prod_done.deployment_result().expect("result");
    assert_eq!(r.result_code(), Some(&ResultCode::InvalidRoleFailure));
    assert!(
        r.message().is_some_and(|m| m.contains(
            "arn:aws:iam::123456789012:role/GameSparksSpaceRaidersProd cannot be assumed by GameSparks"
        )),
        "{r:?}"
    );

    // Failures do not replace the runtime: no UNDEPLOY entry.
    let list = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("prod")
        .send()
        .await
        .expect("ListStageDeployments");
    let actions: Vec<_> = list
        .stage_deployments()
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.deployment_action().cloned())
        .collect();
    assert_eq!(
        actions,
        [DeploymentAction::Deploy, DeploymentAction::Deploy]
    );
}

#[tokio::test]
async fn never_finishing_deployment_blocks_the_stage() {
    let server = start_demo(600.0).await;
    let gs = client(&server).await;

    let id = start(&gs, "dev", NEVER_FINISHES).await;
    // 0.3 real s = 180 virtual s: well past any finite demo outcome.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let d = gs
        .get_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .deployment_id(&id)
        .send()
        .await
        .expect("GetStageDeployment");
    let d = d.stage_deployment().expect("StageDeployment");
    assert_eq!(d.deployment_state(), Some(&DeploymentState::InProgress));
    assert!(d.deployment_result().is_none());

    let err = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id(KNOWN_GOOD)
        .send()
        .await
        .expect_err("stage is busy");
    let err = err.into_service_error();
    assert!(
        matches!(err, StartStageDeploymentError::ConflictException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains(&id)), "{err:?}");

    // Another stage is unaffected.
    start(&gs, "prod", KNOWN_GOOD).await;
    assert_eq!(server.counters().conflicts["space-raiders/dev"], 1);
}

#[tokio::test]
async fn client_token_idempotency() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;
    let tok = token("release-2026-11-26");

    let send = |stage: &'static str, snapshot: &'static str, tok: String| {
        let gs = gs.clone();
        async move {
            gs.start_stage_deployment()
                .game_name(GAME)
                .stage_name(stage)
                .snapshot_id(snapshot)
                .client_token(tok)
                .send()
                .await
        }
    };

    let a = send("dev", SUCCEEDS, tok.clone()).await.expect("first");
    let b = send("dev", SUCCEEDS, tok.clone()).await.expect("replay");
    let id_a = a.stage_deployment().and_then(|d| d.deployment_id());
    assert!(id_a.is_some());
    assert_eq!(id_a, b.stage_deployment().and_then(|d| d.deployment_id()));
    assert_eq!(
        a.stage_deployment().and_then(|d| d.created()),
        b.stage_deployment().and_then(|d| d.created())
    );

    // Same token, different snapshot: ConflictException, and nothing new is started.
    let err = send("dev", KNOWN_GOOD, tok.clone())
        .await
        .expect_err("token reuse")
        .into_service_error();
    assert!(
        matches!(err, StartStageDeploymentError::ConflictException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains("ClientToken")));
    // Same token, different stage: also a different request.
    let err = send("prod", SUCCEEDS, tok.clone())
        .await
        .expect_err("token reuse on another stage")
        .into_service_error();
    assert!(matches!(
        err,
        StartStageDeploymentError::ConflictException(_)
    ));

    let list = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("dev")
        .send()
        .await
        .expect("ListStageDeployments");
    assert_eq!(list.stage_deployments().unwrap_or_default().len(), 4);

    let c = server.counters();
    assert_eq!(c.deployments_started["space-raiders/dev"]["DEPLOY"], 1);
    assert_eq!(c.idempotent_replays["space-raiders/dev"], 1);
}

fn history_scenario(n: usize) -> Scenario {
    let deployments: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "id": format!("dep-hist-{i:03}"),
                "snapshotId": "Snapshot_2026-10-01T00:00:00.000Z",
                "state": if i % 3 == 0 { "FAILED" } else { "COMPLETED" },
                "created": format!("-{}h", n - i),
            })
        })
        .collect();
    let stages: Vec<_> = (0..12)
        .map(|i| json!({"name": format!("stage-{i:02}"), "role": "arn:aws:iam::123456789012:role/r"}))
        .collect();
    let mut stages = stages;
    stages[0]["deployments"] = json!(deployments);
    Scenario::from_json_value(json!({
        "name": "history",
        "games": [{
            "name": GAME,
            "snapshots": [{"id": "Snapshot_2026-10-01T00:00:00.000Z"}],
            "stages": stages
        }]
    }))
    .expect("scenario")
}

#[tokio::test]
async fn pagination_walks_pages_and_rejects_tampered_tokens() {
    let server = start_with(history_scenario(25), 1.0).await;
    let gs = client(&server).await;

    // Default page size 10: 10 + 10 + 5, newest first.
    let p1 = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("stage-00")
        .send()
        .await
        .expect("page 1");
    let items = p1.stage_deployments().unwrap_or_default();
    assert_eq!(items.len(), 10);
    assert_eq!(items[0].deployment_id(), Some("dep-hist-024"));
    let t1 = p1.next_token().expect("NextToken").to_string();

    let p2 = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("stage-00")
        .next_token(&t1)
        .send()
        .await
        .expect("page 2");
    assert_eq!(
        p2.stage_deployments().unwrap_or_default()[0].deployment_id(),
        Some("dep-hist-014")
    );

    // The SDK paginator with MaxResults 7 sees all 25 exactly once.
    let all: Vec<_> = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("stage-00")
        .max_results(7)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    let ids: Vec<_> = all.iter().filter_map(|d| d.deployment_id()).collect();
    let expected: Vec<String> = (0..25).rev().map(|i| format!("dep-hist-{i:03}")).collect();
    assert_eq!(ids, expected);
    let failed = all
        .iter()
        .filter(|d| d.deployment_state() == Some(&DeploymentState::Failed))
        .count();
    assert_eq!(failed, 9);

    // Stages paginate too (12 stages, default page 10).
    let pages: Vec<_> = gs
        .list_stages()
        .game_name(GAME)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("stages");
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].stages().unwrap_or_default().len(), 2);

    // A modified token is a ValidationException naming NextToken.
    let mut tampered = t1.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for bad in [
        tampered.as_str(),
        "not-a-token",
        "djF8MDAwMHxkZXAtaGlzdC0wMTU",
    ] {
        let err = gs
            .list_stage_deployments()
            .game_name(GAME)
            .stage_name("stage-00")
            .next_token(bad)
            .send()
            .await
            .expect_err("tampered token")
            .into_service_error();
        assert!(
            matches!(err, ListStageDeploymentsError::ValidationException(_)),
            "{err:?}"
        );
        assert!(
            err.message().is_some_and(|m| m.contains("NextToken")),
            "{err:?}"
        );
    }

    // A token from another list is rejected as well.
    let err = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("stage-01")
        .next_token(&t1)
        .send()
        .await
        .expect_err("foreign token")
        .into_service_error();
    assert!(matches!(
        err,
        ListStageDeploymentsError::ValidationException(_)
    ));
}

#[tokio::test]
async fn pagination_is_stable_when_new_deployments_arrive() {
    let server = start_with(history_scenario(15), 600.0).await;
    let gs = client(&server).await;
    let p1 = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("stage-00")
        .max_results(5)
        .send()
        .await
        .expect("page 1");
    let token = p1.next_token().expect("token").to_string();
    // A new deployment lands at the head of the list between pages.
    gs.start_stage_deployment()
        .game_name(GAME)
        .stage_name("stage-00")
        .snapshot_id("Snapshot_2026-10-01T00:00:00.000Z")
        .send()
        .await
        .expect("start");
    let p2 = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("stage-00")
        .max_results(5)
        .next_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(
        p2.stage_deployments().unwrap_or_default()[0].deployment_id(),
        Some("dep-hist-009")
    );
}
