//! Every error type, as the real SDK maps it, plus fault injection, SigV4 presence and retries.

mod common;

use aws_sdk_gamesparks::error::ProvideErrorMetadata;
use aws_sdk_gamesparks::operation::get_game::GetGameError;
use aws_sdk_gamesparks::operation::get_snapshot::GetSnapshotError;
use aws_sdk_gamesparks::operation::get_stage::GetStageError;
use aws_sdk_gamesparks::operation::get_stage_deployment::GetStageDeploymentError;
use aws_sdk_gamesparks::operation::list_games::ListGamesError;
use aws_sdk_gamesparks::operation::list_stage_deployments::ListStageDeploymentsError;
use aws_sdk_gamesparks::operation::start_stage_deployment::StartStageDeploymentError;
use aws_sdk_gamesparks::operation::RequestId;
use common::*;
use gamesparks_local::FaultConfig;
use serde_json::json;

#[tokio::test]
async fn validation_errors_name_the_field() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    let err = gs
        .get_game()
        .game_name("no spaces allowed")
        .send()
        .await
        .expect_err("bad name")
        .into_service_error();
    assert!(
        matches!(err, GetGameError::ValidationException(_)),
        "{err:?}"
    );
    let msg = err.message().unwrap_or_default().to_string();
    assert!(
        msg.contains("'GameName'") && msg.contains("^[a-zA-Z0-9_-]+$"),
        "{msg}"
    );
    assert_eq!(err.code(), Some("ValidationException"));

    let err = gs
        .get_game()
        .game_name("a".repeat(37))
        .send()
        .await
        .expect_err("too long")
        .into_service_error();
    assert!(err
        .message()
        .is_some_and(|m| m.contains("length less than or equal to 36")));

    // The SDK leaves MaxResults=0 out of the query string, so 0 is covered by a raw request below.
    for n in [-1, 101] {
        let err = gs
            .list_games()
            .max_results(n)
            .send()
            .await
            .expect_err("MaxResults out of range")
            .into_service_error();
        assert!(
            matches!(err, ListGamesError::ValidationException(_)),
            "{err:?}"
        );
        assert!(err.message().is_some_and(|m| m.contains("'MaxResults'")));
    }

    let err = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id("Snapshot_yesterday")
        .client_token("too-short")
        .send()
        .await
        .expect_err("bad snapshot id and token")
        .into_service_error();
    assert!(
        matches!(err, StartStageDeploymentError::ValidationException(_)),
        "{err:?}"
    );
    let msg = err.message().unwrap_or_default().to_string();
    assert!(msg.starts_with("2 validation errors detected"), "{msg}");
    assert!(
        msg.contains("'SnapshotId'") && msg.contains("'ClientToken'"),
        "{msg}"
    );

    let err = gs
        .get_snapshot()
        .game_name(GAME)
        .snapshot_id(KNOWN_GOOD)
        .sections("bad section!")
        .send()
        .await
        .expect_err("bad section")
        .into_service_error();
    assert!(
        matches!(err, GetSnapshotError::ValidationException(_)),
        "{err:?}"
    );

    let err = gs
        .get_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .deployment_id(" padded ")
        .send()
        .await
        .expect_err("bad deployment id")
        .into_service_error();
    assert!(
        matches!(err, GetStageDeploymentError::ValidationException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains("'DeploymentId'")));
}

