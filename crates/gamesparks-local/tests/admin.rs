//! The `/_emulator/` admin API and the `gamesparks-local` binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_gamesparks::operation::get_game::GetGameError;
use aws_sdk_gamesparks::operation::start_stage_deployment::StartStageDeploymentError;
use common::*;
use serde_json::json;

#[tokio::test]
async fn clock_endpoint_describes_virtual_time() {
    let server = start_demo(60.0).await;
    let c = admin_get(&server, "/_emulator/clock").await;
    assert_eq!(c["timeScale"], 60.0);
    let origin_ms = c["originUnixMillis"].as_i64().expect("originUnixMillis");
    let wall_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    assert!(
        (wall_ms - origin_ms).abs() < 60_000,
        "origin is server start"
    );
    let origin = c["origin"].as_str().expect("origin");
    let now = c["now"].as_str().expect("now");
    assert!(origin.ends_with('Z') && now.ends_with('Z'));
    assert!(now >= origin, "{now} < {origin}");

    tokio::time::sleep(Duration::from_millis(100)).await;
    let later = server.clock();
    let now_ms =
        time::OffsetDateTime::parse(&later.now, &time::format_description::well_known::Rfc3339)
            .expect("rfc3339")
            .unix_timestamp_nanos()
            / 1_000_000;
    // 100 real ms at 60x is at least 6 virtual seconds.
    assert!(now_ms - origin_ms as i128 >= 6_000, "{}", later.now);
}

#[tokio::test]
async fn counters_and_request_log() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;
    let tok = token("counters");
    for _ in 0..2 {
        gs.start_stage_deployment()
            .game_name(GAME)
            .stage_name("dev")
            .snapshot_id(SUCCEEDS)
            .client_token(&tok)
            .send()
            .await
            .expect("start");
    }
    // Each of the three failures below is counted by its type: that it is the failure meant
    // is checked here, so a counter that matches cannot be one of another failure.
    let conflict = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id(KNOWN_GOOD)
        .send()
        .await
        .expect_err("conflict")
        .into_service_error();
    assert!(
        matches!(conflict, StartStageDeploymentError::ConflictException(_)),
        "{conflict:?}"
    );
    let missing = gs
        .get_game()
        .game_name("nope")
        .send()
        .await
        .expect_err("404")
        .into_service_error();
    assert!(
        matches!(missing, GetGameError::ResourceNotFoundException(_)),
        "{missing:?}"
    );
    let unsigned = raw(&server, "GET", "/game", &[], "").await;
    assert_eq!(
        (unsigned.status, unsigned.header("x-amzn-errortype")),
        (403, Some("AccessDeniedException")),
        "{}",
        unsigned.body
    );

    let c = admin_get(&server, "/_emulator/counters").await;
    assert_eq!(c["deploymentsStarted"]["space-raiders/dev"]["DEPLOY"], 1);
    assert_eq!(c["deploymentsStarted"]["space-raiders/dev"]["UNDEPLOY"], 0);
    assert_eq!(c["idempotentReplays"]["space-raiders/dev"], 1);
    assert_eq!(c["conflicts"]["space-raiders/dev"], 1);
    assert_eq!(c["requestsByOperation"]["StartStageDeployment"], 3);
    assert_eq!(c["requestsByOperation"]["GetGame"], 1);
    assert_eq!(c["requestsByOperation"]["ListGames"], 1);
    assert_eq!(c["requestsTotal"], 5);
    assert_eq!(c["errorsByType"]["ConflictException"], 1);
    assert_eq!(c["errorsByType"]["ResourceNotFoundException"], 1);
    assert_eq!(c["errorsByType"]["AccessDeniedException"], 1);
    assert_eq!(c["faultsInjected"]["ThrottlingException"], 0);

    let log = admin_get(&server, "/_emulator/requests").await;
    let entries = log["requests"].as_array().expect("requests");
    assert_eq!(entries.len(), 5);
    let first = &entries[0];
    assert_eq!(first["operation"], "StartStageDeployment");
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/game/space-raiders/stage/dev/deployment");
    assert_eq!(first["status"], 200);
    assert_eq!(first["faultInjected"], false);
    assert!(first["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(first["requestId"].as_str().is_some_and(|t| t.len() == 36));
    assert_eq!(entries[2]["errorType"], "ConflictException");
    assert_eq!(entries[2]["status"], 409);
    assert_eq!(entries[4]["status"], 403);

    let since = admin_get(&server, "/_emulator/requests?since=3").await;
    assert_eq!(since["requests"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn faults_endpoint_changes_behaviour_at_run_time() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    let r = admin_post(
        &server,
        "/_emulator/faults",
        &json!({"operations": {"GetGame": {"serverErrorRate": 1.0}}, "latencyMs": {"min": 20, "max": 30}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let started = std::time::Instant::now();
    let err = gs.get_game().game_name(GAME).send().await.expect_err("500");
    assert_eq!(
        aws_sdk_gamesparks::error::ProvideErrorMetadata::code(&err.into_service_error()),
        Some("InternalServerException")
    );
    assert!(started.elapsed() >= Duration::from_millis(20));
    gs.list_games().send().await.expect("ListGames unaffected");
    let log = server.requests();
    assert!(
        log.iter().all(|e| (20..=30).contains(&e.latency_ms)),
        "{log:?}"
    );
    assert_eq!(server.counters().faults_injected["latency"], 2);

    let current = admin_get(&server, "/_emulator/faults").await;
    assert_eq!(current["operations"]["GetGame"]["serverErrorRate"], 1.0);

    let bad = admin_post(&server, "/_emulator/faults", &json!({"throttleRate": 3})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("throttleRate")));
    let bad = admin_post(&server, "/_emulator/faults", &json!({"trottleRate": 1})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("trottleRate")));
}

#[tokio::test]
async fn hang_fault_through_the_admin_api() {
    // A committed StartStageDeployment whose reply never comes: the client's attempt timeout
    // gives up, the retry replays the ClientToken, and there is one deployment.
    let server = start_demo(1.0).await;
    let r = admin_post(
        &server,
        "/_emulator/faults",
        &json!({"operations": {
            "StartStageDeployment": {"hang": {"count": 1, "afterCommit": true}},
            "GetGame": {"hang": {"count": 1, "ms": 300}}
        }}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let gs = timed_out_client(&server, Duration::from_secs(1)).await;
    let started = std::time::Instant::now();
    gs.get_game()
        .game_name(GAME)
        .send()
        .await
        .expect("answered late");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let tok = token("hung");
    let d = gs
        .start_stage_deployment()
        .game_name(GAME)
        .stage_name("dev")
        .snapshot_id(SUCCEEDS)
        .client_token(&tok)
        .send()
        .await
        .expect("the retry replays the token");
    assert!(d.stage_deployment().is_some());
    let counters = server.counters();
    assert_eq!(counters.faults_injected["hang"], 2);
    assert_eq!(
        counters.deployments_started["space-raiders/dev"]["DEPLOY"],
        1
    );
    // The budget is spent: the next call answers at once.
    gs.get_game().game_name(GAME).send().await.expect("GetGame");
    assert_eq!(server.counters().faults_injected["hang"], 2);
}

#[tokio::test]
async fn scenario_load_and_reset() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    gs.create_snapshot()
        .game_name(GAME)
        .send()
        .await
        .expect("CreateSnapshot");
    let r = admin_post(&server, "/_emulator/reset", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["scenario"], "demo");
    let snaps = gs
        .list_snapshots()
        .game_name(GAME)
        .send()
        .await
        .expect("ListSnapshots");
    assert_eq!(
        snaps.snapshots().unwrap_or_default().len(),
        6,
        "reset drops it"
    );
    assert_eq!(server.requests().len(), 1, "reset clears the log");

    let scenario = json!({
        "name": "tiny",
        "defaultOutcome": {"durationSeconds": 0, "pendingSeconds": 0},
        "games": [{
            "name": "tiny-game",
            "snapshots": [{"id": "Snapshot_2026-01-01T00:00:00.000Z"}],
            "stages": [{"name": "only", "role": "arn:aws:iam::123456789012:role/tiny"}]
        }]
    });
    let r = admin_post(&server, "/_emulator/scenario", &scenario).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"scenario": "tiny", "games": 1, "region": "us-east-1"})
    );
    let games = gs.list_games().send().await.expect("ListGames");
    assert_eq!(games.games().unwrap_or_default().len(), 1);
    // Zero-length outcomes complete within the StartStageDeployment call.
    let d = gs
        .start_stage_deployment()
        .game_name("tiny-game")
        .stage_name("only")
        .snapshot_id("Snapshot_2026-01-01T00:00:00.000Z")
        .send()
        .await
        .expect("start");
    assert_eq!(
        d.stage_deployment().and_then(|d| d.deployment_state()),
        Some(&aws_sdk_gamesparks::types::DeploymentState::Completed)
    );

    // Outcomes can be changed for a snapshot at run time.
    let r = admin_post(
        &server,
        "/_emulator/outcomes",
        &json!({"Snapshot_2026-01-01T00:00:00.000Z": {"result": "UNSPECIFIED_FAILURE", "durationSeconds": 0}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = gs
        .start_stage_deployment()
        .game_name("tiny-game")
        .stage_name("only")
        .snapshot_id("Snapshot_2026-01-01T00:00:00.000Z")
        .send()
        .await
        .expect("start");
    assert_eq!(
        d.stage_deployment()
            .and_then(|d| d.deployment_result())
            .and_then(|r| r.result_code()),
        Some(&aws_sdk_gamesparks::types::ResultCode::UnspecifiedFailure)
    );

    // `<snapshot>@<stage>` overrides the snapshot's outcome on that stage only.
    let r = admin_post(
        &server,
        "/_emulator/outcomes",
        &json!({"Snapshot_2026-01-01T00:00:00.000Z@only": {"result": "SUCCESS"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = gs
        .start_stage_deployment()
        .game_name("tiny-game")
        .stage_name("only")
        .snapshot_id("Snapshot_2026-01-01T00:00:00.000Z")
        .send()
        .await
        .expect("start");
    assert_eq!(
        d.stage_deployment()
            .and_then(|d| d.deployment_result())
            .and_then(|r| r.result_code()),
        Some(&aws_sdk_gamesparks::types::ResultCode::Success)
    );
    for bad in ["Snapshot_2026-01-01T00:00:00.000Z@", "nope@only"] {
        let r = admin_post(&server, "/_emulator/outcomes", &json!({bad: {}})).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }

    // A bad scenario is refused with the offending path, and the old state stays.
    let r = admin_post(
        &server,
        "/_emulator/scenario",
        &json!({"games": [{"name": "g", "stages": [{"name": "s", "role": "not-an-arn"}]}]}),
    )
    .await;
    assert_eq!(r.status, 400);
    let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains("games[0].stages[0].role"), "{msg}");
    gs.get_game()
        .game_name("tiny-game")
        .send()
        .await
        .expect("old scenario kept");

    let r = raw(&server, "GET", "/_emulator/nope", &[], "").await;
    assert_eq!(r.status, 404);
    assert!(r.header("x-amzn-requestid").is_some());
}

#[tokio::test]
async fn library_helpers_reflect_state() {
    let server = start_demo(1.0).await;
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert_ne!(server.addr().port(), 0);
    assert_eq!(server.scenario_name(), "demo");
    let health = admin_get(&server, "/_emulator/health").await;
    assert_eq!(health["status"], "ok");
    let scenario = admin_get(&server, "/_emulator/scenario").await;
    assert_eq!(scenario["name"], "demo");
    let url = server.url();
    server.shutdown().await;
    // After shutdown nothing listens there any more.
    let addr = url.trim_start_matches("http://").to_string();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// The binary prints its URL, serves, and exits cleanly on SIGTERM.
#[test]
fn binary_starts_prints_url_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gamesparks-local"))
        .args(["--port", "0", "--time-scale", "60", "--seed", "7"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("line");
    assert!(
        line.starts_with("gamesparks-local listening on http://127.0.0.1:")
            && line.contains("(scenario: demo, time scale: 60"),
        "{line}"
    );
    let port: u16 = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("port");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let body = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.write_all(b"GET /_emulator/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut buf = String::new();
        s.read_to_string(&mut buf).await.expect("read");
        buf
    });
    assert!(body.contains("\"timeScale\":60"), "{body}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            // Cleanup before failing: the panic below is the test's verdict, whatever kill says.
            let _ = child.kill();
            panic!("no exit within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn binary_rejects_a_bad_scenario_file() {
    let dir = std::env::temp_dir().join(format!("gsl-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("bad.json");
    std::fs::write(
        &path,
        r#"{"games": [{"name": "g", "snapshots": [{"id": "Snapshot_soon"}]}]}"#,
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_gamesparks-local"))
        .args(["--port", "0", "--scenario"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("games[0].snapshots[0].id"),
        "{stderr}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_gamesparks-local"))
        .args(["--scenario", "/nonexistent/scenario.json"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/scenario.json"));

    let help = Command::new(env!("CARGO_BIN_EXE_gamesparks-local"))
        .arg("--help")
        .output()
        .expect("run");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--port", "--host", "--scenario", "--time-scale", "--seed"] {
        assert!(text.contains(flag), "{text}");
    }
    // Cleanup of a temporary folder: a leftover does not change what was asserted.
    let _ = std::fs::remove_dir_all(&dir);
}