#[tokio::test]
async fn unknown_resources_are_not_found() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    let err = gs
        .get_game()
        .game_name("no-such-game")
        .send()
        .await
        .expect_err("unknown game")
        .into_service_error();
    assert!(
        matches!(err, GetGameError::ResourceNotFoundException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains("no-such-game")));
    assert!(err.request_id().is_some_and(|id| id.len() == 36));

    let err = gs
        .get_stage()
        .game_name(GAME)
        .stage_name("staging")
        .send()
        .await
        .expect_err("unknown stage")
        .into_service_error();
    assert!(
        matches!(err, GetStageError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    let err = gs
        .get_snapshot()
        .game_name(GAME)
        .snapshot_id("Snapshot_2020-01-01T00:00:00.000Z")
        .send()
        .await
        .expect_err("unknown snapshot")
        .into_service_error();
    assert!(
        matches!(err, GetSnapshotError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    let err = gs
        .get_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .deployment_id("dep-ffffffffffffffff")
        .send()
        .await
        .expect_err("unknown deployment")
        .into_service_error();
    assert!(
        matches!(err, GetStageDeploymentError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    let err = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id("Snapshot_2020-01-01T00:00:00.000Z")
        .send()
        .await
        .expect_err("unknown snapshot")
        .into_service_error();
    assert!(
        matches!(err, StartStageDeploymentError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    let err = gs
        .list_stage_deployments()
        .game_name("no-such-game")
        .stage_name("dev")
        .send()
        .await
        .expect_err("unknown game")
        .into_service_error();
    assert!(
        matches!(err, ListStageDeploymentsError::ResourceNotFoundException(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn access_denied_for_a_stage() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;
    server
        .set_faults(FaultConfig {
            access_denied_stages: vec!["space-raiders/prod".into()],
            ..FaultConfig::default()
        })
        .expect("faults");

    let err = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("prod")
        .snapshot_id(KNOWN_GOOD)
        .send()
        .await
        .expect_err("denied")
        .into_service_error();
    assert!(
        matches!(err, StartStageDeploymentError::AccessDeniedException(_)),
        "{err:?}"
    );
    assert!(
        err.message().is_some_and(
            |m| m.contains("gamesparks:StartStageDeployment") && m.contains("stage/prod")
        )
    );
    let err = gs
        .get_stage_deployment()
        .game_name(GAME)
        .stage_name("prod")
        .send()
        .await
        .expect_err("denied")
        .into_service_error();
    assert!(matches!(
        err,
        GetStageDeploymentError::AccessDeniedException(_)
    ));
    let err = gs
        .get_stage()
        .game_name(GAME)
        .stage_name("prod")
        .send()
        .await
        .expect_err("denied")
        .into_service_error();
    assert!(matches!(err, GetStageError::AccessDeniedException(_)));
    let err = gs
        .list_stage_deployments()
        .game_name(GAME)
        .stage_name("prod")
        .send()
        .await
        .expect_err("denied")
        .into_service_error();
    assert!(matches!(
        err,
        ListStageDeploymentsError::AccessDeniedException(_)
    ));

    // Other stages and game-level operations still work.
    gs.get_stage()
        .game_name(GAME)
        .stage_name("dev")
        .send()
        .await
        .expect("dev allowed");
    gs.list_stages()
        .game_name(GAME)
        .send()
        .await
        .expect("ListStages allowed");
    assert_eq!(
        server.counters().faults_injected["AccessDeniedException"],
        4
    );
}

#[tokio::test]
async fn throttling_and_internal_errors_surface_without_retries() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    server
        .set_faults(FaultConfig {
            throttle_rate: 1.0,
            ..FaultConfig::default()
        })
        .expect("faults");
    let err = gs
        .list_games()
        .send()
        .await
        .expect_err("throttled")
        .into_service_error();
    assert!(
        matches!(err, ListGamesError::ThrottlingException(_)),
        "{err:?}"
    );
    let err = gs
        .get_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .send()
        .await
        .expect_err("throttled")
        .into_service_error();
    assert!(matches!(
        err,
        GetStageDeploymentError::ThrottlingException(_)
    ));

    server
        .set_faults(FaultConfig {
            server_error_rate: 1.0,
            ..FaultConfig::default()
        })
        .expect("faults");
    let err = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id(SUCCEEDS)
        .send()
        .await
        .expect_err("500")
        .into_service_error();
    assert!(
        matches!(err, StartStageDeploymentError::InternalServerException(_)),
        "{err:?}"
    );
    // A pre-execution fault changes nothing.
    assert_eq!(
        server
            .counters()
            .deployments_started
            .get("space-raiders/dev")
            .map_or(0, |m| m["DEPLOY"]),
        0
    );

    let c = server.counters();
    assert_eq!(c.faults_injected["ThrottlingException"], 2);
    assert_eq!(c.faults_injected["InternalServerException"], 1);
    let log = server.requests();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| e.fault_injected));
    assert_eq!(log[0].status, 429);
    assert_eq!(log[2].status, 500);
    assert_eq!(
        log[2].error_type.as_deref(),
        Some("InternalServerException")
    );
}

#[tokio::test]
async fn per_operation_faults_and_sdk_retries() {
    let server = start_demo(1.0).await;
    let faults: FaultConfig = serde_json::from_value(json!({
        "operations": {"ListGames": {"throttleRate": 1.0}}
    }))
    .expect("faults");
    server.set_faults(faults).expect("faults");
    let gs = retrying_client(&server, 3).await;

    // The standard retry policy tries throttled calls 3 times in total, then gives up.
    let err = gs
        .list_games()
        .send()
        .await
        .expect_err("always throttled")
        .into_service_error();
    assert!(
        matches!(err, ListGamesError::ThrottlingException(_)),
        "{err:?}"
    );
    let attempts = server
        .requests()
        .iter()
        .filter(|e| e.operation == "ListGames")
        .count();
    assert_eq!(attempts, 3);

    // Other operations are not affected.
    gs.get_game().game_name(GAME).send().await.expect("GetGame");
}

#[tokio::test]
async fn server_error_after_commit_then_retry_with_client_token() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;
    server
        .set_faults(FaultConfig {
            server_error_after_commit_rate: 1.0,
            ..FaultConfig::default()
        })
        .expect("faults");
    let tok = token("ambiguous");
    let err = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id(SUCCEEDS)
        .client_token(&tok)
        .send()
        .await
        .expect_err("500 after commit")
        .into_service_error();
    assert!(matches!(
        err,
        StartStageDeploymentError::InternalServerException(_)
    ));

    server.set_faults(FaultConfig::default()).expect("faults");
    // The deployment exists; a retry with the same token returns it instead of conflicting.
    let replay = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id(SUCCEEDS)
        .client_token(&tok)
        .send()
        .await
        .expect("replay");
    let latest = gs
        .get_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .send()
        .await
        .expect("latest");
    assert_eq!(
        replay.stage_deployment().and_then(|d| d.deployment_id()),
        latest.stage_deployment().and_then(|d| d.deployment_id())
    );
    assert_eq!(
        server.counters().faults_injected["InternalServerExceptionAfterCommit"],
        1
    );
}

#[tokio::test]
async fn requests_without_sigv4_are_denied() {
    let server = start_demo(1.0).await;

    let r = raw(&server, "GET", "/game", &[], "").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-amzn-errortype"), Some("AccessDeniedException"));
    assert!(r.header("x-amzn-requestid").is_some_and(|v| v.len() == 36));
    assert!(r.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("Signature Version 4")));

    let r = raw(
        &server,
        "POST",
        "/game/space-raiders/stage/dev/deployment",
        &[
            ("Authorization", "Bearer abc"),
            ("Content-Type", "application/json"),
        ],
        &json!({"SnapshotId": SUCCEEDS}).to_string(),
    )
    .await;
    assert_eq!(r.status, 403);

    // Any AWS4-HMAC-SHA256 header is accepted (signatures are not verified).
    let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/gamesparks/aws4_request, SignedHeaders=host, Signature=00";
    let r = raw(
        &server,
        "GET",
        "/game?MaxResults=1",
        &[("Authorization", auth)],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["Games"].as_array().map(Vec::len), Some(1));
    assert!(body["NextToken"].is_string());

    let r = raw(
        &server,
        "GET",
        "/game?MaxResults=0",
        &[("Authorization", auth)],
        "",
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("'MaxResults'")));

    // Unknown routes are answered like AWS does, with an error type and request id.
    let r = raw(&server, "GET", "/games", &[("Authorization", auth)], "").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("UnknownOperationException")
    );
    assert!(r.header("x-amzn-requestid").is_some());

    // Malformed bodies are validation errors, not crashes.
    let r = raw(
        &server,
        "POST",
        "/game/space-raiders/stage/dev/deployment",
        &[("Authorization", auth)],
        "{not json",
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-amzn-errortype"), Some("ValidationException"));
}
